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

/// Longest command line accepted, in characters (longer lines are refused).
pub const MAX_LINE: usize = 256;

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
    Csi,
}

/// The line being typed.
pub struct LineEditor {
    buf: [u8; MAX_LINE],
    len: usize,
    /// Characters were dropped from this line (it is over [`MAX_LINE`]).
    overflow: bool,
    after_cr: bool,
    escape: Escape,
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
    }

    /// The line end: a complete line, or a refusal if it overflowed (the
    /// buffer is emptied then, so nothing of it can run).
    fn end_of_line(&mut self) -> Event {
        if self.overflow {
            self.clear();
            Event::TooLong
        } else {
            Event::Line
        }
    }

    /// Feeds one received byte; `echo` gets what the terminal should show.
    pub fn feed(&mut self, b: u8, echo: &mut dyn FnMut(&[u8])) -> Event {
        let after_cr = core::mem::replace(&mut self.after_cr, false);
        match self.escape {
            Escape::Esc => {
                self.escape = if b == b'[' { Escape::Csi } else { Escape::None };
                return Event::Pending;
            }
            Escape::Csi => {
                // Cursor keys and friends end with a byte in 0x40..=0x7e.
                if (0x40..=0x7e).contains(&b) {
                    self.escape = Escape::None;
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
