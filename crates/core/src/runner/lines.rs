//! Turning a tool's raw output bytes into log lines, with bounded memory: the line splitter
//! (`\n`, `\r\n`, `\r`-only progress output, over-long lines, invalid UTF-8), the tail of
//! recent lines kept for error messages, and the bounded stdout capture.

use std::collections::VecDeque;

/// The longest line kept as one; longer output is split at a character boundary.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Splits a byte stream into lines.
///
/// `\n` ends a line and `\r\n` counts as `\n`. A lone `\r` is read as a terminal would show
/// it: the text before it is overwritten by what follows. That text is kept as the pending
/// *progress* segment (see [`LineSplitter::take_progress`]) and is emitted when the line
/// ends with nothing after the `\r`, so `50%\r100%\r\n` logs `100%` once, not every update.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    max: usize,
    buf: Vec<u8>,
    progress: Option<String>,
    progress_dirty: bool,
}

impl LineSplitter {
    /// A splitter that splits lines longer than `max` bytes (at least 4).
    pub(crate) fn new(max: usize) -> Self {
        LineSplitter {
            max: max.max(4),
            buf: Vec::new(),
            progress: None,
            progress_dirty: false,
        }
    }

    /// Feed a chunk; complete lines are appended to `out`.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<String>) {
        for &b in chunk {
            match b {
                b'\n' => self.end_line(out),
                b'\r' => {
                    if !self.buf.is_empty() {
                        self.progress = Some(lossy(&self.buf));
                        self.progress_dirty = true;
                        self.buf.clear();
                    }
                }
                _ => {
                    self.buf.push(b);
                    if self.buf.len() >= self.max {
                        self.split_long(out);
                    }
                }
            }
        }
    }

    /// The latest progress segment, if it was not logged yet; marks it logged.
    pub(crate) fn take_progress(&mut self) -> Option<String> {
        if self.progress_dirty {
            self.progress_dirty = false;
            self.progress.clone()
        } else {
            None
        }
    }

    /// End of stream: a last line without terminator (or pending progress) is emitted.
    pub(crate) fn finish(&mut self, out: &mut Vec<String>) {
        if !self.buf.is_empty() {
            out.push(lossy(&self.buf));
            self.buf.clear();
        } else if let Some(p) = self.take_progress() {
            out.push(p);
        }
        self.progress = None;
    }

    fn end_line(&mut self, out: &mut Vec<String>) {
        if !self.buf.is_empty() {
            out.push(lossy(&self.buf));
            self.buf.clear();
        } else if let Some(p) = self.take_progress() {
            out.push(p);
        } else if self.progress.is_none() {
            // A genuinely empty line (not the end of already logged progress output).
            out.push(String::new());
        }
        self.progress = None;
        self.progress_dirty = false;
    }

    /// Emit the first `max` bytes (backing off to a UTF-8 character boundary) as a line.
    fn split_long(&mut self, out: &mut Vec<String>) {
        let cut = char_boundary(&self.buf, self.max);
        out.push(lossy(&self.buf[..cut]));
        self.buf.drain(..cut);
    }
}

