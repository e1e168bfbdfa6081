//! Time, as a C module sees it through `<linux/jiffies.h>` and
//! `<linux/delay.h>`: the tick count `jiffies`, `HZ` ticks a second, and
//! `msleep`.
//!
//! `jiffies` is the kernel's own variable, exported as data, so it is read
//! with a volatile load each time (the C header declares it `volatile`).
//! It starts five minutes before its 32-bit wrap (Linux's
//! `INITIAL_JIFFIES`), so compare ticks with [`time_after`] and
//! [`time_before`], never with `<`.

use crate::ffi;

/// Kobold's tick rate for modules of its own (3.18) API: `HZ` in
/// `<linux/param.h>`, `CONFIG_HZ=100` as Linux 3.18's vexpress build.
pub const HZ: u32 = 100;

/// The tick count now (`jiffies`).
pub fn jiffies() -> u32 {
    // SAFETY: an exported kernel variable, a word-aligned u32 the timer
    // interrupt updates; a volatile load reads it whole.
    unsafe { core::ptr::read_volatile(&raw const ffi::jiffies) as u32 }
}

/// The 64-bit tick count (`get_jiffies_64()`), which does not wrap.
pub fn jiffies_64() -> u64 {
    // SAFETY: a kernel export with no arguments.
    unsafe { ffi::get_jiffies_64() }
}

/// `time_after(a, b)`: tick `a` is after tick `b`, right across the wrap
/// as long as they are less than 2^31 ticks apart.
pub const fn time_after(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}

/// `time_before(a, b)`: tick `a` is before tick `b`.
pub const fn time_before(a: u32, b: u32) -> bool {
    time_after(b, a)
}

/// `msecs_to_jiffies(ms)`: the ticks in `ms` milliseconds, rounded up.
pub fn msecs_to_jiffies(ms: u32) -> u32 {
    // SAFETY: a kernel export taking a plain number.
    unsafe { ffi::msecs_to_jiffies(ms) as u32 }
}

/// `msleep(ms)`: sleeps at least `ms` milliseconds (Kobold has one task,
/// so the CPU waits for the ticks in `wfi`).
pub fn msleep(ms: u32) {
    // SAFETY: a kernel export taking a plain number; it may sleep, which
    // module init and exit may do.
    unsafe { ffi::msleep(ms) }
}
