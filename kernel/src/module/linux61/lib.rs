//! The pure halves of 6.1's lib/ helpers that Kobold did not have:
//! `strscpy` and `strncasecmp` (lib/string.c), `__do_div64`
//! (arch/arm/lib/div64.S), `div_s64_rem` (lib/math/div64.c), `gcd`
//! (lib/math/gcd.c), `rational_best_approximation` (lib/math/rational.c),
//! and kernel/time/time.c's `__msecs_to_jiffies` / `jiffies_to_msecs` at
//! Debian's HZ=250. The
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

/// `MAX_JIFFY_OFFSET` on 32-bit (include/linux/jiffies.h: `((LONG_MAX >>
/// 1) - 1)`): what a negative (infinite) timeout becomes.
pub const MAX_JIFFY_OFFSET: u32 = (i32::MAX as u32 >> 1) - 1;

/// Milliseconds per jiffy at 6.1's HZ (250): 4. jiffies.h takes the
/// `HZ <= MSEC_PER_SEC && !(MSEC_PER_SEC % HZ)` branch.
const MSEC_PER_JIFFY: u32 = 1000 / crate::time::jiffies::LINUX61_HZ;

/// `unsigned long __msecs_to_jiffies(const unsigned int m)`: a negative
/// `m` (as an `int`) is an infinite timeout, `MAX_JIFFY_OFFSET`; else
/// `_msecs_to_jiffies`, rounded up: `(m + 4 - 1) / 4`.
pub const fn msecs_to_jiffies(m: u32) -> u32 {
    if (m as i32) < 0 {
        return MAX_JIFFY_OFFSET;
    }
    m.div_ceil(MSEC_PER_JIFFY)
}

/// `unsigned int jiffies_to_msecs(const unsigned long j)`: `(MSEC_PER_SEC
/// / HZ) * j`, wrapping as C's unsigned multiplication.
pub const fn jiffies_to_msecs(j: u32) -> u32 {
    MSEC_PER_JIFFY.wrapping_mul(j)
}

/// lib/ctype.c's `tolower` (`__tolower`): `_ctype` marks `A`-`Z` and
/// Latin-1's `À`-`Þ` but `×` (0xd7) upper case; those gain 0x20.
pub const fn tolower(c: u8) -> u8 {
    match c {
        b'A'..=b'Z' | 0xc0..=0xd6 | 0xd8..=0xde => c + 0x20,
        _ => c,
    }
}

/// `int strncasecmp(const char *s1, const char *s2, size_t len)`:
/// `a(i)` and `b(i)` read byte `i` of each string; as 6.1, compares up to
/// `len` bytes, stops at the first NUL of either, and returns the
/// difference of the last bytes read (lower-cased when they differ).
pub fn strncasecmp(
    a: &mut dyn FnMut(usize) -> u8,
    b: &mut dyn FnMut(usize) -> u8,
    len: usize,
) -> i32 {
    if len == 0 {
        return 0;
    }
    let (mut c1, mut c2);
    let mut i = 0;
    loop {
        c1 = a(i);
        c2 = b(i);
        i += 1;
        if c1 == 0 || c2 == 0 {
            break;
        }
        if c1 != c2 {
            c1 = tolower(c1);
            c2 = tolower(c2);
            if c1 != c2 {
                break;
            }
        }
        if i == len {
            break;
        }
    }
    i32::from(c1) - i32::from(c2)
}

/// `unsigned long gcd(unsigned long a, unsigned long b)`: 6.1's binary
/// GCD for CPUs with an efficient `__ffs` (ARMv7's `clz`); `gcd(0, b)` is
/// `b`, `gcd(0, 0)` is 0.
pub fn gcd(mut a: u32, mut b: u32) -> u32 {
    let r = a | b;
    if a == 0 || b == 0 {
        return r;
    }
    let low = r & r.wrapping_neg();
    b >>= b.trailing_zeros();
    if b == 1 {
        return low;
    }
    loop {
        a >>= a.trailing_zeros();
        if a == 1 {
            return low;
        }
        if a == b {
            return a << r.trailing_zeros();
        }
        if a < b {
            core::mem::swap(&mut a, &mut b);
        }
        a -= b;
    }
}

