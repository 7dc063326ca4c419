//! The monitor against real servers: following a log on Redis while a real worker writes it
//! (over HTTP and through `fbs logs -f --monitor`), the OpenAPI document checked by
//! schemathesis against a live monitor, and Chromium driving the web UI.

mod browser;
mod follow;
mod schema;
mod server;
