//! The console: `print!`/`println!` for command output, `printk` (the
//! `pr_*!` macros) for the kernel log, and the ring buffer behind `dmesg`.
//!
//! Output goes to UART0 with `\n` sent as `\r\n`, as a Linux serial console
//! does. On the host (unit tests) the output is discarded.
pub mod logbuf;
pub mod printk;

use core::fmt;

/// Writes raw bytes to the console device (never inlined, as `vprintk`).
#[inline(never)]
pub fn write_bytes(bytes: &[u8]) {
    #[cfg(target_arch = "arm")]
    for &b in bytes {
        if b == b'\n' {
            crate::board::vexpress_a9::uart::putc(b'\r');
        }
        crate::board::vexpress_a9::uart::putc(b);
    }
    #[cfg(not(target_arch = "arm"))]
    let _ = bytes;
}

/// A `fmt::Write` for the console device.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_bytes(s.as_bytes());
        Ok(())
    }
}

/// A fixed-size `fmt::Write` target for formatting without an allocator;
/// output past `N` bytes is cut (at a character boundary), never an error.
pub struct FixedBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for FixedBuf<N> {
    fn default() -> Self {
        FixedBuf {
            buf: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> FixedBuf<N> {
    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are copied in, but the last may have been cut.
        match core::str::from_utf8(&self.buf[..self.len]) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&self.buf[..e.valid_up_to()]).unwrap_or(""),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl<const N: usize> fmt::Write for FixedBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut Console, args);
}

/// Prints to the console (no timestamp, not logged): command output.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::_print(format_args!($($arg)*)) };
}

/// `print!` with a newline.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::_print(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn fixed_buf_cuts_at_a_character_boundary() {
        let mut b = FixedBuf::<7>::default();
        write!(b, "ab{}", 12).unwrap();
        assert_eq!(b.as_str(), "ab12");
        write!(b, "cdé").unwrap(); // 'é' is 2 bytes: only one fits
        assert_eq!(b.as_str(), "ab12cd");
        write!(b, "more").unwrap();
        assert_eq!(b.as_str(), "ab12cd");
    }
}
