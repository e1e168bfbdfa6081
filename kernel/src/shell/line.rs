//! Line editing on a serial console: echo, cursor movement, deletion,
//! Ctrl-C, and both `\r` (terminals) and `\n` (pipes) as line ends — so the
//! same shell works typed at and fed from `printf '...\n' | cargo xtask run`.
//!
//! A line longer than [`MAX_LINE`] is never run cut short: its first
//! [`MAX_LINE`] characters are kept and echoed, every further one rings the
//! bell and is dropped, and when the line ends the editor reports
//! [`Event::TooLong`] instead of [`Event::Line`], so the shell refuses it
//! (`sh: line too long (max 256 characters)`). A truncated `rm -rf /tmp/x`
//! must not become `rm -rf /`. Erasing characters does not un-refuse the
//! line: what was dropped is gone; only Ctrl-U or Ctrl-C start afresh.
//!
//! Cursor editing, with busybox ash's keys (libbb/lineedit.c, which follows
//! readline): Left/Right (`ESC [ D`/`ESC [ C`, or `ESC O D`/`ESC O C` in the
//! terminal's application-cursor mode; Ctrl-B/Ctrl-F), Home/End (`ESC [ H`,
//! `ESC [ F`, `ESC [ 1 ~`, `ESC [ 4 ~`, `ESC [ 7 ~`, `ESC [ 8 ~`, `ESC O H`,
//! `ESC O F`; Ctrl-A/Ctrl-E), Delete (`ESC [ 3 ~`), Backspace anywhere in
//! the line, Ctrl-K (erase to the end), Ctrl-U (erase to the start), Ctrl-W
//! (erase the word before the cursor), Ctrl-L (clear the screen, redraw).
//! The terminal is assumed dumb: the cursor is moved left with backspaces
//! and right by writing the characters it passes over; an edit in the
//! middle rewrites the tail of the line, blanks what is left over with
//! spaces and walks back with backspaces — no terminal capability beyond
//! `\x08` is needed (only history's redraw and Ctrl-L use `ESC [`).
//!
//! Tab completion, as busybox ash's: the word before the cursor is
//! completed from the commands' names when it is the line's first word,
//! from the directory it names otherwise (`/lib/modules/he`, `/proc/me`,
//! `/sys/module/hel`), through a [`Complete`] the shell supplies. One Tab
//! inserts what all candidates share (a single candidate gets a space after
//! it, a directory its `/`); a second Tab in a row lists the candidates and
//! redraws the prompt and the line. The candidates are visited twice
//! through callbacks, never collected: the editor allocates nothing (the
//! listing is `ls`'s own; its path lookup reserves a path-sized buffer,
//! fallibly, and an error only means no candidates).
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

/// Width of the terminal assumed when candidates are listed in columns.
const COLUMNS: usize = 80;

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

/// Where Tab finds its candidates (the shell's commands and directories).
pub trait Complete {
    /// Calls `f` with each command name.
    fn commands(&mut self, f: &mut dyn FnMut(&str));
    /// Calls `f` with each entry of directory `dir` (a directory's name
    /// ends in `/`); nothing if `dir` cannot be listed.
    fn entries(&mut self, dir: &str, f: &mut dyn FnMut(&str));
}

/// No completion: Tab only rings the bell.
pub struct NoCompletion;

impl Complete for NoCompletion {
    fn commands(&mut self, _: &mut dyn FnMut(&str)) {}
    fn entries(&mut self, _: &str, _: &mut dyn FnMut(&str)) {}
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    None,
    Esc,
    /// `ESC [`: the numeric parameter so far (saturating), and whether
    /// anything but one number came (`ESC [ 1 ; 5 C`: ignored).
    Csi {
        param: u8,
        other: bool,
    },
    /// `ESC O` (SS3).
    Ss3,
}

/// A key the escape sequences and control characters stand for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    Delete,
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

