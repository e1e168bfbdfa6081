//! Kernel time: a monotonic nanosecond clock for printk timestamps and
//! `/proc/uptime`, the busy-wait delays on the same counter ([`delay`]), and
//! `jiffies`, counted by the SP804 timer's interrupt ([`jiffies`]).
//!
//! printk times, `uptime` and `/proc/uptime` stay on the 24 MHz counter, not
//! on jiffies: they are right from the first instruction, before interrupts
//! are on, and finer than a 10 ms tick.
//!
//! The clock is the vexpress motherboard's 24 MHz counter (SYS_24MHZ at
//! sysregs + 0x5c; ARM DUI 0447, "V2M-P1 motherboard", 4.3 System register
//! summary): a free-running 32-bit up-counter that QEMU derives from its
//! virtual clock. It wraps every 2^32 / 24 MHz ≈ 179 s, so the kernel extends
//! it to 64 bits by noticing wraps; this only needs a read at least once per
//! wrap period, which the shell's idle loop guarantees.

use core::sync::atomic::{AtomicU64, Ordering};

pub mod delay;
pub mod jiffies;

/// Counter frequency.
pub const COUNTER_HZ: u64 = 24_000_000;

/// Extends a wrapping 32-bit counter to 64 bits.
#[derive(Debug, Default)]
pub struct Extender {
    /// The last 64-bit value returned.
    last: AtomicU64,
}

impl Extender {
    pub const fn new() -> Self {
        Extender {
            last: AtomicU64::new(0),
        }
    }

    /// Folds a fresh 32-bit reading into the 64-bit count.
    pub fn update(&self, now32: u32) -> u64 {
        let last = self.last.load(Ordering::Relaxed);
        let mut high = last & !0xffff_ffff;
        if (now32 as u64) < (last & 0xffff_ffff) {
            high += 1 << 32; // wrapped since the last read
        }
        let now = high | now32 as u64;
        self.last.store(now, Ordering::Relaxed);
        now
    }
}

/// Converts counter ticks to nanoseconds.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    // 1e9 / 24e6 = 125 / 3: exact, and no overflow for 2^64 / 125 ticks
    // (about 195 years). The first 2^32 ticks (179 s: all of a boot)
    // divide by 3 in 32 bits, less guest code than the u64 division.
    match u32::try_from(ticks) {
        Ok(t) => u64::from(t / 3) * 125 + u64::from(t % 3 * 125 / 3),
        Err(_) => ticks_to_ns_64(ticks),
    }
}

/// [`ticks_to_ns`] past 2^32 ticks; out of line, as `secs_usecs_64`.
#[cold]
#[inline(never)]
fn ticks_to_ns_64(ticks: u64) -> u64 {
    ticks / 3 * 125 + (ticks % 3) * 125 / 3
}
const _: () = assert!(COUNTER_HZ * 125 == 1_000_000_000 * 3);

/// A periodic timer's reload value for `hz` ticks a second from a clock of
/// `rate` Hz: Linux's `DIV_ROUND_CLOSEST(rate, HZ)` (timer-sp804.c).
pub const fn timer_reload(rate: u32, hz: u32) -> u32 {
    (rate + hz / 2) / hz
}

/// Splits nanoseconds into Linux printk's `[%5lu.%06lu]` parts.
///
/// The first 2^32 ns (4.29 s: all of a boot) are split in 32 bits, where a
/// division by a constant is a multiplication; the u64 one is a call into
/// compiler_builtins' `u64_div_rem` (ARMv7 has no 64-bit divide), ~50
/// guest instructions QEMU would translate for the timestamps alone.
pub fn secs_usecs(ns: u64) -> (u64, u64) {
    match u32::try_from(ns) {
        Ok(ns) => (
            u64::from(ns / 1_000_000_000),
            u64::from((ns % 1_000_000_000) / 1000),
        ),
        Err(_) => secs_usecs_64(ns),
    }
}

/// [`secs_usecs`] past 2^32 ns. Out of line: inlined, LLVM computed the
/// 64-bit division on the 32-bit path too, the select coming after it.
#[cold]
#[inline(never)]
fn secs_usecs_64(ns: u64) -> (u64, u64) {
    (ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}

#[cfg(target_arch = "arm")]
mod kernel;
#[cfg(target_arch = "arm")]
pub use kernel::{delay_ticks, msleep, now_ns, time_init};

/// Host builds have no board clock: their time stands still (the host
/// stand-in of `kernel::now_ns`, for the host-built printk and shell).
#[cfg(not(target_arch = "arm"))]
pub fn now_ns() -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extends_across_wraps() {
        let e = Extender::new();
        assert_eq!(e.update(10), 10);
        assert_eq!(e.update(0xffff_fff0), 0xffff_fff0);
        assert_eq!(e.update(5), 0x1_0000_0005);
        assert_eq!(e.update(5), 0x1_0000_0005);
        assert_eq!(e.update(0x8000_0000), 0x1_8000_0000);
        assert_eq!(e.update(1), 0x2_0000_0001);
    }

    #[test]
    fn converts_ticks() {
        assert_eq!(ticks_to_ns(24_000_000), 1_000_000_000);
        assert_eq!(ticks_to_ns(24), 1000);
        assert_eq!(ticks_to_ns(1), 41);
        // The 32-bit conversion and the 64-bit one agree around 2^32.
        for t in [
            0,
            2,
            3,
            u64::from(u32::MAX) - 1,
            u64::from(u32::MAX),
            1 << 32,
            0x1_0000_0002,
        ] {
            assert_eq!(ticks_to_ns(t), t / 3 * 125 + (t % 3) * 125 / 3, "{t}");
        }
        assert_eq!(secs_usecs(1_234_567_891), (1, 234_567));
        // The 32-bit split and the 64-bit one agree on both sides of 2^32.
        for ns in [
            0,
            999,
            1_000_000_000,
            u64::from(u32::MAX) - 1,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            98_765_432_100_000,
            u64::MAX,
        ] {
            assert_eq!(
                secs_usecs(ns),
                (ns / 1_000_000_000, (ns % 1_000_000_000) / 1000),
                "{ns}"
            );
        }
        // The SP804 at 1 MHz: 10 ms and 4 ms periods.
        assert_eq!(timer_reload(1_000_000, jiffies::HZ), 10_000);
        assert_eq!(timer_reload(1_000_000, jiffies::LINUX61_HZ), 4_000);
    }
}
