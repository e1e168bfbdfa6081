//! printk: timestamped kernel log lines, kept in a ring buffer for `dmesg`
//! and echoed to the console, as Linux does with CONFIG_PRINTK_TIME.
//!
//! Every line starts with `[%5lu.%06lu] ` — seconds and microseconds since
//! reset (Linux's `print_time()`); a message with several lines gets a
//! timestamp on each, and a message always ends its line. Log levels are
//! Linux's. Every message goes into the log (`dmesg`); the console gets
//! those below the console loglevel — 7 by default, so everything but
//! `pr_debug!` — which `loglevel=N` and `dmesg -n N` change.

use super::logbuf::LogBuf;
use crate::arch::armv7::irqflags::without_irqs;
use crate::sync::Mutex;
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

/// Size of the log ring (Linux: 1 << CONFIG_LOG_BUF_SHIFT; 64 KB here).
pub const LOG_BUF_LEN: usize = 64 * 1024;

/// Linux's log levels (include/linux/kern_levels.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

/// Messages below this level reach the console at boot (Linux's default
/// `console_loglevel`, 7: everything but `KERN_DEBUG`).
pub const CONSOLE_LOGLEVEL: Level = Level::Debug;

struct Printk {
    log: LogBuf<LOG_BUF_LEN>,
}

static PRINTK: Mutex<Printk> = Mutex::new(Printk { log: LogBuf::new() });

/// Formats one message into whole, timestamped lines.
pub struct LineWriter<'a> {
    prefix: super::FixedBuf<16>,
    at_line_start: bool,
    sink: &'a mut dyn FnMut(&[u8]),
}

impl<'a> LineWriter<'a> {
    /// A writer stamping lines with `ns` nanoseconds.
    pub fn new(ns: u64, sink: &'a mut dyn FnMut(&[u8])) -> Self {
        let (secs, usecs) = crate::time::secs_usecs(ns);
        // Linux's print_time prints `(unsigned long)ts`: 32 bits on ARM.
        // Formatting them as u32 also keeps the boot to one integer
        // formatter (`u64`'s `Display` is ~130 more guest instructions for
        // QEMU to translate; docs/BENCHMARKS.md, "Fifth pass").
        let (secs, usecs) = (secs as u32, usecs as u32);
        let mut prefix = super::FixedBuf::default();
        let _ = fmt::Write::write_fmt(&mut prefix, format_args!("[{secs:5}.{usecs:06}] "));
        LineWriter {
            prefix,
            at_line_start: true,
            sink,
        }
    }

    /// Ends the current line if the message did not.
    pub fn finish(mut self) {
        if !self.at_line_start {
            (self.sink)(b"\n");
            self.at_line_start = true;
        }
    }
}

impl fmt::Write for LineWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s.as_bytes();
        while !rest.is_empty() {
            let (line, tail) = split_line(rest);
            if self.at_line_start {
                (self.sink)(self.prefix.as_bytes());
            }
            (self.sink)(line);
            self.at_line_start = line.last() == Some(&b'\n');
            rest = tail;
        }
        Ok(())
    }
}

/// The first line of non-empty `bytes`, its `\n` included if it has one,
/// and the rest: the pieces `str::split_inclusive('\n')` yields, found by
/// a plain byte loop. (`split_inclusive` on a `char` runs core's generic
/// `CharSearcher`, which at boot is ~150 guest instructions that QEMU
/// translates for nothing else; a `\n` byte never occurs inside a
/// multi-byte UTF-8 character, so splitting the bytes is the same.)
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    let len = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    bytes.split_at(len)
}

/// The console loglevel now (Linux's `console_loglevel`, what `dmesg -n`
/// sets): messages below it reach the console; the others only the log.
static CONSOLE_LEVEL_NOW: AtomicU8 = AtomicU8::new(CONSOLE_LOGLEVEL as u8);

/// Keeps the console to errors and worse while it lives (`dmesg -n 4`);
/// everything still goes to the log. Long self-tests use it so thousands
/// of module greetings do not flood the serial line.
pub struct Quiet(u8);

/// Quietens the console until the returned guard is dropped.
pub fn quiet() -> Quiet {
    Quiet(CONSOLE_LEVEL_NOW.swap(Level::Warning as u8, Ordering::Relaxed))
}

impl Drop for Quiet {
    fn drop(&mut self) {
        CONSOLE_LEVEL_NOW.store(self.0, Ordering::Relaxed);
    }
}

/// Sets the console loglevel (`loglevel=N`, `dmesg -n N`): messages of a
/// level below `n` reach the console; all of them reach the log. Linux
/// clamps it to 1..=8 (`minimum_console_loglevel` is 1).
pub fn set_console_loglevel(n: u8) {
    CONSOLE_LEVEL_NOW.store(n.clamp(1, 8), Ordering::Relaxed);
}

/// The console loglevel now.
pub fn console_loglevel() -> u8 {
    CONSOLE_LEVEL_NOW.load(Ordering::Relaxed)
}

/// Empties the log buffer (`dmesg -c`).
pub fn clear_log() {
    without_irqs(|| PRINTK.lock().log.clear());
}