/// Echoes `n` copies of `byte` (backspaces, spaces), in chunks.
fn repeat(echo: &mut dyn FnMut(&[u8]), byte: u8, n: usize) {
    let chunk = [byte; 16];
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len());
        echo(&chunk[..k]);
        left -= k;
    }
}

/// The line being typed.
pub struct LineEditor {
    buf: [u8; MAX_LINE],
    len: usize,
    /// The cursor: the index in `buf` the next character goes to.
    pos: usize,
    /// Characters were dropped from this line (it is over [`MAX_LINE`]).
    overflow: bool,
    after_cr: bool,
    escape: Escape,
    /// The byte before was a Tab (a second one lists the candidates).
    after_tab: bool,
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
            pos: 0,
            overflow: false,
            after_cr: false,
            escape: Escape::None,
            after_tab: false,
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

    /// The cursor's position in the line, in characters.
    pub fn cursor(&self) -> usize {
        self.pos
    }

    /// Starts a new line.
    pub fn clear(&mut self) {
        self.len = 0;
        self.pos = 0;
        self.overflow = false;
        self.back = 0;
        self.after_tab = false;
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
            self.pos = self.len;
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
        repeat(echo, 0x08, self.pos);
        echo(b"\x1b[K");
        self.buf = line;
        self.len = n;
        self.pos = n;
        self.overflow = false;
        self.back = back;
        echo(&self.buf[..n]);
    }

    /// Inserts `text` at the cursor: the inserted text and the old tail are
    /// written, then the cursor walks back over the tail. Characters past
    /// [`MAX_LINE`] ring the bell and mark the line as overflowed.
    fn insert(&mut self, text: &[u8], echo: &mut dyn FnMut(&[u8])) {
        let room = MAX_LINE - self.len;
        let n = text.len().min(room);
        if n < text.len() {
            self.overflow = true;
            echo(b"\x07");
        }
        if n == 0 {
            return;
        }
        if self.pos == self.len {
            // Typing at the end of the line, the usual case: no tail to
            // move, rewrite and walk back over (what the general path below
            // does then comes to this, with its code left untranslated).
            self.buf[self.len..self.len + n].copy_from_slice(&text[..n]);
            self.len += n;
            self.pos = self.len;
            echo(&text[..n]);
            return;
        }
        self.buf.copy_within(self.pos..self.len, self.pos + n);
        self.buf[self.pos..self.pos + n].copy_from_slice(&text[..n]);
        self.len += n;
        echo(&self.buf[self.pos..self.len]);
        self.pos += n;
        repeat(echo, 0x08, self.len - self.pos);
    }

    /// Erases `start..end` (the cursor is within it): back to `start`, the
    /// tail rewritten over the gap, the freed columns blanked, back again.
    fn erase(&mut self, start: usize, end: usize, echo: &mut dyn FnMut(&[u8])) {
        let (start, end) = (start.min(self.pos), end.clamp(self.pos, self.len));
        if start == end {
            return;
        }
        repeat(echo, 0x08, self.pos - start);
        self.buf.copy_within(end..self.len, start);
        self.len -= end - start;
        self.pos = start;
        echo(&self.buf[start..self.len]);
        repeat(echo, b' ', end - start);
        repeat(echo, 0x08, self.len - start + (end - start));
    }

    /// Moves the cursor to `to`: backspaces to the left, the characters
    /// passed over to the right.
    fn move_to(&mut self, to: usize, echo: &mut dyn FnMut(&[u8])) {
        let to = to.min(self.len);
        if to < self.pos {
            repeat(echo, 0x08, self.pos - to);
        } else {
            echo(&self.buf[self.pos..to]);
        }
        self.pos = to;
    }

    /// Prompt, line, and the cursor back where it was (after a listing or
    /// a cleared screen).
    fn redraw(&self, echo: &mut dyn FnMut(&[u8])) {
        echo(super::PROMPT.as_bytes());
        echo(&self.buf[..self.len]);
        repeat(echo, 0x08, self.len - self.pos);
    }

