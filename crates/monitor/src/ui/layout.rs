//! The frame of every page: viewport meta for phones, the stylesheet, the script, the menu.

use maud::{DOCTYPE, Markup, html};

/// A whole page titled `title` around `body`; `who` is the logged-in token name.
pub fn page(title: &str, who: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · fbs" }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                header {
                    nav {
                        a.brand href="/" { "fbs" }
                        a href="/" { "Jobs" }
                        a href="/submit" { "Submit" }
                        a href="/workers" { "Workers" }
                        a href="/queues" { "Queues" }
                        span.grow {}
                        @match who {
                            Some(w) => { span.who { (w) } }
                            None => { a href="/login" { "Log in" } }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A state badge.
pub fn badge(state: &str) -> Markup {
    html! { span class={ "badge s-" (state) } { (state) } }
}
