//! `memparse`: Linux's parser for size-valued command-line options
//! (lib/cmdline.c, on top of lib/vsprintf.c `simple_strtoull`).
//!
//! Linux reads `vmalloc=`, `mem=`, `crashkernel=` and friends with it, so
//! accepting exactly its syntax makes a Kobold command line mean what it
//! would mean to Linux:
//!
//! * the number's base is detected like C's `strtoull(s, 0)`: `0x` or `0X`
//!   followed by a hex digit selects hexadecimal, any other leading `0`
//!   octal, anything else decimal. `simple_strtoull` skips no whitespace
//!   and takes no sign, and neither does this parser;
//! * one optional suffix multiplies by a power of 1024: `K`/`k` (2^10),
//!   `M`/`m`, `G`/`g`, `T`/`t`, `P`/`p`, `E`/`e` (2^60);
//! * whatever follows is returned untouched (Linux's `retptr`).
//!
//! Two choices differ from Linux, where Linux's answer would be silent
//! nonsense:
//!
//! * No digits is an error ([`ParseError::NoDigits`]). Linux returns 0
//!   (and still eats a following suffix letter: `memparse("K")` is 0).
//! * Overflow is an error ([`ParseError::Overflow`]). Linux wraps modulo
//!   2^64, both while accumulating digits and when applying the suffix.

use core::fmt;

/// Why a size could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The text does not start with a digit of the detected base (for
    /// example an empty string, `"M"` or `" 16M"`). Linux would read 0.
    NoDigits,
    /// The number, or the number times its suffix, does not fit in 64
    /// bits. Linux would wrap.
    Overflow,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NoDigits => f.write_str("expected a number (decimal, 0octal or 0xhex)"),
            ParseError::Overflow => f.write_str("number does not fit in 64 bits"),
        }
    }
}

impl core::error::Error for ParseError {}

/// Parses a size like Linux's `memparse` (lib/cmdline.c): a number in base
/// 16 (`0x`), 8 (leading `0`) or 10, then an optional `K`, `M`, `G`, `T`,
/// `P` or `E` suffix (either case).
///
/// Returns the value in bytes and the rest of the string after the number
/// and its suffix.
///
/// ```
/// use kobold_layout::memparse;
/// assert_eq!(memparse("240M"), Ok((240 << 20, "")));
/// assert_eq!(memparse("0x1000,foo"), Ok((0x1000, ",foo")));
/// assert_eq!(memparse("010k"), Ok((8 << 10, "")));
/// ```
///
/// # Errors
///
/// [`ParseError::NoDigits`] if `s` does not start with a digit, and
/// [`ParseError::Overflow`] if the value does not fit in a `u64`.
pub fn memparse(s: &str) -> Result<(u64, &str), ParseError> {
    let bytes = s.as_bytes();
    // lib/kstrtox.c _parse_integer_fixup_radix: "0x" counts as a prefix
    // only if a hex digit follows; "0x" alone is an octal 0 followed by "x".
    let (radix, digits_start) = match bytes {
        [b'0', b'x' | b'X', d, ..] if d.is_ascii_hexdigit() => (16, 2),
        [b'0', ..] => (8, 0),
        _ => (10, 0),
    };
    let mut end = digits_start;
    let mut value: u64 = 0;
    while let Some(digit) = bytes.get(end).and_then(|&b| char::from(b).to_digit(radix)) {
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(digit)))
            .ok_or(ParseError::Overflow)?;
        end += 1;
    }
    if end == digits_start {
        return Err(ParseError::NoDigits);
    }
    let shift = match bytes.get(end) {
        Some(b'K' | b'k') => 10,
        Some(b'M' | b'm') => 20,
        Some(b'G' | b'g') => 30,
        Some(b'T' | b't') => 40,
        Some(b'P' | b'p') => 50,
        Some(b'E' | b'e') => 60,
        _ => 0,
    };
    if shift != 0 {
        if value.leading_zeros() < shift {
            return Err(ParseError::Overflow);
        }
        value <<= shift;
        end += 1;
    }
    // Every byte consumed is ASCII, so `end` is a character boundary.
    Ok((value, &s[end..]))
}
