//! Transfer progress in the job log: one line at most every few seconds while a file is sent,
//! and one when it is done.

use std::time::{Duration, Instant};

use fbs_core::joblog::LogSink;

/// The progress of sending one file.
#[derive(Debug)]
pub struct Progress {
    name: String,
    total: u64,
    sent: u64,
    from: u64,
    started: Instant,
    last: Instant,
    every: Duration,
}

impl Progress {
    /// A transfer of `total` bytes of `name`, starting at byte `from` (a resumed one).
    pub fn new(name: &str, total: u64, from: u64, every: Duration) -> Self {
        let now = Instant::now();
        Progress {
            name: name.to_owned(),
            total,
            sent: from,
            from,
            started: now,
            last: now,
            every,
        }
    }

    /// `n` more bytes went out; logs a line when the last one is `every` old.
    pub fn advance(&mut self, n: u64, log: &dyn LogSink) {
        self.sent += n;
        if self.last.elapsed() >= self.every {
            self.last = Instant::now();
            log.fbs(&format!("ftp: {} {}", self.name, self.line()));
        }
    }

    /// The transfer ended.
    pub fn done(&self, log: &dyn LogSink) {
        log.fbs(&format!("ftp: sent {} ({})", self.name, self.line()));
    }

    fn line(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = (self.sent - self.from) as f64 / secs;
        let pct = if self.total == 0 {
            100.0
        } else {
            self.sent as f64 * 100.0 / self.total as f64
        };
        format!(
            "{} of {} ({pct:.0}%), {}/s",
            size(self.sent as f64),
            size(self.total as f64),
            size(rate)
        )
    }
}

/// `1.5 GiB`, `12.0 MiB`, `512 B`.
pub fn size(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(512.0), "512 B");
        assert_eq!(size(1536.0 * 1024.0 * 1024.0), "1.5 GiB");
    }
}
