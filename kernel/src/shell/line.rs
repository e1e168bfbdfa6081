//! Line editing on a serial console: echo, backspace, Ctrl-C, Ctrl-U, and
//! both `\r` (terminals) and `\n` (pipes) as line ends — so the same shell
//! works typed at and fed from `printf '...\n' | cargo xtask run`.
//!
//! A line longer than [`MAX_LINE`] is never run cut short: its first
//! [`MAX_LINE`] characters are kept and echoed, every further one rings the
//! bell and is dropped, and when the line ends the editor reports
//! [`Event::TooLong`] instead of [`Event::Line`], so the shell refuses it
//! (`sh: line too long (max 256 characters)`). A truncated `rm -rf /tmp/x`
//! must not become `rm -rf /`. Erasing characters does not un-refuse the
//! line: what was dropped is gone; only Ctrl-U or Ctrl-C start afresh.
//!
//! History, as busybox's line editor (libbb/lineedit.c) and bash: the up
//! and down arrows (`ESC [ A`/`ESC [ B`, or `ESC O A`/`ESC O B` in the
//! terminal's application-cursor mode) recall the last [`HISTORY`] lines
//! run, newest first; down past the newest gives back the line being typed
//! before. The line on the terminal is redrawn: backspaces to its start,
//! `ESC [ K` to erase it, the recalled text. A line equal to the one before
//! is kept once (bash's `ignoredups`); blank, cancelled and refused lines
//! are not kept. The ring is a fixed array: typing never allocates.

/// Longest command line accepted, in characters (longer lines are refused).
pub const MAX_LINE: usize = 256;

/// How many lines the history keeps.
pub const HISTORY: usize = 16;

/// What a byte did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Keep reading.
    Pending,
    /// A complete line is in [`LineEditor::line`].
    Line,
    /// The line was abandoned (Ctrl-C).
    Cancelled,
    /// The line ended but was longer than [`MAX_LINE`]: it must not run.
    TooLong,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    None,
    Esc,
    /// `ESC [`; true once a parameter or intermediate byte came.
    Csi(bool),
    /// `ESC O` (SS3).
    Ss3,
}

/// The last lines run, in a ring.
struct History {
    lines: [[u8; MAX_LINE]; HISTORY],
    lens: [usize; HISTORY],
    /// The slot the next line goes to.
    next: usize,
    /// How many slots hold a line (at most [`HISTORY`]).
    count: usize,
}

impl History {
    /// The `back`-th newest line (1: the newest).
    fn get(&self, back: usize) -> Option<&[u8]> {
        if back == 0 || back > self.count {
            return None;
        }
        let i = (self.next + HISTORY - back) % HISTORY;
        let len = *self.lens.get(i)?;
        self.lines.get(i)?.get(..len)
    }

    fn push(&mut self, line: &[u8]) {
        if line.iter().all(u8::is_ascii_whitespace) || self.get(1) == Some(line) {
            return;
        }
        if let (Some(slot), Some(len)) =
            (self.lines.get_mut(self.next), self.lens.get_mut(self.next))
        {
            let n = line.len().min(MAX_LINE);
            slot[..n].copy_from_slice(&line[..n]);
            *len = n;
            self.next = (self.next + 1) % HISTORY;
            self.count = (self.count + 1).min(HISTORY);
        }
    }
}

/// The line being typed.
pub struct LineEditor {
    buf: [u8; MAX_LINE],
    len: usize,
    /// Characters were dropped from this line (it is over [`MAX_LINE`]).
    overflow: bool,
    after_cr: bool,
    escape: Escape,
    history: History,
    /// How far back in the history the line shown is (0: the line typed).
    back: usize,
    /// The line typed before the history was browsed.
    draft: [u8; MAX_LINE],
    draft_len: usize,
}

impl Default for LineEditor {
    fn default() -> Self {
        Self::new()
    }
}

