//! 6.1's `arm_delay_ops` (arch/arm/include/asm/delay.h, arch/arm/lib/delay.c):
//! the busy-wait delays of a 6.1 ARM module. `udelay(n)` and `ndelay(n)`
//! are macros that call through this exported object:
//!
//! ```c
//! extern struct arm_delay_ops {
//!     void (*delay)(unsigned long);          /* +0: __delay(cycles) */
//!     void (*const_udelay)(unsigned long);   /* +4: __const_udelay(xloops) */
//!     void (*udelay)(unsigned long);         /* +8: __udelay(usecs) */
//!     unsigned long ticks_per_jiffy;         /* +12 */
//! } arm_delay_ops;
//! ```
//!
//! A constant `udelay(n)` compiles to `const_udelay(n * UDELAY_MULT)`
//! (`UDELAY_MULT = 2147 * HZ + 483648 * HZ / 1000000`: 2^31 / 10^6 µs per
//! jiffy, scaled by HZ), a constant `ndelay(n)` to
//! `const_udelay(n * (UDELAY_MULT / 1000))`-like products, a variable one
//! to `udelay(n)`. Linux's timer-based delay (`register_current_timer_delay`,
//! which the armmp kernel uses with the arch timer or the SP804) computes
//! `__timer_const_udelay(xloops)` as
//! `__timer_delay((xloops * ticks_per_jiffy) >> UDELAY_SHIFT)` with
//! `UDELAY_SHIFT = 31`, and `ticks_per_jiffy = timer_hz / HZ`. Kobold's timer is the board's 24 MHz counter and 6.1's
//! HZ is 250 (Debian's armmp), so `ticks_per_jiffy` is 96000 and
//! `udelay(1)` waits 24 counter ticks, as on Linux with that timer.
//! The arithmetic is here (host-tested); the waits are `kernel.rs`'s.

/// `UDELAY_SHIFT` (arch/arm/include/asm/delay.h).
pub const UDELAY_SHIFT: u32 = 31;

/// `UDELAY_MULT` for a given HZ: `2147 * HZ + 483648 * HZ / 1000000`.
pub const fn udelay_mult(hz: u32) -> u32 {
    2147 * hz + 483_648 * hz / 1_000_000
}

/// `ticks_per_jiffy` for a timer of `timer_hz` and a tick of `hz`
/// (`register_current_timer_delay`: `DIV_ROUND_CLOSEST(freq, HZ)`).
pub const fn ticks_per_jiffy(timer_hz: u32, hz: u32) -> u32 {
    (timer_hz + hz / 2) / hz
}

/// `__timer_const_udelay`'s cycle count: `(xloops * ticks_per_jiffy) >>
/// UDELAY_SHIFT`, in 64 bits as Linux computes it.
pub const fn const_udelay_cycles(xloops: u32, ticks_per_jiffy: u32) -> u64 {
    (xloops as u64 * ticks_per_jiffy as u64) >> UDELAY_SHIFT
}

/// `__timer_udelay(usecs)`'s cycle count: `usecs * UDELAY_MULT` (32-bit,
/// wrapping as `unsigned long` does: callers stay below `MAX_UDELAY_MS`
/// = 2 ms as Linux requires) then as [`const_udelay_cycles`].
pub const fn udelay_cycles(usecs: u32, hz: u32, ticks_per_jiffy: u32) -> u64 {
    const_udelay_cycles(usecs.wrapping_mul(udelay_mult(hz)), ticks_per_jiffy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_one_constants() {
        // HZ = 250 (CONFIG_HZ of Debian's armmp): 2147 * 250 + 120.
        assert_eq!(udelay_mult(250), 536_870);
        // HZ = 100: the value arch/arm/include/asm/delay.h comments on.
        assert_eq!(udelay_mult(100), 214_748);
        assert_eq!(ticks_per_jiffy(24_000_000, 250), 96_000);
    }

    #[test]
    fn a_microsecond_is_a_microsecond_of_the_timer() {
        let tpj = ticks_per_jiffy(24_000_000, 250);
        // udelay(1): 24 ticks of 24 MHz, truncated as Linux truncates.
        assert_eq!(udelay_cycles(1, 250, tpj), 23);
        // udelay(1000) = 1 ms: 24000 ticks (within one tick).
        let ms = udelay_cycles(1000, 250, tpj);
        assert!((23_990..=24_000).contains(&ms), "{ms}");
        // The constant form the compiler emits gives the same.
        assert_eq!(const_udelay_cycles(1000 * udelay_mult(250), tpj), ms);
        // MAX_UDELAY_MS (2 ms) fits in 32 bits of xloops.
        assert!(2000u64 * udelay_mult(250) as u64 <= u32::MAX as u64);
    }
}