/// Logs one message at `level`: always into the log buffer (`dmesg` shows
/// `pr_debug` too), and to the console when `level` is below the console
/// loglevel (Linux's default 7 keeps `KERN_DEBUG` off the console).
///
/// Never inlined: with LTO some callers got a copy of it all (the lock,
/// the timestamp, the line splitting), which QEMU translated once per copy
/// at boot (docs/BENCHMARKS.md, "Fifth pass").
#[inline(never)]
pub fn vprintk(level: Level, args: fmt::Arguments<'_>) {
    let to_console = (level as u8) < CONSOLE_LEVEL_NOW.load(Ordering::Relaxed);
    let ns = crate::time::now_ns();
    // IRQs masked while the log is locked (Linux's logbuf_lock is taken
    // with raw_spin_lock_irqsave): an interrupt handler that logs can then
    // never find the lock held by the code it interrupted.
    without_irqs(|| {
        let mut p = PRINTK.lock();
        let mut sink = |bytes: &[u8]| {
            p.log.push(bytes);
            if to_console {
                super::write_bytes(bytes);
            }
        };
        let mut w = LineWriter::new(ns, &mut sink);
        let _ = fmt::Write::write_fmt(&mut w, args);
        w.finish();
    })
}

/// Makes printk usable from an oops even if the fault hit while the log was
/// locked (Linux's `bust_spinlocks(1)`).
pub fn bust_locks() {
    if PRINTK.is_locked() {
        // SAFETY: called only on the way to a panic, with interrupts off on
        // the single CPU: the holder of the lock was the code that faulted,
        // and it will never run again.
        unsafe { PRINTK.force_unlock() };
    }
}

/// Hands the log to `f` oldest first, a piece at a time (`dmesg`): each
/// piece is copied out under the lock with IRQs masked, and `f` runs with
/// them unmasked, as Linux's `syslog_print_all` copies records under
/// `logbuf_lock` and writes them to the user with the lock dropped — so
/// writing a long log to the serial line loses no timer tick. The log is
/// read up to where it ended when `dmesg` began.
pub fn with_log(f: &mut dyn FnMut(&[u8])) {
    let (mut pos, until) = without_irqs(|| {
        let p = PRINTK.lock();
        (p.log.start_pos(), p.log.end_pos())
    });
    let mut piece = [0u8; 256];
    loop {
        let (from, n) = without_irqs(|| PRINTK.lock().log.read_at(pos, until, &mut piece));
        if n == 0 {
            return;
        }
        f(&piece[..n]);
        pos = from + n as u64;
    }
}

#[macro_export]
macro_rules! printk {
    ($level:expr, $($arg:tt)*) => {
        $crate::console::printk::vprintk($level, format_args!($($arg)*))
    };
}
#[macro_export]
macro_rules! pr_emerg { ($($arg:tt)*) => { $crate::printk!($crate::console::printk::Level::Emerg, $($arg)*) }; }
#[macro_export]
macro_rules! pr_alert { ($($arg:tt)*) => { $crate::printk!($crate::console::printk::Level::Alert, $($arg)*) }; }
#[macro_export]
macro_rules! pr_err { ($($arg:tt)*) => { $crate::printk!($crate::console::printk::Level::Err, $($arg)*) }; }
#[macro_export]
macro_rules! pr_warn { ($($arg:tt)*) => { $crate::printk!($crate::console::printk::Level::Warning, $($arg)*) }; }
#[macro_export]
macro_rules! pr_notice { ($($arg:tt)*) => { $crate::printk!($crate::console::printk::Level::Notice, $($arg)*) }; }
#[macro_export]
macro_rules! pr_info { ($($arg:tt)*) => { $crate::printk!($crate::console::printk::Level::Info, $($arg)*) }; }
#[macro_export]
macro_rules! pr_debug { ($($arg:tt)*) => { $crate::printk!($crate::console::printk::Level::Debug, $($arg)*) }; }

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    fn render(ns: u64, f: impl FnOnce(&mut LineWriter<'_>)) -> String {
        let mut out = Vec::new();
        let mut sink = |b: &[u8]| out.extend_from_slice(b);
        let mut w = LineWriter::new(ns, &mut sink);
        f(&mut w);
        w.finish();
        String::from_utf8(out).unwrap()
    }

    /// `split_line` cuts exactly where `split_inclusive('\n')` does.
    #[test]
    fn split_line_is_split_inclusive() {
        for s in [
            "a",
            "\n",
            "\n\n",
            "ab\ncd",
            "ab\ncd\n",
            "\nx",
            "é\nü\n\nz",
            "no newline",
        ] {
            let mut got = Vec::new();
            let mut rest = s.as_bytes();
            while !rest.is_empty() {
                let (line, tail) = split_line(rest);
                got.push(core::str::from_utf8(line).unwrap());
                rest = tail;
            }
            let want: Vec<&str> = s.split_inclusive('\n').collect();
            assert_eq!(got, want, "{s:?}");
        }
    }

    #[test]
    fn every_line_gets_linux_timestamp() {
        let s = render(123_000, |w| {
            write!(w, "Virtual kernel memory layout:\n    vector").unwrap()
        });
        assert_eq!(
            s,
            "[    0.000123] Virtual kernel memory layout:\n[    0.000123]     vector\n"
        );
        let s = render(98_765_432_100_000, |w| writeln!(w, "x").unwrap());
        assert_eq!(s, "[98765.432100] x\n");
        // Seconds wrap at 2^32, as Linux's `unsigned long` on ARM does.
        let s = render(((1u64 << 32) + 7) * 1_000_000_000 + 5_000, |w| {
            w.write_str("x\n").unwrap()
        });
        assert_eq!(s, "[    7.000005] x\n");
        let s = render(0, |w| {
            w.write_str("a").unwrap();
            w.write_str("b\n").unwrap();
        });
        assert_eq!(s, "[    0.000000] ab\n");
    }
}
