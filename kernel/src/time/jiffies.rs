//! `jiffies`: the count of timer ticks since boot, Linux's coarse clock
//! (include/linux/jiffies.h, kernel/time/jiffies.c, kernel/time/time.c).
//!
//! A periodic timer interrupt adds one `HZ` times a second. Kobold keeps two
//! independent counts, each driven by its own SP804 timer (`time_init`):
//!
//! - [`JIFFIES_64`] at [`HZ`] = 100, Kobold's own module ABI (Linux 3.18's;
//!   vexpress_defconfig has HZ=100). Exported to modules as `jiffies_64`
//!   and, at the same address, `jiffies`: on little-endian ARM Linux's
//!   `jiffies` is the low word of `jiffies_64` (vmlinux.lds.S:
//!   `jiffies = jiffies_64;`).
//! - [`LINUX61_JIFFIES`] at [`LINUX61_HZ`] = 250, for modules built for
//!   Debian's Linux 6.1 armmp kernel (CONFIG_HZ=250): such a module bakes HZ
//!   into its code (`msecs_to_jiffies` of a constant is folded by the
//!   compiler), so it must read a counter that really runs at 250 Hz. The
//!   6.1 personality (`module::linux61`) exports its address as 6.1's
//!   `jiffies`/`jiffies_64`.
//!
//! Both start where Linux starts them, `INITIAL_JIFFIES` = -300 s worth of
//! ticks in 32 bits, so `jiffies` wraps five minutes after boot and code
//! that compares jiffies without `time_after` shows its bug early.
//!
//! The arithmetic is 3.18's for an HZ that divides 1000 (kernel/time/time.c,
//! the `HZ <= MSEC_PER_SEC && !(MSEC_PER_SEC % HZ)` branches), in `unsigned
//! long` = u32, wrapping where C wraps.

use core::sync::atomic::{AtomicU64, Ordering};

/// Kobold's tick rate (Linux 3.18 vexpress: CONFIG_HZ=100).
pub const HZ: u32 = 100;
/// The Linux 6.1 personality's tick rate (Debian armmp: CONFIG_HZ=250).
pub const LINUX61_HZ: u32 = 250;

/// `INITIAL_JIFFIES` for `hz`: `(unsigned long)(unsigned int)(-300*HZ)`.
pub const fn initial_jiffies(hz: u32) -> u64 {
    (0u32.wrapping_sub(300 * hz)) as u64
}

/// `MAX_JIFFY_OFFSET`: `((LONG_MAX >> 1) - 1)`, the longest timeout.
pub const MAX_JIFFY_OFFSET: u32 = (i32::MAX as u32 >> 1) - 1;

/// A jiffies counter: a u64 in memory (`#[repr(transparent)]` over an
/// `AtomicU64`, which has u64's size, alignment and layout), so C code can
/// read it as `u64 jiffies_64` and its first word as `unsigned long
/// jiffies`. Only the tick handler writes it.
#[repr(transparent)]
#[derive(Debug)]
pub struct Jiffies(AtomicU64);

impl Jiffies {
    pub const fn new(initial: u64) -> Self {
        Jiffies(AtomicU64::new(initial))
    }

