//! The printk ring buffer behind `dmesg` (Linux: kernel/printk/printk.c's
//! `log_buf`).
//!
//! Linux keeps structured records; Kobold keeps the formatted lines, each
//! already carrying its `[    0.000000] ` timestamp, in a byte ring. When the
//! ring is full the oldest *whole lines* are dropped, so `dmesg` never shows
//! half a line.

/// A ring of text lines, `N` bytes.
pub struct LogBuf<const N: usize> {
    buf: [u8; N],
    /// Index of the oldest byte.
    head: usize,
    len: usize,
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

    /// Empties the ring (`dmesg -c`, Linux's `syslog(SYSLOG_ACTION_CLEAR)`).
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
}