/// The largest cut `<= at` that does not split a UTF-8 sequence (if the bytes are UTF-8).
fn char_boundary(bytes: &[u8], at: usize) -> usize {
    let at = at.min(bytes.len());
    // Walk back over up to 3 continuation bytes to the lead byte of the last sequence.
    let mut lead = at;
    while lead > 0 && at - lead < 4 {
        lead -= 1;
        let b = bytes[lead];
        if b & 0xC0 != 0x80 {
            let len = match b {
                0x00..=0x7F => 1,
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if lead + len > at && lead > 0 {
                lead
            } else {
                at
            };
        }
    }
    at
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The longest line kept in a [`Tail`], in characters.
const TAIL_LINE_CHARS: usize = 1000;

/// The last `cap` lines of combined output, for error messages and completion mails.
#[derive(Debug)]
pub(crate) struct Tail {
    cap: usize,
    lines: VecDeque<String>,
}

impl Tail {
    /// A tail keeping at most `cap` lines.
    pub(crate) fn new(cap: usize) -> Self {
        Tail {
            cap,
            lines: VecDeque::with_capacity(cap.min(64)),
        }
    }

    /// Remember `line`, shortened to a readable length.
    pub(crate) fn push(&mut self, line: &str) {
        if self.cap == 0 {
            return;
        }
        if self.lines.len() == self.cap {
            self.lines.pop_front();
        }
        let line = match line.char_indices().nth(TAIL_LINE_CHARS) {
            Some((i, _)) => format!("{}…", &line[..i]),
            None => line.to_owned(),
        };
        self.lines.push_back(line);
    }

    /// The lines kept, oldest first.
    pub(crate) fn to_vec(&self) -> Vec<String> {
        self.lines.iter().cloned().collect()
    }
}

/// Captured stdout: the lines, each followed by `\n`, up to `limit` bytes.
#[derive(Debug)]
pub(crate) struct Capture {
    limit: usize,
    text: String,
    truncated: bool,
}

impl Capture {
    /// A capture of at most `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Capture {
            limit,
            text: String::new(),
            truncated: false,
        }
    }

    /// Append one line; once the limit is reached, later lines are dropped.
    pub(crate) fn push(&mut self, line: &str) {
        if self.truncated || self.text.len() + line.len() + 1 > self.limit {
            self.truncated = true;
            return;
        }
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// True when lines were dropped.
    pub(crate) fn truncated(&self) -> bool {
        self.truncated
    }

    /// The captured text.
    pub(crate) fn into_text(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> Vec<String> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut out);
        }
        s.finish(&mut out);
        out
    }

    #[test]
    fn lines_and_a_last_line_without_newline() {
        assert_eq!(split(&[b"a\nbb\n\nccc"], 100), ["a", "bb", "", "ccc"]);
        assert_eq!(split(&[b"a\n"], 100), ["a"]);
        assert!(split(&[b""], 100).is_empty());
    }

    #[test]
    fn lines_split_across_chunks() {
        assert_eq!(
            split(&[b"hel", b"lo\nwor", b"ld\n"], 100),
            ["hello", "world"]
        );
    }

    #[test]
    fn crlf_is_a_newline_even_across_chunks() {
        assert_eq!(split(&[b"a\r\nb\r", b"\nc\r\n"], 100), ["a", "b", "c"]);
    }

    #[test]
    fn carriage_return_progress_keeps_the_last_state() {
        assert_eq!(split(&[b"10%\r50%\r100%\r\ndone\n"], 100), ["100%", "done"]);
        assert_eq!(split(&[b"10%\r50%\rfinal\n"], 100), ["final"]);
        assert_eq!(split(&[b"\r10%\r\r"], 100), ["10%"]);
    }

    #[test]
    fn progress_can_be_taken_while_the_line_is_open_and_is_not_repeated() {
        let mut s = LineSplitter::new(100);
        let mut out = Vec::new();
        s.feed(b"copying 10%\rcopying 20%\r", &mut out);
        assert!(out.is_empty());
        assert_eq!(s.take_progress().as_deref(), Some("copying 20%"));
        assert_eq!(s.take_progress(), None);
        s.feed(b"\n", &mut out);
        assert!(
            out.is_empty(),
            "already logged progress is not logged again"
        );
        s.feed(b"\n", &mut out);
        assert_eq!(out, [""], "a real empty line after it still counts");
    }

    #[test]
    fn long_lines_are_split_at_the_bound() {
        let long = vec![b'x'; 10];
        assert_eq!(split(&[&long, b"\n"], 4), ["xxxx", "xxxx", "xx"]);
    }

    #[test]
    fn long_lines_are_split_at_character_boundaries() {
        // "aé" is 3 bytes; a cut at 4 would split the second "é".
        let text = "aéé\n";
        let out = split(&[text.as_bytes()], 4);
        assert_eq!(out, ["aé", "é"]);
        assert!(out.iter().all(|l| !l.contains('\u{fffd}')));
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(split(&[b"a\xffb\n"], 100), ["a\u{fffd}b"]);
    }

    #[test]
    fn memory_stays_bounded_without_newlines() {
        let mut s = LineSplitter::new(MAX_LINE_BYTES);
        let mut out = Vec::new();
        for _ in 0..100 {
            s.feed(&[b'y'; 10_000], &mut out);
            assert!(s.buf.len() < MAX_LINE_BYTES);
        }
        s.finish(&mut out);
        assert_eq!(out.iter().map(String::len).sum::<usize>(), 1_000_000);
        assert!(out.iter().all(|l| l.len() <= MAX_LINE_BYTES));
    }

    #[test]
    fn tail_keeps_the_last_lines_shortened() {
        let mut t = Tail::new(3);
        for l in ["1", "2", "3", "4"] {
            t.push(l);
        }
        assert_eq!(t.to_vec(), ["2", "3", "4"]);
        t.push(&"z".repeat(5000));
        let last = t.to_vec().pop().expect("a line");
        assert_eq!(last.chars().count(), TAIL_LINE_CHARS + 1);
        assert!(last.ends_with('…'));
    }

    #[test]
    fn capture_stops_at_its_limit() {
        let mut c = Capture::new(8);
        for l in ["abc", "def", "ghi"] {
            c.push(l);
        }
        assert!(c.truncated());
        assert_eq!(c.into_text(), "abc\ndef\n");
    }
}
