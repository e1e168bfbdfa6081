//! `arm_delay_ops`: 6.1's `udelay` for ARM (arch/arm/include/asm/delay.h,
//! arch/arm/lib/delay.c), a data export that modules call through.
//!
//! A 6.1 module does not call a `udelay` function: the macro expands to a
//! call through `struct arm_delay_ops { void (*delay)(unsigned long); void
//! (*const_udelay)(unsigned long); void (*udelay)(unsigned long); unsigned
//! long ticks_per_jiffy; }`. For a constant argument it passes `usecs *
//! UDELAY_MULT` to `const_udelay` (+4), where `UDELAY_MULT` is
//! `2147 * HZ + 483648 * HZ / 1000000`, 536,870 at Debian's `HZ=250`:
//! stv0288.ko's `udelay(1)` is `movw/movt r0, #0x83126; ldr r3,
//! [arm_delay_ops, #4]; blx r3`. Otherwise it calls `udelay` (+8) with the
//! microseconds; `__delay` goes through `delay` (+0) with timer cycles.
//!
//! Linux's armmp registers the ARM architected timer
//! (`register_current_timer_delay`): `ticks_per_jiffy =
//! DIV_ROUND_CLOSEST(freq, HZ)`, `const_udelay(xloops)` waits
//! `(xloops * ticks_per_jiffy) >> UDELAY_SHIFT` (31) cycles, `udelay(us)` is
//! `const_udelay(us * UDELAY_MULT)` (32-bit, wrapping like 6.1's above
//! `MAX_UDELAY_MS`; the macro refuses such constants at build time), and
//! `delay(cycles)` spins until the counter has advanced that much
//! (`__timer_delay`). Kobold does the same with the board's 24 MHz counter
//! ([`crate::time::COUNTER_HZ`]), so a module's delays last what they
//! last on Linux (never shorter: busy-waiting, with nothing else to run).

/// Debian's armmp `HZ`, which `UDELAY_MULT` bakes into module code.
pub const HZ: u64 = 250;

/// `UDELAY_MULT` (asm/delay.h) at `HZ`.
pub const UDELAY_MULT: u32 = (2147 * HZ + 483_648 * HZ / 1_000_000) as u32;

/// `UDELAY_SHIFT`.
pub const UDELAY_SHIFT: u32 = 31;

/// `ticks_per_jiffy` for a timer of `freq` Hz: `DIV_ROUND_CLOSEST(freq,
/// HZ)`.
pub const fn ticks_per_jiffy(freq: u64) -> u32 {
    ((freq + HZ / 2) / HZ) as u32
}

/// The cycles `const_udelay(xloops)` waits.
pub const fn const_udelay_cycles(xloops: u32, ticks_per_jiffy: u32) -> u32 {
    ((xloops as u64 * ticks_per_jiffy as u64) >> UDELAY_SHIFT) as u32
}

/// The `xloops` `udelay(usecs)` passes on (wrapping, as 6.1's `unsigned
/// long` product).
pub const fn udelay_xloops(usecs: u32) -> u32 {
    usecs.wrapping_mul(UDELAY_MULT)
}

#[cfg(target_arch = "arm")]
pub use target::ARM_DELAY_OPS;

#[cfg(target_arch = "arm")]
mod target {
    use super::*;

    /// 6.1's `struct arm_delay_ops` (16 bytes).
    #[repr(C)]
    pub struct ArmDelayOps {
        delay: extern "C" fn(u32),
        const_udelay: extern "C" fn(u32),
        udelay: extern "C" fn(u32),
        ticks_per_jiffy: u32,
    }

    const TICKS_PER_JIFFY: u32 = ticks_per_jiffy(crate::time::COUNTER_HZ);

    /// `__timer_delay(cycles)`.
    extern "C" fn timer_delay(cycles: u32) {
        crate::time::delay_ticks(cycles);
    }

    /// `__timer_const_udelay(xloops)`.
    extern "C" fn timer_const_udelay(xloops: u32) {
        crate::time::delay_ticks(const_udelay_cycles(xloops, TICKS_PER_JIFFY));
    }

    /// `__timer_udelay(usecs)`.
    extern "C" fn timer_udelay(usecs: u32) {
        timer_const_udelay(udelay_xloops(usecs));
    }

    /// The exported `arm_delay_ops` (read-only: 6.1's is
    /// `__ro_after_init`).
    pub static ARM_DELAY_OPS: ArmDelayOps = ArmDelayOps {
        delay: timer_delay,
        const_udelay: timer_const_udelay,
        udelay: timer_udelay,
        ticks_per_jiffy: TICKS_PER_JIFFY,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udelay_mult_is_what_debian_s_modules_pass() {
        // stv0288.ko: udelay(1) passes 0x83126, udelay(10) 0x51eb7c.
        assert_eq!(UDELAY_MULT, 0x83126);
        assert_eq!(udelay_xloops(10), 0x51eb7c);
    }

    #[test]
    fn cycles_of_the_24mhz_counter() {
        let tpj = ticks_per_jiffy(24_000_000);
        assert_eq!(tpj, 96_000);
        // 24 cycles a microsecond, rounded down as 6.1's shift does.
        assert_eq!(const_udelay_cycles(udelay_xloops(1), tpj), 23);
        assert_eq!(const_udelay_cycles(udelay_xloops(1000), tpj), 23_999);
        assert_eq!(const_udelay_cycles(udelay_xloops(2000), tpj), 47_999);
        assert_eq!(const_udelay_cycles(0, tpj), 0);
    }
}
