//! The monitor against real servers: following a log on Redis while a real worker writes it
//! (over HTTP and through `fbs logs -f --monitor`), the OpenAPI document checked by
//! schemathesis against a live monitor, Chromium driving the web UI, and the notifier
//! mailing each event once through the test SMTP server.

mod browser;
mod cli;
mod follow;
mod notify;
mod schema;
mod server;
