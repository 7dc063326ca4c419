//! Job logs: the line type every stage and tool writes, and the sinks that store lines
//! (the job's own file, memory for tests and mail tails, fan-out to several sinks).
//!
//! Build output never goes through `tracing`: diagnostics and build logs stay apart.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// A tool's standard output.
    Stdout,
    /// A tool's standard error.
    Stderr,
    /// fbs itself (stage boundaries, warnings, decisions).
    Fbs,
}

impl LogStream {
    /// The short tag written in log files.
    pub fn tag(self) -> &'static str {
        match self {
            LogStream::Stdout => "out",
            LogStream::Stderr => "err",
            LogStream::Fbs => "fbs",
        }
    }
}

/// One line of a job log, timestamped when it was read or written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When the line was produced.
    pub ts: DateTime<Utc>,
    /// Which stream it came from.
    pub stream: LogStream,
    /// The text, without its line terminator.
    pub text: String,
}

impl LogLine {
    /// A line stamped now.
    pub fn now(stream: LogStream, text: impl Into<String>) -> Self {
        LogLine {
            ts: Utc::now(),
            stream,
            text: text.into(),
        }
    }
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.ts.to_rfc3339_opts(SecondsFormat::Millis, true),
            self.stream.tag(),
            self.text
        )
    }
}

/// Something that stores job log lines. Writing must not fail the build: sinks report their
/// own I/O problems through `tracing` and carry on.
pub trait LogSink: Send + Sync {
    /// Store one line.
    fn write(&self, line: &LogLine);

    /// Convenience: a line from fbs itself.
    fn fbs(&self, text: &str) {
        self.write(&LogLine::now(LogStream::Fbs, text));
    }
}

/// A shared, dynamically typed sink.
pub type SharedSink = Arc<dyn LogSink>;

/// Appends lines to the job's log file, one `Display`ed [`LogLine`] per line.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    file: Mutex<File>,
}

impl FileSink {
    /// Open (create or append to) the log file at `path`.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(FileSink {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl LogSink for FileSink {
    fn write(&self, line: &LogLine) {
        let mut file = match self.file.lock() {
            Ok(f) => f,
            Err(poisoned) => poisoned.into_inner(),
        };
        // One write(2) per line: `writeln!` on a `File` makes one per formatted piece.
        if let Err(e) = file.write_all(format!("{line}\n").as_bytes()) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot write job log");
        }
    }
}

/// Keeps the last `cap` lines in memory (tests, and the log tail in completion mails).
#[derive(Debug)]
pub struct MemorySink {
    cap: usize,
    lines: Mutex<VecDeque<LogLine>>,
}

impl MemorySink {
    /// A sink that keeps at most `cap` lines.
    pub fn new(cap: usize) -> Self {
        MemorySink {
            cap,
            lines: Mutex::new(VecDeque::new()),
        }
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> Vec<LogLine> {
        match self.lines.lock() {
            Ok(l) => l.iter().cloned().collect(),
            Err(p) => p.into_inner().iter().cloned().collect(),
        }
    }

    /// The texts kept, oldest first.
    pub fn texts(&self) -> Vec<String> {
        self.lines().into_iter().map(|l| l.text).collect()
    }
}

impl LogSink for MemorySink {
    fn write(&self, line: &LogLine) {
        let mut lines = match self.lines.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        };
        if lines.len() == self.cap {
            lines.pop_front();
        }
        lines.push_back(line.clone());
    }
}

/// Sends every line to several sinks.
#[derive(Default)]
pub struct Tee(Vec<SharedSink>);

impl fmt::Debug for Tee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tee({} sinks)", self.0.len())
    }
}

impl Tee {
    /// A tee over `sinks`.
    pub fn new(sinks: Vec<SharedSink>) -> Self {
        Tee(sinks)
    }
}

impl LogSink for Tee {
    fn write(&self, line: &LogLine) {
        for s in &self.0 {
            s.write(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sink_keeps_the_last_lines() {
        let s = MemorySink::new(2);
        for t in ["a", "b", "c"] {
            s.write(&LogLine::now(LogStream::Stdout, t));
        }
        assert_eq!(s.texts(), vec!["b", "c"]);
    }

    #[test]
    fn file_sink_appends_tagged_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("job.log");
        let s = FileSink::open(&p).expect("open");
        s.fbs("stage prepare");
        s.write(&LogLine::now(LogStream::Stderr, "oops"));
        let text = std::fs::read_to_string(&p).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].ends_with(" fbs stage prepare"), "{}", lines[0]);
        assert!(lines[1].ends_with(" err oops"), "{}", lines[1]);
    }
}
