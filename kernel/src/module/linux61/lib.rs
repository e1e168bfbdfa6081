//! The pure halves of 6.1's lib/ helpers that Kobold did not have:
//! `strscpy` (lib/string.c), `__do_div64` (arch/arm/lib/div64.S) and
//! `div_s64_rem` (lib/math/div64.c). The
//! target glue (`kernel.rs`) does the memory accesses and the register ABI;
//! what they compute is here, host-tested.

/// `-E2BIG`, what `strscpy` returns when it truncates.
pub const E2BIG: isize = -7;

/// `strscpy(dest, src, count)`'s plan, given `src`'s bytes up to its NUL
/// or `count` bytes (whichever comes first): how many bytes to copy before
/// the NUL (`None`: write nothing), and the return value: the length
/// copied, or `-E2BIG` when `count` is 0 or the string did not fit (then
/// `count - 1` bytes and a NUL are written, as 6.1 does). A `count`
/// above `INT_MAX` is refused as 6.1 does (`WARN_ON_ONCE`, `-E2BIG`).
pub fn strscpy_plan(src: &[u8], count: usize) -> (Option<usize>, isize) {
    if count == 0 || count > i32::MAX as usize {
        return (None, E2BIG);
    }
    if src.len() < count {
        (Some(src.len()), src.len() as isize)
    } else {
        (Some(count - 1), E2BIG)
    }
}

/// Where ARM's out-of-line bit operations (6.1 arch/arm/lib/bitops.h,
/// `bitop`/`testop`: `_set_bit`, `_test_and_clear_bit`, ...) find bit `nr`
/// of a bitmap: word `nr >> 5` (a logical shift: `nr` is an `int` read as
/// unsigned, as `mov r0, r0, lsr #5` does), mask `1 << (nr & 31)`.
pub const fn bit_word_mask(nr: u32) -> (usize, u32) {
    ((nr >> 5) as usize, 1 << (nr & 31))
}

/// `do_div(n, base)` as `__do_div64` computes it: the 64-bit quotient and
/// the 32-bit remainder; `None` for a zero divisor (div64.S then calls
/// `__div0`, which prints `Division by zero in kernel.`, and returns 0
/// and remainder 0).
pub fn do_div64(n: u64, base: u32) -> Option<(u64, u32)> {
    if base == 0 {
        return None;
    }
    Some((n / u64::from(base), (n % u64::from(base)) as u32))
}

/// `div_s64_rem(dividend, divisor, &rem)`: quotient truncated toward zero,
/// the remainder with the dividend's sign (lib/math/div64.c, through
/// `div_u64_rem` of the magnitudes); `None` for a zero divisor (then
/// `__do_div64`'s `__div0` path: 0, remainder 0).
pub fn div_s64_rem(dividend: i64, divisor: i32) -> Option<(i64, i32)> {
    let (q, r) = do_div64(dividend.unsigned_abs(), divisor.unsigned_abs())?;
    let q = q as i64;
    let q = if (dividend < 0) != (divisor < 0) {
        q.wrapping_neg()
    } else {
        q
    };
    let r = if dividend < 0 {
        (r as i32).wrapping_neg()
    } else {
        r as i32
    };
    Some((q, r))
}

/// 6.1's `struct ratelimit_state` (include/linux/ratelimit_types.h)
/// after its `raw_spinlock_t` (4 bytes: Debian's build has no
/// `DEBUG_SPINLOCK`): `int interval, burst, printed, missed; unsigned
/// long begin, flags;` at +4..+28.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ratelimit {
    pub interval: i32,
    pub burst: i32,
    pub printed: i32,
    pub missed: i32,
    pub begin: u32,
    pub flags: u32,
}

/// `RATELIMIT_MSG_ON_RELEASE`: the owner reports the suppressed count
/// itself (`ratelimit_state_exit`).
pub const RATELIMIT_MSG_ON_RELEASE: u32 = 1;

