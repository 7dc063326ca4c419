//! Progress: per-host work sends events ([`Progress`]) to one renderer task, which draws one
//! line per host (indicatif) on a terminal, or prints plain `host: message` lines otherwise.
//! Progress goes to stderr; the summary table goes to stdout.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How progress is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Lines per host on a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// Plain lines.
    Plain,
    /// Nothing.
    Quiet,
}

#[derive(Debug)]
enum Event {
    Step(String, String),
    Done(String, bool, String),
}

/// Where per-host work reports what it is doing.
#[derive(Debug, Clone)]
pub struct Progress {
    tx: Option<mpsc::UnboundedSender<Event>>,
}

impl Progress {
    /// Reports that go nowhere.
    pub fn quiet() -> Self {
        Progress { tx: None }
    }

    /// `host` is now doing `msg`.
    pub fn step(&self, host: &str, msg: &str) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Event::Step(host.to_owned(), msg.to_owned()));
        }
    }

    /// `host` is finished.
    pub fn done(&self, host: &str, ok: bool, msg: &str) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Event::Done(host.to_owned(), ok, msg.to_owned()));
        }
    }
}

/// The renderer; [`Renderer::finish`] waits until it has drawn everything.
#[derive(Debug)]
pub struct Renderer {
    handle: Option<JoinHandle<()>>,
}

impl Renderer {
    /// Stop taking events (all [`Progress`] clones must be dropped) and wait for the last draw.
    pub async fn finish(mut self, progress: Progress) {
        drop(progress);
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

/// Start the renderer for `hosts`.
pub fn start(hosts: &[String], mode: Mode) -> (Progress, Renderer) {
    let fancy = match mode {
        Mode::Quiet => return (Progress::quiet(), Renderer { handle: None }),
        Mode::Plain => false,
        Mode::Auto => std::io::stderr().is_terminal(),
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = if fancy {
        tokio::spawn(fancy_loop(hosts.to_vec(), rx))
    } else {
        tokio::spawn(plain_loop(rx))
    };
    (
        Progress { tx: Some(tx) },
        Renderer {
            handle: Some(handle),
        },
    )
}

async fn plain_loop(mut rx: mpsc::UnboundedReceiver<Event>) {
    while let Some(e) = rx.recv().await {
        match e {
            Event::Step(h, m) => eprintln!("{h}: {m}"),
            Event::Done(h, ok, m) => eprintln!("{h}: {} {m}", if ok { "done:" } else { "FAILED:" }),
        }
    }
}

async fn fancy_loop(hosts: Vec<String>, mut rx: mpsc::UnboundedReceiver<Event>) {
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let width = hosts.iter().map(String::len).max().unwrap_or(4);
    let style =
        ProgressStyle::with_template(&format!("{{spinner}} {{prefix:<{width}}}  {{wide_msg}}"))
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let mut bars: BTreeMap<String, ProgressBar> = BTreeMap::new();
    for h in &hosts {
        let b = multi.add(ProgressBar::new_spinner());
        b.set_style(style.clone());
        b.set_prefix(h.clone());
        b.set_message("waiting");
        b.enable_steady_tick(Duration::from_millis(120));
        bars.insert(h.clone(), b);
    }
    while let Some(e) = rx.recv().await {
        match e {
            Event::Step(h, m) => {
                if let Some(b) = bars.get(&h) {
                    b.set_message(m);
                }
            }
            Event::Done(h, ok, m) => {
                if let Some(b) = bars.get(&h) {
                    b.finish_with_message(format!("{} {m}", if ok { "ok:" } else { "FAILED:" }));
                }
            }
        }
    }
    for b in bars.values() {
        if !b.is_finished() {
            b.finish();
        }
    }
    drop(bars);
    drop(multi);
    // The last bar leaves the cursor at its end; the summary starts on a line of its own.
    eprintln!();
}