    /// `get_jiffies_64()`: the whole count, read atomically (Linux takes
    /// `jiffies_lock`'s seqcount on 32-bit; `ldrexd` does it here).
    pub fn get_64(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// `jiffies`: the low 32 bits.
    pub fn get(&self) -> u32 {
        self.get_64() as u32
    }

    /// One tick (`do_timer(1)`).
    pub fn tick(&self) {
        self.add(1);
    }

    /// `ticks` ticks at once (`do_timer(ticks)`), from the timer interrupt:
    /// what [`TickClock::due`] says has passed since the last update.
    pub fn add(&self, ticks: u64) {
        self.0.fetch_add(ticks, Ordering::Relaxed);
    }

    /// The counter's address, for the export tables.
    pub const fn as_ptr(&self) -> *const u64 {
        self.0.as_ptr() as *const u64
    }
}

/// Kobold's `jiffies_64` at [`HZ`]; `jiffies` is its low word. Named
/// `jiffies_64` in the symbol table, and `linker.ld` adds `jiffies` at the
/// same address, as Linux's vmlinux.lds.S does, so `/proc/kallsyms` and
/// System.map list both.
#[unsafe(export_name = "jiffies_64")]
pub static JIFFIES_64: Jiffies = Jiffies::new(initial_jiffies(HZ));

/// The Linux 6.1 personality's jiffies at [`LINUX61_HZ`], ticked by SP804
/// timer 1. Its address ([`Jiffies::as_ptr`]) is 6.1's `jiffies_64` (and
/// `jiffies`); a 6.1 `msleep(ms)` is `time::msleep(&LINUX61_JIFFIES,
/// LINUX61_HZ, msleep_ticks(ms, LINUX61_HZ))`, and the conversions take
/// `LINUX61_HZ` as their `hz`.
pub static LINUX61_JIFFIES: Jiffies = Jiffies::new(initial_jiffies(LINUX61_HZ));

/// When the last jiffy began, on the clock, so that a tick interrupt taken
/// late counts every period that passed, not one: Linux's
/// `tick_do_update_jiffies64` (kernel/time/tick-sched.c), which moves
/// `jiffies_64` by `delta / tick_period` and `last_jiffies_update` by that
/// many whole periods. Counting interrupts instead loses a tick whenever an
/// interrupt comes more than a period late (IRQs masked that long, or a
/// host too busy to run QEMU's timer on time), and `jiffies` then fall
/// behind the clock for good.
///
/// Times are in the clock's units (the 24 MHz counter extended to 64 bits);
/// the timer interrupt reads the clock and asks [`due`](Self::due). An
/// interrupt that finds less than a whole period since the last boundary
/// adds nothing; the next one adds what is due.
#[derive(Debug)]
pub struct TickClock {
    /// The clock time of the last jiffy boundary counted.
    last: AtomicU64,
    /// One jiffy in clock units.
    period: u64,
}

impl TickClock {
    /// A clock of jiffies of `period` units (at least 1), counted from 0.
    pub const fn new(period: u64) -> Self {
        TickClock {
            last: AtomicU64::new(0),
            period: if period == 0 { 1 } else { period },
        }
    }

    /// The periodic timer starts at clock time `now`: its first interrupt
    /// is due one period later.
    pub fn start(&self, now: u64) {
        self.last.store(now, Ordering::Relaxed);
    }