/// `rational_best_approximation(given_numerator, given_denominator,
/// max_numerator, max_denominator, &best_numerator, &best_denominator)`
/// (lib/math/rational.c): the continued fraction's convergents until one
/// exceeds a maximum, then the previous convergent or the best
/// semi-convergent, whichever is closer. Arithmetic wraps as C's
/// `unsigned long`; a zero denominator gives 1/0 (the loop never runs).
pub fn rational_best_approximation(
    given_numerator: u32,
    given_denominator: u32,
    max_numerator: u32,
    max_denominator: u32,
) -> (u32, u32) {
    let (mut n, mut d) = (given_numerator, given_denominator);
    let (mut n0, mut d1) = (0u32, 0u32);
    let (mut n1, mut d0) = (1u32, 1u32);
    loop {
        if d == 0 {
            break;
        }
        let dp = d;
        let a = n / d;
        d = n % d;
        n = dp;
        let n2 = n0.wrapping_add(a.wrapping_mul(n1));
        let d2 = d0.wrapping_add(a.wrapping_mul(d1));
        if n2 > max_numerator || d2 > max_denominator {
            let mut t = u32::MAX;
            if let Some(q) = max_denominator.wrapping_sub(d0).checked_div(d1) {
                t = q;
            }
            if let Some(q) = max_numerator.wrapping_sub(n0).checked_div(n1) {
                t = t.min(q);
            }
            let twice = t.wrapping_mul(2);
            if d1 == 0 || twice > a || (twice == a && d0.wrapping_mul(dp) > d1.wrapping_mul(d)) {
                n1 = n0.wrapping_add(t.wrapping_mul(n1));
                d1 = d0.wrapping_add(t.wrapping_mul(d1));
            }
            break;
        }
        n0 = n1;
        n1 = n2;
        d0 = d1;
        d1 = d2;
    }
    (n1, d1)
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

    #[test]
    fn msecs_and_jiffies_at_hz_250() {
        assert_eq!(msecs_to_jiffies(0), 0);
        assert_eq!(msecs_to_jiffies(1), 1, "rounded up");
        assert_eq!(msecs_to_jiffies(4), 1);
        assert_eq!(msecs_to_jiffies(5), 2);
        assert_eq!(msecs_to_jiffies(1000), 250);
        assert_eq!(msecs_to_jiffies(i32::MAX as u32), 0x2000_0000);
        assert_eq!(msecs_to_jiffies(u32::MAX), MAX_JIFFY_OFFSET, "-1: infinite");
        assert_eq!(MAX_JIFFY_OFFSET, 0x3fff_fffe);
        assert_eq!(jiffies_to_msecs(250), 1000);
        assert_eq!(jiffies_to_msecs(1), 4);
        assert_eq!(jiffies_to_msecs(0x4000_0001), 4, "wraps as C");
    }

    fn ncase(a: &[u8], b: &[u8], len: usize) -> i32 {
        let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
        strncasecmp(&mut |i| at(a, i), &mut |i| at(b, i), len)
    }

    #[test]
    fn strncasecmp_as_lib_string() {
        assert_eq!(ncase(b"Hello", b"hELLO", 5), 0);
        assert_eq!(ncase(b"Hello", b"hELLO", 100), 0);
        assert_eq!(ncase(b"abc", b"abd", 2), 0);
        assert_eq!(ncase(b"abc", b"ABD", 3), i32::from(b'c') - i32::from(b'd'));
        assert_eq!(ncase(b"ab", b"abc", 3), -i32::from(b'c'), "NUL first");
        assert_eq!(ncase(b"x", b"y", 0), 0);
        assert_eq!(ncase(b"A", b"[", 1), i32::from(b'a') - i32::from(b'['));
        // Latin-1 as lib/ctype.c: 0xc9 (É) is 0xe9 (é); 0xd7 (×) is not
        // 0xf7 (÷).
        assert_eq!(ncase(&[0xc9], &[0xe9], 1), 0);
        assert_eq!(ncase(&[0xd7], &[0xf7], 1), 0xd7 - 0xf7);
    }

    #[test]
    fn gcd_as_lib_math() {
        fn euclid(a: u32, b: u32) -> u32 {
            if b == 0 { a } else { euclid(b, a % b) }
        }
        assert_eq!(gcd(0, 0), 0);
        assert_eq!(gcd(0, 7), 7);
        assert_eq!(gcd(12, 0), 12);
        assert_eq!(gcd(12, 18), 6);
        assert_eq!(gcd(48_000, 44_100), 300);
        assert_eq!(gcd(u32::MAX, 0x8000_0000), 1);
        let mut x = 0x1234_5678u32;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let (a, b) = (x >> (x & 15), x.rotate_left(7) >> (x >> 28));
            assert_eq!(gcd(a, b), euclid(a, b), "{a} {b}");
        }
    }

    #[test]
    fn rational_best_approximation_as_rational_test() {
        // lib/math/rational-test.c's cases.
        for (g, m, want) in [
            ((1230, 10), (100, 20), (100, 1)),
            ((34567, 100), (120, 20), (120, 1)),
            ((1, 30), (100, 10), (0, 1)),
            ((1, 19), (100, 10), (1, 10)),
            ((1155, 7735), (255, 255), (33, 221)),
        ] {
            assert_eq!(
                rational_best_approximation(g.0, g.1, m.0, m.1),
                want,
                "{g:?} {m:?}"
            );
        }
        // Exact when it fits; 1/0 for a zero denominator.
        assert_eq!(rational_best_approximation(3, 4, 10, 10), (3, 4));
        assert_eq!(rational_best_approximation(5, 0, 10, 10), (1, 0));
        // No fraction within the maxima is closer (brute force, exact:
        // |n/d - gn/gd| compared as |n*gd - gn*d| / (d*gd)).
        let err = |n: u32, d: u32, gn: u32, gd: u32| {
            let diff = (i128::from(n) * i128::from(gd) - i128::from(gn) * i128::from(d)).abs();
            (diff, i128::from(d) * i128::from(gd))
        };
        let closer = |a: (i128, i128), b: (i128, i128)| a.0 * b.1 < b.0 * a.1;
        for (gn, gd, mn, md) in [
            (48_000, 44_100, 40, 40),
            (355, 113, 30, 9),
            (7, 3, 5, 5),
            (2, 7, 1, 30),
        ] {
            let (n, d) = rational_best_approximation(gn, gd, mn, md);
            assert!(n <= mn && d <= md && d > 0, "{n}/{d}");
            let got = err(n, d, gn, gd);
            for bd in 1..=md {
                for bn in 0..=mn {
                    assert!(
                        !closer(err(bn, bd, gn, gd), got),
                        "{gn}/{gd}: {bn}/{bd} beats {n}/{d}"
                    );
                }
            }
        }
    }
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
