//! The console: `print!`/`println!` for command output, `printk` (the
//! `pr_*!` macros) for the kernel log, and the ring buffer behind `dmesg`.
//!
//! Output goes to UART0 with `\n` sent as `\r\n`, as a Linux serial console
//! does. On the host (unit tests) the output is discarded.
pub mod logbuf;
pub mod printk;

use core::fmt;

/// Writes raw bytes to the console device.
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