    fn key(&mut self, key: Key, echo: &mut dyn FnMut(&[u8])) {
        match key {
            Key::Up => self.recall(true, echo),
            Key::Down => self.recall(false, echo),
            Key::Left => self.move_to(self.pos.saturating_sub(1), echo),
            Key::Right => self.move_to(self.pos + 1, echo),
            Key::Home => self.move_to(0, echo),
            Key::End => self.move_to(self.len, echo),
            Key::Delete => self.erase(self.pos, self.pos + 1, echo),
        }
    }

    /// Feeds one received byte with no completion (Tab rings the bell);
    /// `echo` gets what the terminal should show.
    pub fn feed(&mut self, b: u8, echo: &mut dyn FnMut(&[u8])) -> Event {
        self.feed_with(b, echo, &mut NoCompletion)
    }

    /// Feeds one received byte; `echo` gets what the terminal should show,
    /// `complete` gives Tab its candidates.
    pub fn feed_with(
        &mut self,
        b: u8,
        echo: &mut dyn FnMut(&[u8]),
        complete: &mut dyn Complete,
    ) -> Event {
        let after_cr = core::mem::replace(&mut self.after_cr, false);
        let after_tab = core::mem::replace(&mut self.after_tab, false);
        match self.escape {
            Escape::Esc => {
                self.escape = match b {
                    b'[' => Escape::Csi {
                        param: 0,
                        other: false,
                    },
                    b'O' => Escape::Ss3,
                    _ => Escape::None,
                };
                return Event::Pending;
            }
            Escape::Csi { param, other } => {
                // Cursor keys and friends end with a byte in 0x40..=0x7e.
                if (0x40..=0x7e).contains(&b) {
                    self.escape = Escape::None;
                    let key = match (other, param, b) {
                        (false, 0, b'A') => Some(Key::Up),
                        (false, 0, b'B') => Some(Key::Down),
                        (false, 0, b'C') => Some(Key::Right),
                        (false, 0, b'D') => Some(Key::Left),
                        (false, 0, b'H') | (false, 1 | 7, b'~') => Some(Key::Home),
                        (false, 0, b'F') | (false, 4 | 8, b'~') => Some(Key::End),
                        (false, 3, b'~') => Some(Key::Delete),
                        _ => None,
                    };
                    if let Some(key) = key {
                        self.key(key, echo);
                    }
                } else if b.is_ascii_digit() && !other {
                    self.escape = Escape::Csi {
                        param: param.saturating_mul(10).saturating_add(b - b'0'),
                        other: false,
                    };
                } else {
                    self.escape = Escape::Csi { param, other: true };
                }
                return Event::Pending;
            }
            Escape::Ss3 => {
                self.escape = Escape::None;
                let key = match b {
                    b'A' => Some(Key::Up),
                    b'B' => Some(Key::Down),
                    b'C' => Some(Key::Right),
                    b'D' => Some(Key::Left),
                    b'H' => Some(Key::Home),
                    b'F' => Some(Key::End),
                    _ => None,
                };
                if let Some(key) = key {
                    self.key(key, echo);
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
                self.erase(self.pos.saturating_sub(1), self.pos, echo);
                Event::Pending
            }
            0x03 => {
                self.clear();
                echo(b"^C\n");
                Event::Cancelled
            }
            0x01 => {
                self.key(Key::Home, echo);
                Event::Pending
            }
            0x02 => {
                self.key(Key::Left, echo);
                Event::Pending
            }
            0x05 => {
                self.key(Key::End, echo);
                Event::Pending
            }
            0x06 => {
                self.key(Key::Right, echo);
                Event::Pending
            }
            0x0b => {
                self.erase(self.pos, self.len, echo);
                Event::Pending
            }
            0x0c => {
                echo(b"\x1b[H\x1b[2J");
                self.redraw(echo);
                Event::Pending
            }
            0x15 => {
                // busybox and readline: erase before the cursor. With the
                // cursor at the end that is the whole line, and a line that
                // overflowed starts afresh.
                if self.pos == self.len {
                    self.overflow = false;
                }
                self.erase(0, self.pos, echo);
                Event::Pending
            }
            0x17 => {
                let line = &self.buf[..self.pos];
                let end = line.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
                let start = line[..end]
                    .iter()
                    .rposition(|&c| c == b' ')
                    .map_or(0, |i| i + 1);
                self.erase(start, self.pos, echo);
                Event::Pending
            }
            0x1b => {
                self.escape = Escape::Esc;
                Event::Pending
            }
            b'\t' => {
                self.complete(after_tab, echo, complete);
                self.after_tab = true;
                Event::Pending
            }
            0x20..=0x7e => {
                self.insert(&[b], echo);
                Event::Pending
            }
            _ => Event::Pending, // other control bytes and non-ASCII: ignored
        }
    }

    /// Tab: completes the word before the cursor (see the module docs).
    fn complete(&mut self, list: bool, echo: &mut dyn FnMut(&[u8]), complete: &mut dyn Complete) {
        let before = &self.buf[..self.pos];
        let start = before.iter().rposition(|&c| c == b' ').map_or(0, |i| i + 1);
        let first_word = before[..start].iter().all(|&c| c == b' ');
        let word = &before[start..];
        // A path's directory and the part of the name typed.
        let (dir, prefix_at) = match word.iter().rposition(|&c| c == b'/') {
            Some(slash) => (&word[..=slash], start + slash + 1),
            None => (&b""[..], start),
        };
        let mut dir_buf = [0u8; MAX_LINE];
        let dir = if first_word && dir.is_empty() {
            None
        } else if dir.is_empty() {
            Some("/")
        } else {
            let d = if dir.len() > 1 {
                &dir[..dir.len() - 1]
            } else {
                dir
            };
            dir_buf[..d.len()].copy_from_slice(d);
            core::str::from_utf8(&dir_buf[..d.len()]).ok()
        };
        let prefix = &self.buf[prefix_at..self.pos];
        // Pass 1: count the candidates, their longest name, and what all share.
        let mut common = [0u8; MAX_LINE];
        let mut common_len = 0;
        let mut count = 0usize;
        let mut widest = 0usize;
        let mut visit = |name: &str| {
            let name = name.as_bytes();
            if !name.starts_with(prefix) {
                return;
            }
            widest = widest.max(name.len());
            if count == 0 {
                common_len = name.len().min(MAX_LINE);
                common[..common_len].copy_from_slice(&name[..common_len]);
            } else {
                common_len = common[..common_len]
                    .iter()
                    .zip(name)
                    .take_while(|(a, b)| a == b)
                    .count();
            }
            count += 1;
        };
        match dir {
            None => complete.commands(&mut visit),
            Some(d) => complete.entries(d, &mut visit),
        }
        if count == 0 {
            echo(b"\x07");
            return;
        }
        let typed = self.pos - prefix_at;
        let mut add = [0u8; MAX_LINE + 1];
        let mut n = common_len.saturating_sub(typed);
        add[..n].copy_from_slice(&common[typed.min(common_len)..common_len]);
        if count == 1 && common.get(common_len.wrapping_sub(1)) != Some(&b'/') {
            add[n] = b' ';
            n += 1;
        }
        if n > 0 {
            self.insert(&add[..n], echo);
            return;
        }
        if !list {
            echo(b"\x07");
            return;
        }
        // Second Tab: the candidates in columns, then the line again.
        let width = widest + 2;
        let per_row = (COLUMNS / width).max(1);
        let prefix = &self.buf[prefix_at..self.pos];
        let (mut col, mut pad) = (0usize, 0usize);
        echo(b"\n");
        let mut show = |name: &str| {
            if !name.as_bytes().starts_with(prefix) {
                return;
            }
            if col == per_row {
                echo(b"\n");
                col = 0;
            } else if col > 0 {
                repeat(echo, b' ', pad);
            }
            echo(name.as_bytes());
            pad = width.saturating_sub(name.len());
            col += 1;
        };
        match dir {
            None => complete.commands(&mut show),
            Some(d) => complete.entries(d, &mut show),
        }
        echo(b"\n");
        self.redraw(echo);
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
    /// Commands `cat`, `clear`, `dmesg`; `/` holds `lib/`, `proc/`;
    /// `/lib/modules` holds `hello.ko`, `hello2.ko`, `provider.ko`.
    struct Fixed;

    impl Complete for Fixed {
        fn commands(&mut self, f: &mut dyn FnMut(&str)) {
            ["cat", "clear", "dmesg"].into_iter().for_each(f);
        }
        fn entries(&mut self, dir: &str, f: &mut dyn FnMut(&str)) {
            let names: &[&str] = match dir {
                "/" => &["lib/", "proc/"],
                "/lib" => &["modules/"],
                "/lib/modules" => &["hello.ko", "hello2.ko", "provider.ko"],
                _ => &[],
            };
            names.iter().copied().for_each(f);
        }
    }

    fn type_completing(ed: &mut LineEditor, input: &[u8]) -> Vec<u8> {
        let mut echoed = Vec::new();
        for &b in input {
            ed.feed_with(b, &mut |s| echoed.extend_from_slice(s), &mut Fixed);
        }
        echoed
    }

    #[test]
    fn cursor_keys_move_and_edit_in_the_middle() {
        let mut ed = LineEditor::new();
        // Left twice (CSI and SS3 forms), insert: the tail is rewritten and
        // the cursor walks back over it.
        let (_, echo) = type_all(&mut ed, b"echo wrld\x1b[D\x1bOD\x02o");
        assert_eq!(ed.line(), "echo world");
        assert_eq!(ed.cursor(), 7);
        assert_eq!(&echo[9..], b"\x08\x08\x08orld\x08\x08\x08");
        // End, then Home forms and Ctrl-A/E, Right (CSI, SS3, Ctrl-F).
        for (keys, at) in [
            (&b"\x1b[F"[..], 10),
            (b"\x1b[H", 0),
            (b"\x1b[4~", 10),
            (b"\x1b[1~", 0),
            (b"\x1bOF", 10),
            (b"\x1bOH", 0),
            (b"\x05", 10),
            (b"\x01", 0),
            (b"\x1b[C\x1bOC\x06", 3),
            (b"\x02", 2),
            (b"\x1b[7~\x1b[8~", 10),
        ] {
            type_all(&mut ed, keys);
            assert_eq!(ed.cursor(), at, "{keys:?}");
        }
        // Moving left echoes backspaces, right the characters passed over.
        let (_, echo) = type_all(&mut ed, b"\x1b[H\x1b[C\x1b[C");
        assert_eq!(echo, b"\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08ec");
        // No further than the ends, no bell.
        let (_, echo) = type_all(&mut ed, b"\x01\x1b[D\x05\x1b[C");
        assert_eq!(ed.cursor(), 10);
        assert_eq!(&echo[2..], b"echo world");
        // Backspace mid-line: back one, the tail, a blank, back again.
        type_all(&mut ed, b"\x1b[D\x1b[D\x1b[D\x1b[D");
        let (_, echo) = type_all(&mut ed, b"\x7f");
        assert_eq!(ed.line(), "echo orld");
        assert_eq!(echo, b"\x08orld \x08\x08\x08\x08\x08");
        // Delete under the cursor.
        let (_, echo) = type_all(&mut ed, b"\x1b[3~");
        assert_eq!(ed.line(), "echo rld");
        assert_eq!(echo, b"rld \x08\x08\x08\x08");
        let (ev, _) = type_all(&mut ed, b"wo\r");
        assert_eq!(ev, vec![Event::Line]);
        assert_eq!(
            ed.line(),
            "echo world",
            "the whole line runs, cursor anywhere"
        );
    }

    #[test]
    fn control_keys_kill_words_and_lines() {
        let mut ed = LineEditor::new();
        type_all(&mut ed, b"insmod /lib/x.ko  count=2");
        // Ctrl-W: the word before the cursor, with the blanks after it.
        let (_, echo) = type_all(&mut ed, b"\x17");
        assert_eq!(ed.line(), "insmod /lib/x.ko  ");
        assert_eq!(
            echo,
            b"\x08\x08\x08\x08\x08\x08\x08       \x08\x08\x08\x08\x08\x08\x08"
        );
        type_all(&mut ed, b"\x17");
        assert_eq!(ed.line(), "insmod ");
        // Ctrl-K: from the cursor to the end.
        type_all(&mut ed, b"a b c\x1b[D\x1b[D\x0b");
        assert_eq!(ed.line(), "insmod a b");
        // Ctrl-U: before the cursor only.
        type_all(&mut ed, b"\x02\x02\x15");
        assert_eq!(ed.line(), " b");
        assert_eq!(ed.cursor(), 0);
        // Ctrl-L: clear the screen, prompt and line again, cursor in place.
        let (_, echo) = type_all(&mut ed, b"\x1b[C\x0c");
        let mut want = b"\x1b[H\x1b[2J".to_vec();
        want.extend_from_slice(super::super::PROMPT.as_bytes());
        want.extend_from_slice(b" b\x08");
        assert_eq!(&echo[1..], &want[..]);
        // Ctrl-W at the start erases nothing.
        let (_, echo) = type_all(&mut ed, b"\x01\x17");
        assert_eq!(ed.line(), " b");
        assert_eq!(echo, b"\x08");
    }

    #[test]
    fn tab_completes_commands_then_paths() {
        let mut ed = LineEditor::new();
        // One candidate: completed, with a space.
        let echo = type_completing(&mut ed, b"dm\t");
        assert_eq!(ed.line(), "dmesg ");
        assert_eq!(echo, b"dmesg ");
        // Two: their common prefix, then the bell, then the list.
        ed.clear();
        let echo = type_completing(&mut ed, b"c\t");
        assert_eq!(echo, b"c\x07");
        let echo = type_completing(&mut ed, b"l\t");
        assert_eq!(ed.line(), "clear ");
        assert_eq!(echo, b"lear ");
        ed.clear();
        type_completing(&mut ed, b"c\t");
        let echo = type_completing(&mut ed, b"\t");
        let mut want = b"\ncat    clear\n".to_vec();
        want.extend_from_slice(super::super::PROMPT.as_bytes());
        want.extend_from_slice(b"c");
        assert_eq!(echo, want);
        // Paths after the first word: directories get their `/`.
        ed.clear();
        type_completing(&mut ed, b"cat /l\tm\t");
        assert_eq!(ed.line(), "cat /lib/modules/");
        let echo = type_completing(&mut ed, b"h\t");
        assert_eq!(echo, b"hello");
        let echo = type_completing(&mut ed, b"\t");
        let mut want = b"\nhello.ko   hello2.ko\n".to_vec();
        want.extend_from_slice(super::super::PROMPT.as_bytes());
        want.extend_from_slice(b"cat /lib/modules/hello");
        assert_eq!(echo, want);
        type_completing(&mut ed, b".\t");
        assert_eq!(ed.line(), "cat /lib/modules/hello.ko ");
        // Relative names are looked up in `/`; nothing matching: the bell.
        ed.clear();
        type_completing(&mut ed, b"cat pr\t");
        assert_eq!(ed.line(), "cat proc/");
        let echo = type_completing(&mut ed, b"x\t\t");
        assert_eq!(echo, b"x\x07\x07");
        // Mid-line: the word before the cursor, the tail kept after it.
        ed.clear();
        type_completing(&mut ed, b"cat /lib/modules/pr x\x1b[D\x1b[D\t");
        assert_eq!(ed.line(), "cat /lib/modules/provider.ko  x");
        // Without a completer Tab only rings the bell.
        ed.clear();
        let (_, echo) = type_all(&mut ed, b"dm\t");
        assert_eq!(echo, b"dm\x07");
        assert_eq!(ed.line(), "dm");
    }
}
