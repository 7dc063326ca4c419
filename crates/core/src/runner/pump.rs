//! Moving a running command's output into the job log as it arrives, and its input in.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::lines::{Capture, LineSplitter, MAX_LINE_BYTES, Tail};
use crate::joblog::{LogLine, LogSink, LogStream};

/// `\r`-only progress output is logged at most this often (its last state always is).
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// What the output pumps collect besides the log: the tail and the stdout capture.
#[derive(Debug)]
pub(crate) struct Collected {
    pub(crate) tail: Tail,
    pub(crate) capture: Option<Capture>,
}

/// Read `reader` to its end, logging each line as `stream` and recording it in `collected`.
pub(crate) async fn pump<R: AsyncRead + Unpin>(
    mut reader: R,
    stream: LogStream,
    sink: &dyn LogSink,
    collected: &Mutex<Collected>,
) {
    let mut splitter = LineSplitter::new(MAX_LINE_BYTES);
    let mut buf = vec![0u8; 16 * 1024];
    let mut lines = Vec::new();
    let mut last_progress = Instant::now();
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => splitter.feed(&buf[..n], &mut lines),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                sink.fbs(&format!("cannot read the command's {}: {e}", stream.tag()));
                break;
            }
        }
        if last_progress.elapsed() >= PROGRESS_EVERY
            && let Some(p) = splitter.take_progress()
        {
            lines.push(p);
            last_progress = Instant::now();
        }
        emit(&mut lines, stream, sink, collected);
    }
    splitter.finish(&mut lines);
    emit(&mut lines, stream, sink, collected);
}

fn emit(
    lines: &mut Vec<String>,
    stream: LogStream,
    sink: &dyn LogSink,
    collected: &Mutex<Collected>,
) {
    if lines.is_empty() {
        return;
    }
    {
        let mut c = match collected.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        for l in lines.iter() {
            c.tail.push(l);
            if stream == LogStream::Stdout
                && let Some(cap) = c.capture.as_mut()
            {
                cap.push(l);
            }
        }
    }
    for text in lines.drain(..) {
        sink.write(&LogLine::now(stream, text));
    }
}

/// Write `input` to the command's stdin and close it. A command that exits without
/// reading all of it is not an error of ours (its exit status tells).
pub(crate) async fn feed<W: AsyncWrite + Unpin>(mut stdin: W, input: &[u8]) {
    if stdin.write_all(input).await.is_ok() {
        let _ = stdin.shutdown().await;
    }
}
