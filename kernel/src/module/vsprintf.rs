//! The printf engine behind the `printk` / `_printk` / `snprintf` that
//! modules call through the C ABI (Linux's lib/vsprintf.c, the subset a
//! module written against Linux's API uses).
//!
//! Conversions: `%d %i %u %x %X %o %c %s %p %%`, with flags `- 0 + space #`,
//! width and precision (numbers or `*`), and length modifiers `hh h l ll z t`.
//! `%p` prints as Linux 3.18 does: 8 hex digits, no `0x`; `%pS`/`%ps` print
//! the symbol (`hello_init+0x10/0x40 [hello]`), `%pK` like `%p`. `%s` of NULL
//! prints `(null)`. Anything else is copied through, as Linux does with an
//! unknown conversion.
//!
//! The arguments come from an [`Args`] source: on the target, the AAPCS
//! register and stack words the variadic call left, or a `va_list`
//! ([`StackWords`] reads both); in tests, a vector.
//!
//! [`CBuf`] is C's `vsnprintf` contract (always NUL-terminated, the return
//! value counts what *would* have been written), and [`scnprintf_len`] turns
//! that count into `vscnprintf`'s (what *was* written).

use core::fmt::{self, Write};

/// Where the variadic arguments come from.
pub trait Args {
    /// The next 32-bit argument.
    fn next_u32(&mut self) -> u32;
    /// The next 64-bit argument (AAPCS: 8-byte aligned in the argument list).
    fn next_u64(&mut self) -> u64;
    /// The NUL-terminated string at `addr` (at most `max` bytes of it).
    fn string(&mut self, addr: u32, max: usize) -> &[u8];
    /// Writes `addr` as a symbol (`%pS`); false if none covers it.
    fn symbol(&mut self, out: &mut dyn Write, addr: u32, with_offset: bool) -> bool;
}

#[derive(Default, Clone, Copy)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    alt: bool,
    width: usize,
    precision: Option<usize>,
}

fn pad(out: &mut dyn Write, c: char, n: usize) -> fmt::Result {
    for _ in 0..n {
        out.write_char(c)?;
    }
    Ok(())
}

/// Writes `body` (with `prefix` such as `-` or `0x`) padded per `spec`.
fn emit(out: &mut dyn Write, spec: &Spec, prefix: &str, body: &[u8]) -> fmt::Result {
    let len = prefix.len() + body.len();
    let fill = spec.width.saturating_sub(len);
    if !spec.left && !spec.zero {
        pad(out, ' ', fill)?;
    }
    out.write_str(prefix)?;
    if !spec.left && spec.zero {
        pad(out, '0', fill)?;
    }
    for &b in body {
        out.write_char(b as char)?;
    }
    if spec.left {
        pad(out, ' ', fill)?;
    }
    Ok(())
}

fn number(
    out: &mut dyn Write,
    spec: &Spec,
    value: u64,
    negative: bool,
    radix: u32,
    upper: bool,
) -> fmt::Result {
    let mut digits = [0u8; 24];
    let mut n = 0;
    let mut v = value;
    while v != 0 || n == 0 {
        let d = (v % radix as u64) as u8;
        digits[n] = match d {
            0..=9 => b'0' + d,
            _ if upper => b'A' + d - 10,
            _ => b'a' + d - 10,
        };
        n += 1;
        v /= radix as u64;
    }
    // Precision: minimum digits (".0" with value 0 prints nothing).
    let mut body = [0u8; 64];
    let mut len = 0;
    let min = spec.precision.unwrap_or(1).min(40);
    if !(spec.precision == Some(0) && value == 0) {
        for _ in n..min {
            body[len] = b'0';
            len += 1;
        }
        for i in (0..n).rev() {
            body[len] = digits[i];
            len += 1;
        }
    }
    let prefix = if negative {
        "-"
    } else if spec.plus && radix == 10 {
        "+"
    } else if spec.space && radix == 10 {
        " "
    } else if spec.alt && radix == 16 && value != 0 {
        if upper { "0X" } else { "0x" }
    } else if spec.alt && radix == 8 && body[0] != b'0' {
        "0"
    } else {
        ""
    };
    let spec = Spec {
        zero: spec.zero && spec.precision.is_none(),
        ..*spec
    };
    emit(out, &spec, prefix, &body[..len])
}

