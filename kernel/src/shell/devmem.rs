//! `devmem ADDRESS [WIDTH [VALUE]]`, as busybox's devmem (miscutils/devmem.c):
//! read or write one 8/16/32-bit word at a *physical* address. A read prints
//! `0x%0*llX` with WIDTH/4 upper-case digits, as busybox does.
//!
//! Differences from busybox, both to keep a teaching kernel alive: an
//! unaligned address and a VALUE that does not fit in WIDTH bits are refused
//! with -EINVAL instead of faulting or being silently truncated.
//!
//! The parsing and printing are host-tested; `devmem_access` in
//! `shell/kernel.rs` (target only) is the kernel side, Linux's drivers/char/mem.c policy for `/dev/mem`: RAM that
//! memblock knows keeps its cacheable memory type (no mismatched aliases of
//! the linear map), anything else is mapped strongly ordered, as a device.
//! The word is reached through a temporary fixmap slot.

use core::fmt;

/// Access width in bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    W8 = 8,
    W16 = 16,
    W32 = 32,
}

impl Width {
    pub const fn bits(self) -> u32 {
        self as u32
    }
    pub const fn bytes(self) -> u32 {
        self.bits() / 8
    }
}

/// A parsed devmem request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub phys: u32,
    pub width: Width,
    pub write: Option<u32>,
}

/// Why the arguments were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgError<'a> {
    Usage,
    InvalidNumber(&'a str),
    BadWidth,
    Unaligned { phys: u32, width: Width },
    TooWide { value: u64, width: Width },
}

impl fmt::Display for ArgError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgError::Usage => write!(f, "Usage: {USAGE}"),
            ArgError::InvalidNumber(s) => write!(f, "devmem: invalid number '{s}'"),
            ArgError::BadWidth => write!(f, "devmem: bad width"),
            ArgError::Unaligned { phys, width } => write!(
                f,
                "devmem: address {phys:#010x} is not aligned to {} bits: Invalid argument (EINVAL)",
                width.bits()
            ),
            ArgError::TooWide { value, width } => write!(
                f,
                "devmem: value {value:#x} does not fit in {} bits: Invalid argument (EINVAL)",
                width.bits()
            ),
        }
    }
}

/// The synopsis, as `help` and the usage error show it.
pub const USAGE: &str = "devmem ADDRESS [WIDTH [VALUE]]";

/// `strtoull(s, NULL, 0)` that must consume the whole string: 0x.. hex,
/// 0.. octal, else decimal.
pub fn parse_number(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Parses the arguments after `devmem`.
pub fn parse<'a>(args: &[&'a str]) -> Result<Request, ArgError<'a>> {
    let (addr, rest) = args.split_first().ok_or(ArgError::Usage)?;
    if rest.len() > 2 {
        return Err(ArgError::Usage);
    }
    let phys = parse_number(addr)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or(ArgError::InvalidNumber(addr))?;
    let width = match rest.first() {
        None => Width::W32,
        Some(w) => match *w {
            "8" | "b" | "B" => Width::W8,
            "16" | "h" | "H" => Width::W16,
            "32" | "w" | "W" => Width::W32,
            w if parse_number(w).is_some() => return Err(ArgError::BadWidth),
            w if w.len() == 1 => return Err(ArgError::BadWidth),
            w => return Err(ArgError::InvalidNumber(w)),
        },
    };
    if phys % width.bytes() != 0 {
        return Err(ArgError::Unaligned { phys, width });
    }
    let write = match rest.get(1) {
        None => None,
        Some(v) => {
            let value = parse_number(v).ok_or(ArgError::InvalidNumber(v))?;
            if width != Width::W32 && value >> width.bits() != 0 || value > u32::MAX as u64 {
                return Err(ArgError::TooWide { value, width });
            }
            Some(value as u32)
        }
    };
    Ok(Request { phys, width, write })
}

/// busybox's read output: `0x%0*llX`.
pub struct ReadResult(pub u32, pub Width);

impl fmt::Display for ReadResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = (self.1.bits() / 4) as usize;
        write!(f, "0x{:0digits$X}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_busybox() {
        assert_eq!(
            parse(&["0x10000000"]),
            Ok(Request {
                phys: 0x1000_0000,
                width: Width::W32,
                write: None
            })
        );
        assert_eq!(
            parse(&["0x6ff00000", "32", "0x12345678"]),
            Ok(Request {
                phys: 0x6ff0_0000,
                width: Width::W32,
                write: Some(0x1234_5678)
            })
        );
        assert_eq!(parse(&["0x6ff00002", "h"]).unwrap().width, Width::W16);
        assert_eq!(parse(&["1024", "8", "255"]).unwrap().write, Some(255));
        assert_eq!(parse(&["010"]).unwrap().phys, 8);
    }

    #[test]
    fn refuses_bad_arguments() {
        assert_eq!(parse(&[]), Err(ArgError::Usage));
        assert_eq!(parse(&["junk"]), Err(ArgError::InvalidNumber("junk")));
        assert_eq!(
            parse(&["0x1_0000_0000"]),
            Err(ArgError::InvalidNumber("0x1_0000_0000"))
        );
        assert_eq!(
            parse(&["0x100000000"]),
            Err(ArgError::InvalidNumber("0x100000000"))
        );
        assert_eq!(parse(&["0x0", "12"]), Err(ArgError::BadWidth));
        assert_eq!(parse(&["0x0", "64"]), Err(ArgError::BadWidth));
        assert_eq!(parse(&["0x0", "q"]), Err(ArgError::BadWidth));
        assert_eq!(
            parse(&["0x0", "wide"]),
            Err(ArgError::InvalidNumber("wide"))
        );
        assert_eq!(
            parse(&["0x6ff00001", "32"]),
            Err(ArgError::Unaligned {
                phys: 0x6ff0_0001,
                width: Width::W32
            })
        );
        assert_eq!(
            parse(&["0x0", "8", "0x100"]),
            Err(ArgError::TooWide {
                value: 0x100,
                width: Width::W8
            })
        );
        assert_eq!(parse(&["0x0", "32", "1", "2"]), Err(ArgError::Usage));
        assert!(
            ArgError::Unaligned {
                phys: 0x6ff0_0001,
                width: Width::W32
            }
            .to_string()
            .contains("EINVAL")
        );
    }

    #[test]
    fn prints_like_busybox() {
        assert_eq!(
            ReadResult(0x1190_f500, Width::W32).to_string(),
            "0x1190F500"
        );
        assert_eq!(ReadResult(0x34, Width::W8).to_string(), "0x34");
        assert_eq!(ReadResult(0x12, Width::W16).to_string(), "0x0012");
    }
}
