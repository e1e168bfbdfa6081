//! `pr_info!` and friends: Rust formatting into a 512-byte stack buffer,
//! then one `_printk("<level>%s", buf)` call. A message longer than the
//! buffer is cut, as Linux cuts at LOG_LINE_MAX.

use core::fmt::{self, Write};

pub const KERN_EMERG: &[u8; 3] = b"\x010\0";
pub const KERN_ERR: &[u8; 3] = b"\x013\0";
pub const KERN_WARNING: &[u8; 3] = b"\x014\0";
pub const KERN_INFO: &[u8; 3] = b"\x016\0";

struct Buf {
    bytes: [u8; 512],
    len: usize,
}

impl Write for Buf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            // Keep one byte for the NUL; a NUL inside would end the string.
            if self.len + 1 < self.bytes.len() && b != 0 {
                self.bytes[self.len] = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

/// Logs `args` at `level` (one of the `KERN_*` prefixes).
pub fn printk(level: &[u8; 3], args: fmt::Arguments<'_>) {
    let mut buf = Buf {
        bytes: [0; 512],
        len: 0,
    };
    let _ = buf.write_fmt(args);
    buf.bytes[buf.len] = 0;
    let fmt = [level[0], level[1], b'%', b's', b'\n', 0];
    // SAFETY: both are NUL-terminated; "%s" takes exactly one char pointer.
    unsafe { crate::ffi::_printk(fmt.as_ptr().cast(), buf.bytes.as_ptr()) };
}

#[macro_export]
macro_rules! pr_info {
    ($($arg:tt)*) => { $crate::print::printk($crate::print::KERN_INFO, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! pr_warn {
    ($($arg:tt)*) => { $crate::print::printk($crate::print::KERN_WARNING, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! pr_err {
    ($($arg:tt)*) => { $crate::print::printk($crate::print::KERN_ERR, format_args!($($arg)*)) };
}