/// Formats `fmt` with `args` into `out`.
pub fn format(out: &mut dyn Write, fmt: &[u8], args: &mut dyn Args) -> fmt::Result {
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.write_char(c as char)?;
            continue;
        }
        let start = i - 1;
        let mut spec = Spec::default();
        while i < fmt.len() {
            match fmt[i] {
                b'-' => spec.left = true,
                b'0' => spec.zero = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'#' => spec.alt = true,
                _ => break,
            }
            i += 1;
        }
        if fmt.get(i) == Some(&b'*') {
            let w = args.next_u32() as i32;
            spec.left |= w < 0;
            spec.width = w.unsigned_abs() as usize;
            i += 1;
        } else {
            while let Some(d) = fmt.get(i).filter(|d| d.is_ascii_digit()) {
                spec.width = (spec.width * 10 + (d - b'0') as usize).min(1024);
                i += 1;
            }
        }
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            let mut p = 0usize;
            if fmt.get(i) == Some(&b'*') {
                p = (args.next_u32() as i32).max(0) as usize;
                i += 1;
            } else {
                while let Some(d) = fmt.get(i).filter(|d| d.is_ascii_digit()) {
                    p = (p * 10 + (d - b'0') as usize).min(1024);
                    i += 1;
                }
            }
            spec.precision = Some(p);
        }
        // Length: 0 int, 1 long (same on ARM32), 2 long long, -1 short, -2 char.
        let mut length = 0i8;
        loop {
            match fmt.get(i) {
                Some(b'h') => length -= 1,
                Some(b'l') => length += 1,
                Some(b'z' | b't') => length = 1,
                _ => break,
            }
            i += 1;
        }
        let Some(&conv) = fmt.get(i) else {
            // A lone '%' at the end: print it.
            emit(out, &Spec::default(), "", &fmt[start..])?;
            break;
        };
        i += 1;
        let unsigned = |args: &mut dyn Args| -> u64 {
            match length {
                2.. => args.next_u64(),
                -1 => args.next_u32() as u16 as u64,
                ..=-2 => args.next_u32() as u8 as u64,
                _ => args.next_u32() as u64,
            }
        };
        match conv {
            b'd' | b'i' => {
                let v: i64 = match length {
                    2.. => args.next_u64() as i64,
                    -1 => args.next_u32() as i16 as i64,
                    ..=-2 => args.next_u32() as i8 as i64,
                    _ => args.next_u32() as i32 as i64,
                };
                number(out, &spec, v.unsigned_abs(), v < 0, 10, false)?;
            }
            b'u' => {
                let v = unsigned(args);
                number(out, &spec, v, false, 10, false)?;
            }
            b'x' | b'X' => {
                let v = unsigned(args);
                number(out, &spec, v, false, 16, conv == b'X')?;
            }
            b'o' => {
                let v = unsigned(args);
                number(out, &spec, v, false, 8, false)?;
            }
            b'c' => emit(out, &spec, "", &[args.next_u32() as u8])?,
            b's' => {
                let addr = args.next_u32();
                let max = spec.precision.unwrap_or(1024);
                if addr == 0 {
                    emit(out, &spec, "", &b"(null)"[..6.min(max)])?;
                } else {
                    let s = args.string(addr, max);
                    let mut copy = [0u8; 1024];
                    let n = s.len().min(copy.len());
                    copy[..n].copy_from_slice(&s[..n]);
                    emit(out, &spec, "", &copy[..n])?;
                }
            }
            b'p' => {
                let addr = args.next_u32();
                let ext = fmt.get(i).copied();
                match ext {
                    Some(b'S' | b's') => {
                        i += 1;
                        let mut buf = crate::console::FixedBuf::<128>::default();
                        if !args.symbol(&mut buf, addr, ext == Some(b'S')) {
                            let _ = write!(buf, "{addr:#x}");
                        }
                        emit(out, &spec, "", buf.as_bytes())?;
                    }
                    _ => {
                        if ext == Some(b'K') {
                            i += 1;
                        }
                        let s = Spec {
                            zero: true,
                            width: spec.width.max(8),
                            ..spec
                        };
                        number(out, &s, addr as u64, false, 16, false)?;
                    }
                }
            }
            b'%' => out.write_char('%')?,
            _ => emit(out, &Spec::default(), "", &fmt[start..i])?,
        }
    }
    Ok(())
}

