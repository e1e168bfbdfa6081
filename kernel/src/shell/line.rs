//! Line editing on a serial console: echo, backspace, Ctrl-C, Ctrl-U, and
//! both `\r` (terminals) and `\n` (pipes) as line ends — so the same shell
//! works typed at and fed from `printf '...\n' | cargo xtask run`.

/// Longest command line accepted (longer input is refused with a bell).
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
                Event::Line
            }
            b'\n' if after_cr => Event::Pending, // the \n of a \r\n pair
            b'\n' => {
                echo(b"\n");
                Event::Line
            }
            0x08 | 0x7f => {
                if self.len > 0 {
                    self.len -= 1;
                    echo(b"\x08 \x08");
                }
                Event::Pending
            }
            0x03 => {
                self.len = 0;
                echo(b"^C\n");
                Event::Cancelled
            }
            0x15 => {
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
}
