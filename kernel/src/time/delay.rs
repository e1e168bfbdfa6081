//! Busy-wait delays: `udelay`, `mdelay`, `__delay` as Linux 3.18 does them
//! on ARM with a timer-based delay loop (arch/arm/lib/delay.c
//! `__timer_delay`, `__timer_const_udelay`, `__timer_udelay`;
//! arch/arm/include/asm/delay.h).
//!
//! A module's `udelay(n)` is a macro: for a constant `n` GCC computes
//! `n * UDELAY_MULT` at compile time and calls
//! `arm_delay_ops.const_udelay(xloops)`; otherwise it calls
//! `arm_delay_ops.udelay(n)`. `arm_delay_ops` is the one exported symbol (a
//! struct of three function pointers and `ticks_per_jiffy`), so the
//! constants below are part of the module ABI and must match
//! `modules/include/linux/delay.h`. `UDELAY_MULT` is 2^30 × HZ / 10^6
//! rounded down; `const_udelay` multiplies by the delay timer's ticks per
//! jiffy and shifts the 2^30 back out, so the result is in timer ticks.
//!
//! Kobold's delay timer is the board's 24 MHz counter (the clock behind
//! printk's timestamps); Linux registers the same kind of free-running
//! counter with `register_current_timer_delay`.

use super::COUNTER_HZ;
use super::jiffies::HZ;

/// `MAX_UDELAY_MS`: a constant `udelay` above 2000 µs does not link
/// (`__bad_udelay`), as in Linux.
pub const MAX_UDELAY_MS: u32 = 2;
/// `UDELAY_MULT` (3.18): `((UL(2199023) * HZ) >> 11)`.
pub const UDELAY_MULT: u32 = ((2_199_023u64 * HZ as u64) >> 11) as u32;
/// `UDELAY_SHIFT` (3.18).
pub const UDELAY_SHIFT: u32 = 30;
/// `arm_delay_ops.ticks_per_jiffy`: delay-timer ticks in one jiffy.
pub const TICKS_PER_JIFFY: u32 = (COUNTER_HZ / HZ as u64) as u32;

/// `__timer_const_udelay(xloops)`: the ticks to wait for `xloops` (µs ×
/// `UDELAY_MULT`).
pub const fn const_udelay_ticks(xloops: u32) -> u32 {
    ((xloops as u64 * TICKS_PER_JIFFY as u64) >> UDELAY_SHIFT) as u32
}

/// `__timer_udelay(usecs)`: `usecs * UDELAY_MULT` in 32 bits, as in C, so
/// it is meant for delays below about 40 ms (Linux's limit too; longer
/// waits are `mdelay`'s loop of 1 ms or `msleep`).
pub const fn udelay_ticks(usecs: u32) -> u32 {
    const_udelay_ticks(usecs.wrapping_mul(UDELAY_MULT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_linux_3_18s() {
        assert_eq!(UDELAY_MULT, 107_374);
        assert_eq!(TICKS_PER_JIFFY, 240_000);
    }

    #[test]
    fn udelay_waits_about_24_ticks_a_microsecond() {
        // Rounded down by the fixed point, never by more than a tick per µs.
        for us in [1u32, 10, 100, 1000, 2000, 39_000] {
            let t = udelay_ticks(us);
            assert!(t <= us * 24 && t + us / 1000 + 1 >= us * 24, "{us}: {t}");
        }
        assert_eq!(udelay_ticks(1000), 23_999);
        // What a module's constant udelay(1000) passes to const_udelay.
        assert_eq!(const_udelay_ticks(1000 * UDELAY_MULT), udelay_ticks(1000));
    }
}