/// Argument words in memory, read in AAPCS order: the registers a
/// variadic entry spilled followed by the caller's stacked arguments, or a
/// `va_list`. On ARM EABI a `va_list` is `struct __va_list { void *__ap; }`
/// passed by value: a pointer to the next argument word. `va_arg` of an
/// 8-byte type first rounds the pointer up to 8 (the AAPCS aligns 64-bit
/// arguments to 8 bytes in memory; the stack is 8-aligned at a call, so the
/// spill area's absolute alignment is the argument list's).
#[derive(Clone, Copy)]
pub struct StackWords {
    ptr: *const u32,
}

impl StackWords {
    /// # Safety
    ///
    /// `ptr` points at the arguments of a valid C call (or a `va_list`'s
    /// `__ap`), readable for as many words as the format asks for.
    pub unsafe fn new(ptr: *const u32) -> Self {
        StackWords { ptr }
    }

    /// The next 32-bit word.
    pub fn next_u32(&mut self) -> u32 {
        // SAFETY: `new`'s contract: the call's argument words. A format
        // asking for more than were passed reads further up the stack (C's
        // undefined behaviour, which cannot fault: the stack is mapped well
        // beyond).
        let w = unsafe { self.ptr.read() };
        self.ptr = self.ptr.wrapping_add(1);
        w
    }

    /// The next 64-bit argument, 8-byte aligned as `va_arg` aligns it.
    pub fn next_u64(&mut self) -> u64 {
        if !(self.ptr as usize).is_multiple_of(8) {
            self.ptr = self.ptr.wrapping_add(1);
        }
        let lo = self.next_u32() as u64;
        lo | (self.next_u32() as u64) << 32
    }
}

/// Writes into a C buffer of `size` bytes, counting what would have been
/// written (C's `vsnprintf` contract); [`CBuf::finish`] NUL-terminates.
/// Only [`CBuf::new`] builds one.
pub struct CBuf {
    ptr: *mut u8,
    size: usize,
    /// Bytes the output has had so far (may exceed `size`).
    pub len: usize,
}

impl CBuf {
    /// # Safety
    ///
    /// `ptr` is writable for `size` bytes while the `CBuf` lives (any
    /// pointer, NULL included, when `size` is 0).
    pub unsafe fn new(ptr: *mut u8, size: usize) -> Self {
        CBuf { ptr, size, len: 0 }
    }

    /// Writes the terminator at `min(len, size - 1)` (nothing if `size` is
    /// 0) and returns the count of what would have been written.
    pub fn finish(self) -> usize {
        if self.size > 0 {
            // SAFETY: `new`'s contract: within the buffer.
            unsafe { self.ptr.add(self.len.min(self.size - 1)).write(0) };
        }
        self.len
    }
}

impl Write for CBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len + 1 < self.size {
                // SAFETY: `CBuf::new`'s contract: within the caller's
                // buffer, leaving room for NUL.
                unsafe { self.ptr.add(self.len).write(b) };
            }
            self.len += 1;
        }
        Ok(())
    }
}

/// Counts what a format produces and drops it (the first pass of
/// `kvasprintf`, Linux's `vsnprintf(NULL, 0, ...)`).
#[derive(Default)]
pub struct Measure(pub usize);