    /// The whole periods between the last boundary counted and `now`; the
    /// boundary moves on by that many periods, so the remainder is kept for
    /// the next call. A `now` before the boundary (never, on a monotonic
    /// clock) counts nothing. Called from the timer interrupt only (one
    /// writer).
    pub fn due(&self, now: u64) -> u64 {
        let last = self.last.load(Ordering::Relaxed);
        let delta = now.saturating_sub(last);
        // On time, an interrupt finds between one and two periods: no
        // division at all. A late one divides in 32 bits while the numbers
        // fit (a delta under 179 s): ARMv7 has no 64-bit divide, and the
        // u64 one is compiler_builtins' `u64_div_rem`, ~50 more guest
        // instructions for QEMU to translate at boot.
        let ticks = if delta < self.period {
            0
        } else if delta - self.period < self.period {
            1
        } else if let (Ok(d), Ok(p)) = (u32::try_from(delta), u32::try_from(self.period)) {
            u64::from(d / p)
        } else {
            delta / self.period
        };
        if ticks > 0 {
            self.last
                .store(last + ticks * self.period, Ordering::Relaxed);
        }
        ticks
    }
}

/// `time_after(a, b)`: `(long)((b) - (a)) < 0`, right across the wrap.
pub const fn time_after(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}

/// `time_before(a, b)`.
pub const fn time_before(a: u32, b: u32) -> bool {
    time_after(b, a)
}

/// `time_after_eq(a, b)`: `(long)((a) - (b)) >= 0`.
pub const fn time_after_eq(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

/// `jiffies_to_msecs(j)` at `hz`: `(MSEC_PER_SEC / HZ) * j`, in `unsigned
/// int`.
pub const fn jiffies_to_msecs(j: u32, hz: u32) -> u32 {
    (1000 / hz).wrapping_mul(j)
}

/// `jiffies_to_usecs(j)` at `hz`: `(USEC_PER_SEC / HZ) * j`.
pub const fn jiffies_to_usecs(j: u32, hz: u32) -> u32 {
    (1_000_000 / hz).wrapping_mul(j)
}

/// `msecs_to_jiffies(m)` at `hz`: rounds up; a negative `m` (as `int`)
/// means "forever", `MAX_JIFFY_OFFSET`.
pub const fn msecs_to_jiffies(m: u32, hz: u32) -> u32 {
    if (m as i32) < 0 {
        return MAX_JIFFY_OFFSET;
    }
    let per = 1000 / hz;
    m.div_ceil(per)
}

/// `usecs_to_jiffies(u)` at `hz`: rounds up; beyond
/// `jiffies_to_usecs(MAX_JIFFY_OFFSET)` (computed in 32 bits, as C does)
/// it is `MAX_JIFFY_OFFSET`.
pub const fn usecs_to_jiffies(u: u32, hz: u32) -> u32 {
    if u > jiffies_to_usecs(MAX_JIFFY_OFFSET, hz) {
        return MAX_JIFFY_OFFSET;
    }
    let per = 1_000_000 / hz;
    u.div_ceil(per)
}

/// The ticks `msleep(m)` waits for: `msecs_to_jiffies(m) + 1`, because the
/// current tick is already partly over (kernel/time/timer.c `msleep`).
pub const fn msleep_ticks(m: u32, hz: u32) -> u32 {
    msecs_to_jiffies(m, hz).wrapping_add(1)
}

/// Whether a sleep of `ticks` that began at `start` is over at `now`.
pub const fn sleep_done(start: u32, now: u32, ticks: u32) -> bool {
    now.wrapping_sub(start) >= ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_jiffies_wrap_after_five_minutes() {
        assert_eq!(initial_jiffies(100), 0xffff_8ad0);
        assert_eq!(initial_jiffies(250), 0xfffe_db08);
        let j = Jiffies::new(initial_jiffies(HZ));
        for _ in 0..300 * HZ - 1 {
            j.tick();
        }
        assert_eq!((j.get(), j.get_64()), (0xffff_ffff, 0xffff_ffff));
        j.tick();
        // jiffies wrapped; jiffies_64 carried into its high word.
        assert_eq!((j.get(), j.get_64()), (0, 0x1_0000_0000));
        // jiffies is the first word of jiffies_64 (little-endian).
        // SAFETY: the counter is a live u64.
        let low = unsafe { (j.as_ptr() as *const u32).read() };
        assert_eq!(low, 0);
    }

    /// A late interrupt counts every period that passed; an early one
    /// counts nothing and leaves its part for the next; the remainder is
    /// never lost or counted twice, so after any sequence of interrupts the
    /// jiffies are the whole periods since the start.
    #[test]
    fn tick_clock_catches_up_as_tick_do_update_jiffies64() {
        let c = TickClock::new(240_000); // 10 ms of the 24 MHz counter
        c.start(1_000);
        let j = Jiffies::new(initial_jiffies(HZ));
        let start = j.get_64();
        // On time (a little after each boundary): one each.
        for k in 1..=3u64 {
            let n = c.due(1_000 + k * 240_000 + 50);
            assert_eq!(n, 1);
            j.add(n);
        }
        // 55 ms late (IRQs masked): five periods at once, not one.
        let n = c.due(1_000 + 8 * 240_000 + 120_000);
        assert_eq!(n, 5);
        j.add(n);
        // The timer re-based half a period later: the next interrupts
        // still count one each, and the half period is not lost.
        assert_eq!(c.due(1_000 + 9 * 240_000 + 130_000), 1);
        assert_eq!(c.due(1_000 + 10 * 240_000 + 130_000), 1);
        j.add(2);
        // An interrupt early (before the boundary) counts nothing.
        assert_eq!(c.due(1_000 + 11 * 240_000 - 10), 0);
        assert_eq!(c.due(1_000 + 11 * 240_000), 1);
        j.add(1);
        assert_eq!(j.get_64() - start, 11);
        // A clock reading before the boundary (not monotonic) counts nothing.
        assert_eq!(c.due(0), 0);
        // Random interrupt times: the total is always the whole periods.
        let c = TickClock::new(96_000);
        c.start(0);
        let (mut now, mut total, mut x) = (0u64, 0u64, 0x2545_f491u32);
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            now += u64::from(x % 400_000);
            total += c.due(now);
            assert_eq!(total, now / 96_000);
        }
        // A zero period is taken as one unit (no division by zero).
        assert_eq!(TickClock::new(0).due(5), 5);
    }

    /// The 32-bit division of a late tick and the 64-bit one past it give
    /// what `delta / period` gives.
    #[test]
    fn tick_clock_divides_in_32_bits_where_that_fits() {
        let p = 240_000u64;
        for delta in [
            2 * p,
            5 * p + 7,
            u64::from(u32::MAX) - 1,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            u64::from(u32::MAX) + p,
            1 << 40,
        ] {
            let c = TickClock::new(p);
            c.start(1_000);
            assert_eq!(c.due(1_000 + delta), delta / p, "{delta}");
            // The boundary moved by whole periods: the remainder is kept.
            assert_eq!(c.due(1_000 + delta + p - delta % p), 1, "{delta}");
        }
        let c = TickClock::new(1 << 33); // a period past 32 bits
        c.start(0);
        assert_eq!(c.due(3 << 33), 3);
    }

    #[test]
    fn time_after_survives_the_wrap() {
        assert!(time_after(5, 0xffff_fff0));
        assert!(time_before(0xffff_fff0, 5));
        assert!(!time_after(0xffff_fff0, 5));
        assert!(time_after_eq(7, 7));
        assert!(!time_after(7, 7));
        // The naive comparison is wrong here, which is why the macros exist.
        let (before, after) = (0xffff_fff0u32, 5u32);
        assert!(after < before && time_after(after, before));
    }

    #[test]
    fn conversions_are_linux_3_18s() {
        assert_eq!(msecs_to_jiffies(100, 100), 10);
        assert_eq!(msecs_to_jiffies(1, 100), 1);
        assert_eq!(msecs_to_jiffies(0, 100), 0);
        assert_eq!(msecs_to_jiffies(11, 100), 2);
        assert_eq!(msecs_to_jiffies(100, 250), 25);
        assert_eq!(msecs_to_jiffies(1, 250), 1);
        assert_eq!(msecs_to_jiffies(u32::MAX, 100), MAX_JIFFY_OFFSET);
        assert_eq!(MAX_JIFFY_OFFSET, 0x3fff_fffe);
        assert_eq!(jiffies_to_msecs(10, 100), 100);
        assert_eq!(jiffies_to_msecs(25, 250), 100);
        assert_eq!(jiffies_to_usecs(3, 100), 30_000);
        // C's 32-bit overflow in jiffies_to_usecs(MAX_JIFFY_OFFSET).
        assert_eq!(jiffies_to_usecs(MAX_JIFFY_OFFSET, 100), 4_294_947_296);
        assert_eq!(usecs_to_jiffies(1, 100), 1);
        assert_eq!(usecs_to_jiffies(10_000, 100), 1);
        assert_eq!(usecs_to_jiffies(10_001, 100), 2);
        assert_eq!(usecs_to_jiffies(4_000, 250), 1);
        assert_eq!(usecs_to_jiffies(u32::MAX, 100), MAX_JIFFY_OFFSET);
        assert_eq!(usecs_to_jiffies(4_294_947_296, 100), 429_495);
    }

    #[test]
    fn msleep_waits_one_tick_more() {
        assert_eq!(msleep_ticks(100, 100), 11);
        assert_eq!(msleep_ticks(0, 100), 1);
        assert_eq!(msleep_ticks(10, 250), 4);
        assert!(!sleep_done(0xffff_fffa, 0xffff_ffff, 11));
        assert!(sleep_done(0xffff_fffa, 5, 11));
    }
}