impl LineEditor {
    pub const fn new() -> Self {
        LineEditor {
            buf: [0; MAX_LINE],
            len: 0,
            overflow: false,
            after_cr: false,
            escape: Escape::None,
            history: History {
                lines: [[0; MAX_LINE]; HISTORY],
                lens: [0; HISTORY],
                next: 0,
                count: 0,
            },
            back: 0,
            draft: [0; MAX_LINE],
            draft_len: 0,
        }
    }

    /// The finished line (printable ASCII only, so always valid UTF-8).
    pub fn line(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// Starts a new line.
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
        self.back = 0;
    }

    /// The line end: a complete line (kept in the history), or a refusal if
    /// it overflowed (the buffer is emptied then, so nothing of it can run).
    fn end_of_line(&mut self) -> Event {
        self.back = 0;
        if self.overflow {
            self.clear();
            Event::TooLong
        } else {
            let (buf, len) = (&self.buf, self.len);
            self.history.push(buf.get(..len).unwrap_or_default());
            Event::Line
        }
    }

    /// Up (`older`) or down the history: shows the line found there, or
    /// rings the bell at either end.
    fn recall(&mut self, older: bool, echo: &mut dyn FnMut(&[u8])) {
        let back = if older {
            self.back + 1
        } else if self.back > 0 {
            self.back - 1
        } else {
            echo(b"\x07");
            return;
        };
        let Some(text) = (if back == 0 {
            self.draft.get(..self.draft_len)
        } else {
            self.history.get(back)
        }) else {
            echo(b"\x07");
            return;
        };
        let mut line = [0u8; MAX_LINE];
        let n = text.len().min(MAX_LINE);
        line[..n].copy_from_slice(&text[..n]);
        if self.back == 0 {
            // Keep what was being typed, to come back to.
            self.draft = self.buf;
            self.draft_len = self.len;
        }
        for _ in 0..self.len {
            echo(b"\x08");
        }
        echo(b"\x1b[K");
        self.buf = line;
        self.len = n;
        self.overflow = false;
        self.back = back;
        echo(&self.buf[..n]);
    }