impl Write for Measure {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// `vscnprintf`'s return value from `vsnprintf`'s: the bytes actually
/// written to a `size`-byte buffer, the NUL not counted (Linux's
/// lib/vsprintf.c: `i < size ? i : size ? size - 1 : 0`).
pub fn scnprintf_len(len: usize, size: usize) -> usize {
    if len < size {
        len
    } else {
        size.saturating_sub(1)
    }
}

/// The log level a printk format starts with (KERN_SOH, `'0'..='7'`), and
/// the rest of the format. KERN_CONT (`'c'`) and no prefix give the
/// default level (KERN_WARNING in Linux 3.18... but `KERN_DEFAULT`,
/// `MESSAGE_LOGLEVEL_DEFAULT` = 4).
pub fn split_level(fmt: &[u8]) -> (crate::console::printk::Level, &[u8]) {
    use crate::console::printk::Level;
    let mut level = Level::Warning;
    let mut rest = fmt;
    while let [1, c, tail @ ..] = rest {
        level = match c {
            b'0' => Level::Emerg,
            b'1' => Level::Alert,
            b'2' => Level::Crit,
            b'3' => Level::Err,
            b'4' => Level::Warning,
            b'5' => Level::Notice,
            b'6' => Level::Info,
            b'7' => Level::Debug,
            _ => level,
        };
        rest = tail;
    }
    (level, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    struct V(Vec<u32>, usize);
    impl Args for V {
        fn next_u32(&mut self) -> u32 {
            self.1 += 1;
            self.0.get(self.1 - 1).copied().unwrap_or(0)
        }
        fn next_u64(&mut self) -> u64 {
            // AAPCS: align the slot index to even (counting from r0's slot,
            // which the format occupies: index + 1).
            if (self.1 + 1) % 2 == 1 {
                self.1 += 1;
            }
            let lo = self.next_u32() as u64;
            lo | (self.next_u32() as u64) << 32
        }
        fn string(&mut self, addr: u32, max: usize) -> &[u8] {
            let s: &'static [u8] = match addr {
                1 => b"world",
                _ => b"?",
            };
            &s[..s.len().min(max)]
        }
        fn symbol(&mut self, out: &mut dyn Write, addr: u32, off: bool) -> bool {
            if addr == 0xbf00_0010 {
                let _ = if off {
                    out.write_str("hello_init+0x10/0x40 [hello]")
                } else {
                    out.write_str("hello_init [hello]")
                };
                true
            } else {
                false
            }
        }
    }

    fn f(fmt: &str, args: &[u32]) -> String {
        let mut s = String::new();
        format(&mut s, fmt.as_bytes(), &mut V(args.to_vec(), 0)).unwrap();
        s
    }

    #[test]
    fn integers() {
        assert_eq!(
            f("%d %i %u", &[(-5i32) as u32, 7, u32::MAX]),
            "-5 7 4294967295"
        );
        assert_eq!(
            f("[%5d|%-5d|%05d]", &[42, 42, (-42i32) as u32]),
            "[   42|42   |-0042]"
        );
        assert_eq!(
            f("%x %X %#x %#o %o", &[255, 255, 255, 8, 0]),
            "ff FF 0xff 010 0"
        );
        assert_eq!(f("%08x", &[0xbf00]), "0000bf00");
        assert_eq!(f("%+d % d", &[3, 3]), "+3  3");
        assert_eq!(f("%.3d|%.0d|", &[7, 0]), "007||");
        assert_eq!(f("%hd %hhu", &[0x1_ffff, 0x1ff]), "-1 255");
        assert_eq!(f("%*d|%-*d|", &[4, 1, 3, 2]), "   1|2  |");
        assert_eq!(f("%ld %lu %zu", &[1, 2, 3]), "1 2 3");
    }

    #[test]
    fn long_long_is_aligned_as_aapcs_says() {
        // printk(fmt, 1, 0x1_0000_0002LL): r1 = 1, r2:r3 = the long long.
        assert_eq!(f("%d %llu", &[1, 2, 1]), "1 4294967298");
        // printk(fmt, 0x5LL): r1 is skipped, r2:r3.
        assert_eq!(f("%lld", &[0xdead, 5, 0]), "5");
        assert_eq!(f("%lld", &[0, u32::MAX, u32::MAX]), "-1");
    }

    #[test]
    fn strings_chars_pointers() {
        assert_eq!(f("hello %s!", &[1]), "hello world!");
        assert_eq!(f("[%8s|%-8s|%.3s]", &[1, 1, 1]), "[   world|world   |wor]");
        assert_eq!(f("%s", &[0]), "(null)");
        assert_eq!(f("%c%c", &[b'o' as u32, b'k' as u32]), "ok");
        assert_eq!(f("%p %pK", &[0xbf00_0010, 0x10]), "bf000010 00000010");
        assert_eq!(f("%pS", &[0xbf00_0010]), "hello_init+0x10/0x40 [hello]");
        assert_eq!(f("%ps", &[0xbf00_0010]), "hello_init [hello]");
        assert_eq!(f("%pS", &[0x1234]), "0x1234");
        assert_eq!(f("100%% %q %", &[]), "100% %q %");
    }

    /// [`StackWords`] as an [`Args`] (numbers only).
    struct W(StackWords);
    impl Args for W {
        fn next_u32(&mut self) -> u32 {
            self.0.next_u32()
        }
        fn next_u64(&mut self) -> u64 {
            self.0.next_u64()
        }
        fn string(&mut self, _: u32, _: usize) -> &[u8] {
            b"?"
        }
        fn symbol(&mut self, _: &mut dyn Write, _: u32, _: bool) -> bool {
            false
        }
    }

    #[repr(C, align(8))]
    struct Stack([u32; 8]);

    #[test]
    fn va_list_reads_words_and_aligns_long_long_by_address() {
        // vsnprintf(buf, n, "%d %lld %x", ap) with ap at word 1: the int at
        // word 1, the long long rounded up to word 2 (8-aligned), then 4.
        let st = Stack([0xdead, 7, 5, 1, 0xbeef, 0, 0, 0]);
        let mut s = String::new();
        // SAFETY: the array holds every word the format reads.
        let ap = unsafe { StackWords::new(st.0.as_ptr().add(1)) };
        format(&mut s, b"%d %lld %x", &mut W(ap)).unwrap();
        assert_eq!(s, "7 4294967301 beef");
        // At word 2 already aligned: no skip.
        let mut s = String::new();
        // SAFETY: as above.
        let ap = unsafe { StackWords::new(st.0.as_ptr().add(2)) };
        format(&mut s, b"%llu|%x", &mut W(ap)).unwrap();
        assert_eq!(s, "4294967301|beef");
    }

    fn snprintf(size: usize, fmt: &str, args: &[u32]) -> (usize, Vec<u8>) {
        let mut buf = [0xaau8; 16];
        // SAFETY: `size` is at most the buffer's length.
        let mut w = unsafe { CBuf::new(buf.as_mut_ptr(), size.min(16)) };
        format(&mut w, fmt.as_bytes(), &mut V(args.to_vec(), 0)).unwrap();
        (w.finish(), buf.to_vec())
    }

    #[test]
    fn snprintf_truncates_terminates_and_counts_what_would_be_written() {
        let (n, buf) = snprintf(8, "%s-%d", &[1, 12345]);
        assert_eq!(n, 11); // "world-12345"
        assert_eq!(&buf[..8], b"world-1\0");
        assert_eq!(buf[8], 0xaa);
        assert_eq!(scnprintf_len(n, 8), 7);
        let (n, buf) = snprintf(16, "%d", &[42]);
        assert_eq!((n, &buf[..3]), (2, &b"42\0"[..]));
        assert_eq!(scnprintf_len(n, 16), 2);
        // size 0 writes nothing, not even the NUL.
        let (n, buf) = snprintf(0, "abc", &[]);
        assert_eq!((n, buf[0]), (3, 0xaa));
        assert_eq!(scnprintf_len(n, 0), 0);
        let mut m = Measure::default();
        format(&mut m, b"node-%03d", &mut V(std::vec![7], 0)).unwrap();
        assert_eq!(m.0, 8);
    }

    #[test]
    fn levels() {
        use crate::console::printk::Level;
        assert_eq!(split_level(b"\x016hi"), (Level::Info, &b"hi"[..]));
        assert_eq!(split_level(b"\x013x"), (Level::Err, &b"x"[..]));
        assert_eq!(split_level(b"plain"), (Level::Warning, &b"plain"[..]));
    }
}