/// The body of 6.1's `___ratelimit` (lib/ratelimit.c) once its lock is
/// held (`interval` 0 returns 1 before locking, a held lock 0): whether
/// the caller may print, and the number of suppressed callbacks to report
/// (`"%s: %d callbacks suppressed"`) when a new interval starts.
/// `jiffies` is 6.1's count (250 Hz: the module computed `interval` with
/// its own `HZ`).
pub fn ratelimit(rs: &mut Ratelimit, jiffies: u32) -> (bool, Option<i32>) {
    let mut report = None;
    if rs.begin == 0 {
        rs.begin = jiffies;
    }
    // time_is_before_jiffies(begin + interval)
    if (rs
        .begin
        .wrapping_add(rs.interval as u32)
        .wrapping_sub(jiffies) as i32)
        < 0
    {
        if rs.missed != 0 && rs.flags & RATELIMIT_MSG_ON_RELEASE == 0 {
            report = Some(rs.missed);
            rs.missed = 0;
        }
        rs.begin = jiffies;
        rs.printed = 0;
    }
    let ok = if rs.burst != 0 && rs.burst > rs.printed {
        rs.printed += 1;
        true
    } else {
        rs.missed = rs.missed.wrapping_add(1);
        false
    };
    (ok, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_numbers_pick_word_and_mask_as_arm_does() {
        assert_eq!(bit_word_mask(0), (0, 1));
        assert_eq!(bit_word_mask(31), (0, 1 << 31));
        assert_eq!(bit_word_mask(32), (1, 1));
        assert_eq!(bit_word_mask(70), (2, 1 << 6));
        // A negative int is a huge unsigned bit number (lsr, not asr).
        assert_eq!(bit_word_mask(-1i32 as u32), (0x07ff_ffff, 1 << 31));
    }

    #[test]
    fn strscpy_as_lib_string() {
        assert_eq!(strscpy_plan(b"abc", 8), (Some(3), 3));
        assert_eq!(strscpy_plan(b"abc", 4), (Some(3), 3));
        // The reader stops at `count`: "abcd..." with count 4.
        assert_eq!(strscpy_plan(b"abcd", 4), (Some(3), E2BIG));
        assert_eq!(strscpy_plan(b"", 1), (Some(0), 0));
        assert_eq!(strscpy_plan(b"", 0), (None, E2BIG));
        assert_eq!(strscpy_plan(b"a", 1 << 31), (None, E2BIG));
    }

    #[test]
    fn div64_as_do_div() {
        assert_eq!(do_div64(10, 3), Some((3, 1)));
        assert_eq!(do_div64(u64::MAX, 1), Some((u64::MAX, 0)));
        assert_eq!(
            do_div64(0x1234_5678_9abc_def0, 0x1_0000),
            Some((0x1234_5678_9abc, 0xdef0))
        );
        assert_eq!(do_div64(5, 0), None);
    }

    #[test]
    fn div_s64_rem_truncates_toward_zero() {
        assert_eq!(div_s64_rem(7, 2), Some((3, 1)));
        assert_eq!(div_s64_rem(-7, 2), Some((-3, -1)));
        assert_eq!(div_s64_rem(7, -2), Some((-3, 1)));
        assert_eq!(div_s64_rem(-7, -2), Some((3, -1)));
        assert_eq!(div_s64_rem(i64::MIN, -1), Some((i64::MIN, 0)));
        assert_eq!(div_s64_rem(i64::MIN, i32::MIN), Some((1 << 32, 0)));
        assert_eq!(
            div_s64_rem(-1_000_000_000_007, 1_000),
            Some((-1_000_000_000, -7))
        );
        assert_eq!(div_s64_rem(1, 0), None);
    }
    #[test]
    fn ratelimit_as_6_1() {
        // DEFINE_RATELIMIT_STATE(rs, 5 * HZ, 10) at 250 Hz.
        let mut rs = Ratelimit {
            interval: 1250,
            burst: 10,
            ..Default::default()
        };
        let start = 1000u32;
        for _ in 0..10 {
            assert_eq!(ratelimit(&mut rs, start), (true, None));
        }
        assert_eq!(rs.begin, start);
        for _ in 0..3 {
            assert_eq!(
                ratelimit(&mut rs, start + 1250),
                (false, None),
                "not after yet"
            );
        }
        assert_eq!(rs.missed, 3);
        // A new interval: the suppressed count is reported once.
        assert_eq!(ratelimit(&mut rs, start + 1251), (true, Some(3)));
        assert_eq!((rs.missed, rs.printed, rs.begin), (0, 1, start + 1251));
        // Across the jiffies wrap.
        let mut rs = Ratelimit {
            interval: 10,
            burst: 1,
            begin: u32::MAX - 2,
            printed: 1,
            missed: 1,
            flags: RATELIMIT_MSG_ON_RELEASE,
        };
        assert_eq!(ratelimit(&mut rs, 5), (false, None));
        assert_eq!(
            ratelimit(&mut rs, 8),
            (true, None),
            "owner reports: missed kept"
        );
        assert_eq!(rs.missed, 2);
        // burst 0: never.
        let mut rs = Ratelimit {
            interval: 10,
            ..Default::default()
        };
        assert_eq!(ratelimit(&mut rs, 1), (false, None));
    }
}
