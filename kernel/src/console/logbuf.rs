//! The printk ring buffer behind `dmesg` (Linux: kernel/printk/printk.c's
//! `log_buf`).
//!
//! Linux keeps structured records; Kobold keeps the formatted lines, each
//! already carrying its `[    0.000000] ` timestamp, in a byte ring. When the
//! ring is full the oldest *whole lines* are dropped, so `dmesg` never shows
//! half a line.
//!
//! Every byte has a position: how many bytes were pushed before it, since
//! boot (Linux's records have sequence numbers for the same reason). A
//! reader that copies the log out a piece at a time ([`LogBuf::read_at`],
//! `dmesg`) keeps its place by position, so it can let go of the lock
//! between pieces: if the ring drops lines meanwhile, it resumes at the
//! oldest whole line still there.

/// A ring of text lines, `N` bytes.
pub struct LogBuf<const N: usize> {
    buf: [u8; N],
    /// Index of the oldest byte.
    head: usize,
    len: usize,
    /// Position of the byte after the newest (bytes pushed since boot).
    end: u64,
}

impl<const N: usize> Default for LogBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LogBuf<N> {
    pub const fn new() -> Self {
        LogBuf {
            buf: [0; N],
            head: 0,
            len: 0,
            end: 0,
        }
    }

    /// Appends bytes, dropping the oldest lines to make room.
    pub fn push(&mut self, bytes: &[u8]) {
        // A write larger than the whole ring keeps only its tail.
        let bytes = if bytes.len() > N {
            &bytes[bytes.len() - N..]
        } else {
            bytes
        };
        if self.len + bytes.len() > N {
            self.drop_oldest(self.len + bytes.len() - N);
        }
        for &b in bytes {
            self.buf[(self.head + self.len) % N] = b;
            self.len += 1;
        }
        self.end += bytes.len() as u64;
    }

    /// Drops at least `n` bytes, up to and including the next newline.
    fn drop_oldest(&mut self, n: usize) {
        let mut dropped = 0;
        while self.len > 0 {
            let b = self.buf[self.head];
            self.head = (self.head + 1) % N;
            self.len -= 1;
            dropped += 1;
            if dropped >= n && b == b'\n' {
                break;
            }
        }
    }

    /// The contents, oldest first, as at most two slices.
    pub fn as_slices(&self) -> (&[u8], &[u8]) {
        let end = self.head + self.len;
        if end <= N {
            (&self.buf[self.head..end], &[])
        } else {
            (&self.buf[self.head..], &self.buf[..end - N])
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Position of the oldest byte held.
    pub fn start_pos(&self) -> u64 {
        self.end - self.len as u64
    }

    /// Position after the newest byte.
    pub fn end_pos(&self) -> u64 {
        self.end
    }

    /// Copies bytes from position `pos` (or from the oldest byte held, if
    /// that is later: the lines before were dropped), stopping before
    /// position `until` and when `out` is full; a piece that stops inside
    /// the log ends at a character boundary (the next byte is not a UTF-8
    /// continuation byte), unless one character is longer than `out`.
    /// Returns the position of the first byte copied and how many were.
    pub fn read_at(&self, pos: u64, until: u64, out: &mut [u8]) -> (u64, usize) {
        let from = pos.max(self.start_pos());
        let until = until.min(self.end);
        if from >= until {
            return (from, 0);
        }
        let avail = usize::try_from(until - from).unwrap_or(usize::MAX);
        let mut n = avail.min(out.len());
        let offset = (from - self.start_pos()) as usize;
        let at = |i: usize| self.buf[(self.head + offset + i) % N];
        if n < avail {
            let mut cut = n;
            while cut > 0 && at(cut) & 0xc0 == 0x80 {
                cut -= 1;
            }
            if cut > 0 {
                n = cut;
            }
        }
        for (i, o) in out[..n].iter_mut().enumerate() {
            *o = at(i);
        }
        (from, n)
    }

    /// Empties the ring (`dmesg -c`, Linux's `syslog(SYSLOG_ACTION_CLEAR)`);
    /// positions go on from where they were.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents<const N: usize>(l: &LogBuf<N>) -> String {
        let (a, b) = l.as_slices();
        let mut v = a.to_vec();
        v.extend_from_slice(b);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn keeps_whole_lines_when_wrapping() {
        let mut l = LogBuf::<16>::new();
        l.push(b"one\n");
        l.push(b"two\n");
        l.push(b"three\n");
        assert_eq!(contents(&l), "one\ntwo\nthree\n");
        l.push(b"four\n"); // 19 bytes > 16: "one\n" goes
        assert_eq!(contents(&l), "two\nthree\nfour\n");
        l.push(b"a-very-long-line-indeed\n");
        assert!(contents(&l).ends_with("line-indeed\n"));
        assert!(l.len() <= 16);
    }

    /// Reads the whole log in pieces of `piece` bytes, pushing `extra`
    /// after the first piece (a message logged while `dmesg` writes).
    fn read_in_pieces<const N: usize>(l: &mut LogBuf<N>, piece: usize, extra: &[u8]) -> String {
        let (mut pos, until) = (l.start_pos(), l.end_pos());
        let mut got = Vec::new();
        let mut buf = vec![0u8; piece];
        let mut first = true;
        loop {
            let (from, n) = l.read_at(pos, until, &mut buf);
            if n == 0 {
                break;
            }
            assert!(from >= pos);
            got.extend_from_slice(&buf[..n]);
            pos = from + n as u64;
            if first {
                l.push(extra);
                first = false;
            }
        }
        String::from_utf8(got).unwrap()
    }

    #[test]
    fn pieces_add_up_to_the_log_and_stop_at_its_end_when_read_began() {
        let mut l = LogBuf::<64>::new();
        l.push(b"one\ntwo\nthree\n");
        for piece in 1..20 {
            let mut copy = LogBuf::<64>::new();
            copy.push(b"one\ntwo\nthree\n");
            assert_eq!(
                read_in_pieces(&mut copy, piece, b"late\n"),
                "one\ntwo\nthree\n"
            );
        }
        assert_eq!(l.start_pos(), 0);
        assert_eq!(l.end_pos(), 14);
        l.clear();
        assert_eq!((l.start_pos(), l.end_pos()), (14, 14));
        assert_eq!(read_in_pieces(&mut l, 4, b""), "");
    }

    #[test]
    fn a_reader_overtaken_by_the_ring_resumes_at_a_whole_line() {
        let mut l = LogBuf::<16>::new();
        l.push(b"aaaa\nbbbb\ncccc\n");
        // After the first piece ("aa"), 8 more bytes drop "aaaa\nbbbb\n".
        let got = read_in_pieces(&mut l, 2, b"dddddd\n");
        assert_eq!(got, "aacccc\n");
    }

    #[test]
    fn pieces_end_at_character_boundaries() {
        let mut l = LogBuf::<64>::new();
        l.push("é€😀\n".as_bytes());
        for piece in 4..12 {
            let mut copy = LogBuf::<64>::new();
            copy.push("é€😀\n".as_bytes());
            assert_eq!(read_in_pieces(&mut copy, piece, b""), "é€😀\n");
        }
        // A piece smaller than a character still makes progress.
        let (from, n) = l.read_at(0, 64, &mut [0u8; 1]);
        assert_eq!((from, n), (0, 1));
    }
}