    /// Feeds one received byte; `echo` gets what the terminal should show.
    pub fn feed(&mut self, b: u8, echo: &mut dyn FnMut(&[u8])) -> Event {
        let after_cr = core::mem::replace(&mut self.after_cr, false);
        match self.escape {
            Escape::Esc => {
                self.escape = match b {
                    b'[' => Escape::Csi(false),
                    b'O' => Escape::Ss3,
                    _ => Escape::None,
                };
                return Event::Pending;
            }
            Escape::Csi(params) => {
                // Cursor keys and friends end with a byte in 0x40..=0x7e.
                if (0x40..=0x7e).contains(&b) {
                    self.escape = Escape::None;
                    match (params, b) {
                        (false, b'A') => self.recall(true, echo),
                        (false, b'B') => self.recall(false, echo),
                        _ => {}
                    }
                } else {
                    self.escape = Escape::Csi(true);
                }
                return Event::Pending;
            }
            Escape::Ss3 => {
                self.escape = Escape::None;
                match b {
                    b'A' => self.recall(true, echo),
                    b'B' => self.recall(false, echo),
                    _ => {}
                }
                return Event::Pending;
            }
            Escape::None => {}
        }
        match b {
            b'\r' => {
                self.after_cr = true;
                echo(b"\n");
                self.end_of_line()
            }
            b'\n' if after_cr => Event::Pending, // the \n of a \r\n pair
            b'\n' => {
                echo(b"\n");
                self.end_of_line()
            }
            0x08 | 0x7f => {
                if self.len > 0 {
                    self.len -= 1;
                    echo(b"\x08 \x08");
                }
                Event::Pending
            }
            0x03 => {
                self.clear();
                echo(b"^C\n");
                Event::Cancelled
            }
            0x15 => {
                self.overflow = false;
                while self.len > 0 {
                    self.len -= 1;
                    echo(b"\x08 \x08");
                }
                Event::Pending
            }
            0x1b => {
                self.escape = Escape::Esc;
                Event::Pending
            }
            b'\t' | 0x20..=0x7e => {
                if self.len == MAX_LINE {
                    self.overflow = true;
                    echo(b"\x07");
                } else {
                    let b = if b == b'\t' { b' ' } else { b };
                    self.buf[self.len] = b;
                    self.len += 1;
                    echo(&[b]);
                }
                Event::Pending
            }
            _ => Event::Pending, // other control bytes and non-ASCII: ignored
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_all(ed: &mut LineEditor, input: &[u8]) -> (Vec<Event>, Vec<u8>) {
        let mut echoed = Vec::new();
        let mut events = Vec::new();
        for &b in input {
            let e = ed.feed(b, &mut |s| echoed.extend_from_slice(s));
            if e != Event::Pending {
                events.push(e);
            }
        }
        (events, echoed)
    }

    #[test]
    fn editing_and_line_ends() {
        let mut ed = LineEditor::new();
        let (ev, echo) = type_all(&mut ed, b"dmesx\x7fg\r\n");
        assert_eq!(ev, vec![Event::Line]);
        assert_eq!(ed.line(), "dmesg");
        assert_eq!(echo, b"dmesx\x08 \x08g\n");
        ed.clear();
        let (ev, _) = type_all(&mut ed, b"a\nb\n");
        assert_eq!(ev, vec![Event::Line, Event::Line]);
        ed.clear();
        let (ev, _) = type_all(&mut ed, b"\x1b[Aab\x15cat\x03");
        assert_eq!(ev, vec![Event::Cancelled]);
        assert_eq!(ed.line(), "");
        let (ev, _) = type_all(&mut ed, b"\x7f\x7fok\n");
        assert_eq!(ev, vec![Event::Line]);
        assert_eq!(ed.line(), "ok");
    }

    #[test]
    fn arrows_recall_history() {
        let mut ed = LineEditor::new();
        // Nothing to recall yet: the bell.
        let (_, echo) = type_all(&mut ed, b"\x1b[A\x1b[B");
        assert_eq!(echo, b"\x07\x07");
        for l in [&b"help\n"[..], b"free\n", b"free\n", b"  \n", b"echo hi\n"] {
            ed.clear();
            type_all(&mut ed, l);
        }
        ed.clear();
        let (_, echo) = type_all(&mut ed, b"ca\x1b[A");
        assert_eq!(echo, b"ca\x08\x08\x1b[Kecho hi");
        assert_eq!(ed.line(), "echo hi");
        // SS3 arrows too; duplicates were kept once; blank lines not kept.
        let (_, echo) = type_all(&mut ed, b"\x1bOA");
        assert_eq!(ed.line(), "free");
        assert_eq!(echo, b"\x08\x08\x08\x08\x08\x08\x08\x1b[Kfree");
        type_all(&mut ed, b"\x1b[A");
        assert_eq!(ed.line(), "help");
        let (_, echo) = type_all(&mut ed, b"\x1b[A");
        assert_eq!(echo, b"\x07", "nothing older");
        assert_eq!(ed.line(), "help");
        // Down to the newest, then back to what was being typed.
        type_all(&mut ed, b"\x1b[B\x1bOB");
        assert_eq!(ed.line(), "echo hi");
        type_all(&mut ed, b"\x1b[B");
        assert_eq!(ed.line(), "ca");
        let (_, echo) = type_all(&mut ed, b"\x1b[B");
        assert_eq!(echo, b"\x07");
        // A recalled line can be edited and run.
        let (ev, _) = type_all(&mut ed, b"\x1b[A\x7f\x7fyo\r");
        assert_eq!(ev, vec![Event::Line]);
        assert_eq!(ed.line(), "echo yo");
        ed.clear();
        type_all(&mut ed, b"\x1b[A");
        assert_eq!(ed.line(), "echo yo");
        // Other escape sequences (with parameters, other keys) are ignored.
        ed.clear();
        let (_, echo) = type_all(&mut ed, b"\x1b[1;5A\x1b[C\x1bOC\x1bx");
        assert_eq!(ed.line(), "");
        assert_eq!(echo, b"");
    }

    #[test]
    fn history_ring_keeps_the_newest() {
        let mut ed = LineEditor::new();
        for i in 0..HISTORY + 5 {
            ed.clear();
            type_all(&mut ed, format!("echo {i}\n").as_bytes());
        }
        ed.clear();
        let mut seen = Vec::new();
        for _ in 0..HISTORY + 3 {
            type_all(&mut ed, b"\x1b[A");
            seen.push(ed.line().to_string());
        }
        assert_eq!(seen[0], format!("echo {}", HISTORY + 4));
        assert_eq!(seen[HISTORY - 1], "echo 5");
        assert_eq!(seen[HISTORY + 2], "echo 5", "the oldest kept stays");
        // Refused and cancelled lines are not kept.
        ed.clear();
        let mut long = vec![b'x'; MAX_LINE + 1];
        long.push(b'\n');
        type_all(&mut ed, &long);
        ed.clear();
        type_all(&mut ed, b"rm\x03");
        type_all(&mut ed, b"\x1b[A");
        assert_eq!(ed.line(), format!("echo {}", HISTORY + 4));
    }

    #[test]
    fn overlong_lines_ring_the_bell() {
        let mut ed = LineEditor::new();
        let long = vec![b'x'; MAX_LINE + 5];
        let (_, echo) = type_all(&mut ed, &long);
        assert_eq!(ed.line().len(), MAX_LINE);
        assert_eq!(echo.iter().filter(|&&b| b == 7).count(), 5);
    }

    #[test]
    fn overlong_lines_are_refused_not_cut() {
        // Cut to MAX_LINE this would be `poweroff` and spaces: a valid command.
        let mut line = b"poweroff".to_vec();
        line.resize(MAX_LINE + 10, b' ');
        line.extend_from_slice(b"now\n");
        let mut ed = LineEditor::new();
        let (ev, _) = type_all(&mut ed, &line);
        assert_eq!(ev, vec![Event::TooLong]);
        assert_eq!(ed.line(), "", "nothing of a refused line is left to run");
        // The next line is normal again.
        let (ev, _) = type_all(&mut ed, b"help\r\n");
        assert_eq!(ev, vec![Event::Line]);
        assert_eq!(ed.line(), "help");
        ed.clear();
        // Exactly MAX_LINE characters is fine.
        let mut exact = vec![b'y'; MAX_LINE];
        exact.push(b'\r');
        let (ev, _) = type_all(&mut ed, &exact);
        assert_eq!(ev, vec![Event::Line]);
        assert_eq!(ed.line().len(), MAX_LINE);
        ed.clear();
        // Erasing after the overflow does not make the line acceptable...
        let mut erased = vec![b'z'; MAX_LINE + 1];
        erased.extend_from_slice(&[0x7f; 10]);
        erased.push(b'\n');
        let (ev, _) = type_all(&mut ed, &erased);
        assert_eq!(ev, vec![Event::TooLong]);
        // ...but Ctrl-U and Ctrl-C start afresh.
        let mut killed = vec![b'z'; MAX_LINE + 1];
        killed.extend_from_slice(b"\x15ok\n");
        let (ev, _) = type_all(&mut ed, &killed);
        assert_eq!(ev, vec![Event::Line]);
        assert_eq!(ed.line(), "ok");
        ed.clear();
        let mut cancelled = vec![b'z'; MAX_LINE + 1];
        cancelled.extend_from_slice(b"\x03ok\n");
        let (ev, _) = type_all(&mut ed, &cancelled);
        assert_eq!(ev, vec![Event::Cancelled, Event::Line]);
        assert_eq!(ed.line(), "ok");
    }
}
