//! # kobold-loader: `.ko` modules, without a kernel
//!
//! Everything about loading an ELF32 little-endian ARM relocatable (`ET_REL`)
//! module that does not touch hardware lives here, so it runs — and is
//! tested — on the host: the kernel's `insmod` and `cargo xtask modinfo` /
//! `modlink` share it. The crate never names the kernel.
//!
//! The loader **validates before it trusts** ([`validate`]): every offset,
//! size, index and string in the file is checked once, up front, and every
//! refusal is a typed [`LoadError`] naming the section, symbol or relocation
//! and the reason. What comes out, a [`Module`], only holds facts that were
//! checked, so later stages (layout, relocation) index without fear.
//! The checks are those of Linux 6.x's `elf_validity_cache_copy()` plus the
//! ones Linux's history shows were missing (checks added to kernel/module/
//! after 3.18 because malformed files got through).
//!
//! Then, in the kernel's order:
//!
//! - [`layout`]: Linux's `layout_sections` — core and init regions, the
//!   text / rodata / ro-after-init / data groups on their own pages (W^X),
//!   each region's PLT, `-fcommon` symbols;
//! - [`link`]: copy the sections, resolve symbols (own, SHN_ABS, common,
//!   a [`link::Resolver`] for the kernel's and other modules' exports, weak
//!   undefined = 0) and apply every relocation with [`relocate`] (Linux's
//!   `apply_relocate` arithmetic), through PLT veneers where a branch
//!   cannot reach;
//! - [`ksymtab`]: what the linked module exports and which parameters it
//!   takes; [`params`]: setting those parameters from `insmod`'s
//!   `name=value` words (Linux's `parse_args`);
//! - [`kallsyms`]: which of its symbols `/proc/kallsyms` lists, with which
//!   `nm` letter;
//! - [`modinfo`]: the `.modinfo` `key=value` strings, the module name rule
//!   and the one `modinfo` formatter (kernel shell and `cargo xtask
//!   modinfo`).
//!
//! Before any of this, [`signature::split`] takes a signed module's
//! trailer off (Linux's `module_sig_check`), and [`linux61::detect`] says
//! which ABI the module was built for: Kobold's own (Linux 3.18's API) or
//! Debian's Linux 6.1, whose `struct module`, `struct kernel_param`,
//! `__versions` and ftrace call sites [`linux61`] knows.
//!
//! [`trace`] lets a caller watch [`link::link_traced`] work (each section
//! placed, symbol resolved, relocation applied, with S, A, P and the words
//! before and after): `insmod -v` and `cargo xtask modlink --explain`.
//!
//! [`keyring`] makes the built-in keyring's boot lines (`Loaded X.509
//! cert '...'`, from [`x509`]) when the kernel image is built, so the
//! boot prints them without decoding DER.
//!
//! [`relocate`] holds everything about ARM relocation types: their numbers
//! and names and the arithmetic that applies them.
//!
//! ## Trust: bounded time, bounded memory, no abort
//!
//! The kernel runs this code on files it has no reason to trust, inside
//! `insmod`, where an allocation failure must become `-ENOMEM` and never an
//! abort. So, in every stage:
//!
//! - **every allocation is fallible** (`Vec::try_reserve_exact`, then
//!   pushes within that capacity; `sort_unstable`, `dedup` and
//!   `binary_search` never allocate), and each error type has a `NoMemory`
//!   variant for the failure;
//! - **every count is bounded by the file**: a table is reserved for the
//!   number of entries the file holds, so the memory the loader uses is a
//!   small multiple of the file's size (plus the images, which the caller
//!   allocates: [`link::link`] writes into buffers it is given);
//! - **errors borrow** their names from the file or the image (`&'a str`),
//!   so reporting one allocates nothing;
//! - **names are bounded**: a symbol, section, export or parameter name is
//!   shorter than [`KSYM_NAME_LEN`] (512, Linux >= 6.1's value, so rustc's
//!   long mangled names fit), found with a scan of at most that many bytes;
//!   a longer one refuses the module. Names are `&str` slices of their
//!   string table, never copies, however many symbols share one;
//! - **no quadratic step**: lookups by symbol index (COMMON symbols) or by
//!   PLT key are binary searches in tables sorted once at layout time;
//! - **regions are bounded** by the module window: a core or init region
//!   larger than [`layout::MODULE_WINDOW`] (16 MB) is refused at layout
//!   time, before anything is allocated for it.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod elf;
mod error;
pub mod kallsyms;
pub mod keyring;
pub mod ksymtab;
pub mod layout;
pub mod link;
pub mod linux61;
pub mod modinfo;
pub mod params;
pub mod pkcs7;
pub mod relocate;
pub mod signature;
pub mod trace;
pub mod x509;

pub use elf::{Module, Rel, Section, Symbol, validate};
pub use error::LoadError;

use alloc::vec::Vec;

/// Linux's `KSYM_NAME_LEN` (6.1 on; 128 before): a name, with its NUL,
/// fits in this many bytes. Longer names refuse the module.
pub const KSYM_NAME_LEN: usize = 512;

/// An empty vector with room for exactly `n` elements, or `None` if the
/// allocation fails.
pub(crate) fn try_vec<T>(n: usize) -> Option<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).ok()?;
    Some(v)
}

/// Why [`c_name`] found no name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameError {
    /// The offset is outside the table, no NUL follows it, or the bytes are
    /// not UTF-8.
    Bad,
    /// No NUL within [`KSYM_NAME_LEN`] bytes.
    TooLong,
}

/// A string table whose names are looked up many times (a module's
/// section and symbol names): when the whole table is UTF-8, checked once,
/// a name is a slice of it and only its start is checked (for a char
/// boundary: a slice of valid UTF-8 from a boundary up to a NUL is valid);
/// otherwise each name is checked on its own, as [`c_name`] does. The
/// result is [`c_name`]'s either way; validating each of a module's names
/// separately cost a quarter of its ELF validation.
///
/// A table of at most [`NUL_WORDS`]` * 32` bytes, word-aligned in memory
/// (a module's tables are, in the kernel), also has its NULs found once,
/// in one sweep: bit `b` of `nuls[w]` says whether byte `32 * w + b` is
/// NUL, so a name ends at the first bit set from its offset on, found
/// with `trailing_zeros` instead of a search from each name's start (a
/// module's 64 names cost about 100 instructions each that way, most of
/// it the search's set-up, as its names are short).
pub(crate) struct StrTable<'a> {
    bytes: &'a [u8],
    text: Option<&'a str>,
    nuls: Option<[u32; NUL_WORDS]>,
}

/// Words of NUL bits a [`StrTable`] keeps (64 bytes of stack, cleared
/// and moved with the table): tables up to 512 bytes, a small module's
/// (Debian's crc-itu-t, crc7 and libarc4 have 252 to 423). With 32 words
/// each insmod spent about 470 instructions more clearing and moving them.
pub(crate) const NUL_WORDS: usize = 16;

/// Bit `k` set when byte `k` of the little-endian word `x` is zero: the
/// exact test (`(x & 0x7f..) + 0x7f..` sets a byte's top bit when its low
/// seven bits are not all zero, without a carry out of the byte, and `| x`
/// when its own top bit is set), then the four top bits gathered into the
/// low nibble by one multiplication (the products land on distinct bits:
/// no carries; bits 21 to 24 are bytes 0 to 3).
fn zero_bytes(x: u32) -> u32 {
    let z = !(((x & 0x7f7f_7f7f).wrapping_add(0x7f7f_7f7f)) | x) & 0x8080_8080;
    ((z >> 7).wrapping_mul(0x0020_4081) >> 21) & 0xf
}

/// The NUL bits of `bytes` (see [`StrTable`]), or `None` if it is longer
/// than [`NUL_WORDS`]` * 32` bytes or not word-aligned.
fn nul_bits(bytes: &[u8]) -> Option<[u32; NUL_WORDS]> {
    if bytes.len() > 32 * NUL_WORDS {
        return None;
    }
    let (chunks, tail) = object::pod::slice_from_bytes::<[u32; 8]>(bytes, bytes.len() / 32).ok()?;
    let mut out = [0u32; NUL_WORDS];
    for (o, chunk) in out.iter_mut().zip(chunks) {
        let mut m = 0;
        for (j, &w) in chunk.iter().enumerate() {
            m |= zero_bytes(u32::from_le(w)) << (4 * j);
        }
        *o = m;
    }
    if let Some(o) = out.get_mut(chunks.len()) {
        for (i, &b) in tail.iter().enumerate() {
            *o |= u32::from(b == 0) << i;
        }
    }
    Some(out)
}

impl<'a> StrTable<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let text = core::str::from_utf8(bytes).ok();
        StrTable {
            bytes,
            text,
            nuls: text.and_then(|_| nul_bits(bytes)),
        }
    }

    /// [`c_name`]`(table, offset)`.
    pub(crate) fn name(&self, offset: usize) -> Result<&'a str, NameError> {
        let Some(text) = self.text else {
            return c_name(self.bytes, offset);
        };
        if let Some(nuls) = &self.nuls {
            return Self::name_by_bits(text, nuls, offset);
        }
        let rest = self.bytes.get(offset..).ok_or(NameError::Bad)?;
        let window = rest.get(..KSYM_NAME_LEN).unwrap_or(rest);
        match find_nul(window) {
            Some(end) => text.get(offset..offset + end).ok_or(NameError::Bad),
            None if window.len() == KSYM_NAME_LEN => Err(NameError::TooLong),
            None => Err(NameError::Bad),
        }
    }

    /// [`StrTable::name`] from the NUL bits: the first NUL at or after
    /// `offset` within the same window of [`KSYM_NAME_LEN`] bytes.
    #[inline(always)]
    fn name_by_bits(
        text: &'a str,
        nuls: &[u32; NUL_WORDS],
        offset: usize,
    ) -> Result<&'a str, NameError> {
        let len = text.len();
        if offset >= len {
            return Err(NameError::Bad);
        }
        let limit = len.min(offset + KSYM_NAME_LEN);
        let mut w = offset / 32;
        let mut bits = nuls.get(w).copied().unwrap_or(0) & (u32::MAX << (offset % 32));
        loop {
            if bits != 0 {
                let end = 32 * w + bits.trailing_zeros() as usize;
                if end < limit {
                    return text.get(offset..end).ok_or(NameError::Bad);
                }
                break;
            }
            w += 1;
            if 32 * w >= limit {
                break;
            }
            bits = nuls.get(w).copied().unwrap_or(0);
        }
        if limit - offset == KSYM_NAME_LEN {
            Err(NameError::TooLong)
        } else {
            Err(NameError::Bad)
        }
    }
}

/// The index of the first NUL of `bytes`, looked for four bytes at a time:
/// in a little-endian word `x`, the lowest bit set in
/// `(x - 0x01010101) & !x & 0x80808080` is the top bit of its first zero
/// byte (a borrow can only mark bytes above a zero one, never below), so
/// the index comes from `trailing_zeros` without a second look. Every name
/// the loader takes from a module (section, symbol, `.modinfo` entry) is
/// found this way; the byte loop it replaces cost 7 ARM instructions a
/// byte, and a module's names are most of what its validation reads.
///
/// The words are read aligned: the bytes before the first 4-byte boundary
/// (at most three) are searched one by one, then the rest is viewed as
/// `u32`s through `object`'s checked `pod::slice_from_bytes` (safe code),
/// one `ldr` a word instead of four byte loads and three ORs (the kernel's
/// target forbids unaligned loads); the last bytes (fewer than four) are
/// again searched one by one. Where the bytes cannot be viewed as words
/// (never in practice: `align_offset` may decline), the words are put
/// together from bytes as before.
pub(crate) fn find_nul(bytes: &[u8]) -> Option<usize> {
    let head = bytes.as_ptr().align_offset(4).min(bytes.len());
    let (first, rest) = bytes.split_at(head);
    if let Some(i) = first.iter().position(|&b| b == 0) {
        return Some(i);
    }
    let count = rest.len() / 4;
    if let Ok((words, tail)) = object::pod::slice_from_bytes::<u32>(rest, count) {
        for (k, &w) in words.iter().enumerate() {
            let x = u32::from_le(w);
            let zero = x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080;
            if zero != 0 {
                return Some(head + 4 * k + (zero.trailing_zeros() / 8) as usize);
            }
        }
        let at = head + 4 * count;
        return tail.iter().position(|&b| b == 0).map(|i| at + i);
    }
    let mut chunks = rest.chunks_exact(4);
    let mut at = head;
    for w in &mut chunks {
        let x = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        let zero = x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 4;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == 0)
        .map(|i| at + i)
}

/// Whether `name` starts with `prefix`, compared a byte at a time in line:
/// what `str::starts_with` answers, without its call to `memcmp` (six ARM
/// instructions a byte after the call), for the short constant names the
/// loader sorts sections and symbols by (`.init`, `.L`, `.modinfo`).
#[inline(always)]
pub(crate) fn name_starts(name: &str, prefix: &str) -> bool {
    let (n, p) = (name.as_bytes(), prefix.as_bytes());
    n.len() >= p.len() && n.iter().zip(p).all(|(a, b)| a == b)
}

/// Whether `name` is `other`: [`name_starts`] of the same length.
#[inline(always)]
pub(crate) fn name_is(name: &str, other: &str) -> bool {
    name_is_bytes(name.as_bytes(), other.as_bytes())
}

/// `name_is` on bytes: `name == other`, compared in line after the
/// length, without `memcmp`'s call. Public: the kernel compares module and
/// export names the same way.
#[inline(always)]
pub fn name_is_bytes(name: &[u8], other: &[u8]) -> bool {
    name.len() == other.len() && name.iter().zip(other).all(|(a, b)| a == b)
}

/// The NUL-terminated name at `offset` of `table`, shorter than
/// [`KSYM_NAME_LEN`]: at most that many bytes are looked at.
pub(crate) fn c_name(table: &[u8], offset: usize) -> Result<&str, NameError> {
    let rest = table.get(offset..).ok_or(NameError::Bad)?;
    let window = rest.get(..KSYM_NAME_LEN).unwrap_or(rest);
    match find_nul(window) {
        Some(end) => core::str::from_utf8(window.get(..end).ok_or(NameError::Bad)?)
            .map_err(|_| NameError::Bad),
        None if window.len() == KSYM_NAME_LEN => Err(NameError::TooLong),
        None => Err(NameError::Bad),
    }
}

#[cfg(test)]
mod str_table_tests {
    use super::*;

    /// `find_nul` answers what a byte loop answers, for every string of up
    /// to 9 bytes over bytes that trip word-at-a-time tests (0, 1, 0x80,
    /// 0xff, 0x7f) and at every offset from a word boundary.
    #[test]
    fn find_nul_is_a_byte_search() {
        let alphabet = [0u8, 1, 0x80, 0xff, 0x7f];
        for len in 0..=9u32 {
            for code in 0..alphabet.len().pow(len) {
                // At every offset from a 4-byte boundary, so that the
                // bytes before it, the aligned words and the last bytes
                // all take their turn; the bytes around the string are
                // NULs, so a search that read past its end would say so.
                for start in 0..4 {
                    let mut words = [0u32; 4];
                    let buf = object::pod::bytes_of_slice_mut(&mut words);
                    let mut c = code;
                    for b in buf.iter_mut().skip(start).take(len as usize) {
                        *b = alphabet[c % alphabet.len()];
                        c /= alphabet.len();
                    }
                    let t = &buf[start..start + len as usize];
                    assert_eq!(find_nul(t), t.iter().position(|&b| b == 0), "{t:?}");
                }
            }
        }
    }

    /// `zero_bytes` marks exactly the zero bytes of a word, for every word
    /// over bytes that trip word-at-a-time tests.
    #[test]
    fn zero_bytes_are_the_zero_bytes() {
        let alphabet = [0u8, 1, 0x7f, 0x80, 0x81, 0xfe, 0xff];
        for code in 0..alphabet.len().pow(4) {
            let mut b = [0u8; 4];
            let mut c = code;
            for x in &mut b {
                *x = alphabet[c % alphabet.len()];
                c /= alphabet.len();
            }
            let want = (0..4).fold(0, |m, k| m | (u32::from(b[k] == 0) << k));
            assert_eq!(zero_bytes(u32::from_le_bytes(b)), want, "{b:?}");
        }
    }

    /// With the tables word-aligned (as in the kernel), `StrTable::name`
    /// takes its NUL bits and still answers `c_name` at every offset: names
    /// across word and 32-byte boundaries, multi-byte characters, a table
    /// that is not UTF-8, names too long, a table of exactly the bits'
    /// bound and one just past it (which searches as before).
    #[test]
    fn str_table_bits_answer_c_names() {
        let mut tables: alloc::vec::Vec<alloc::vec::Vec<u8>> = alloc::vec![
            b"\0.text\0.data\0init_module\0".to_vec(),
            "\0caf\u{e9}\0\u{1f980}crab\0x\0".as_bytes().to_vec(),
            b"\0ok\0bad\xff\0tail\0".to_vec(),
            b"\0no terminator".to_vec(),
        ];
        // Names of every length from 0 to 29, back to back (466 bytes).
        let mut many = alloc::vec![0u8];
        for n in 0..30 {
            many.extend(core::iter::repeat_n(b'a' + (n % 26) as u8, n));
            many.push(0);
        }
        tables.push(many);
        // Names of KSYM_NAME_LEN - 1, KSYM_NAME_LEN and more bytes.
        for n in [
            KSYM_NAME_LEN - 2,
            KSYM_NAME_LEN - 1,
            KSYM_NAME_LEN,
            KSYM_NAME_LEN + 3,
        ] {
            let mut t = alloc::vec![0u8];
            t.extend(core::iter::repeat_n(b'n', n));
            t.push(0);
            tables.push(t);
        }
        // At the bound of the bits and just past it.
        for len in [32 * NUL_WORDS, 32 * NUL_WORDS + 1] {
            let mut t: alloc::vec::Vec<u8> = (0..len)
                .map(|i| if i % 7 == 0 { 0 } else { b'q' })
                .collect();
            if let Some(last) = t.last_mut() {
                *last = 0;
            }
            tables.push(t);
        }
        let mut with_bits = 0;
        for t in &tables {
            let mut words = alloc::vec![0u32; t.len().div_ceil(4) + 1];
            let buf = &mut object::pod::bytes_of_slice_mut(&mut words)[..t.len()];
            buf.copy_from_slice(t);
            let st = StrTable::new(buf);
            with_bits += usize::from(st.nuls.is_some());
            assert_eq!(
                st.nuls.is_some(),
                st.text.is_some() && t.len() <= 32 * NUL_WORDS,
                "{t:?}"
            );
            for off in 0..t.len() + 2 {
                assert_eq!(st.name(off), c_name(buf, off), "offset {off} of {t:?}");
            }
        }
        // The UTF-8 tables of at most 512 bytes: a name too long for
        // KSYM_NAME_LEN needs more, so those take the search.
        assert_eq!(with_bits, 6);
    }

    /// `name_starts`, `name_is` and `name_is_bytes` answer `starts_with`
    /// and `==`.
    #[test]
    fn name_comparisons_are_str_ones() {
        let names = [
            "",
            ".",
            ".init",
            ".init.text",
            ".inix",
            ".L",
            ".LC0",
            "\u{e9}",
            "x",
        ];
        for a in names {
            for b in names {
                assert_eq!(name_starts(a, b), a.starts_with(b), "{a:?} {b:?}");
                assert_eq!(name_is(a, b), a == b, "{a:?} {b:?}");
                assert_eq!(
                    name_is_bytes(a.as_bytes(), b.as_bytes()),
                    a.as_bytes() == b.as_bytes(),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    /// `StrTable::name` answers `c_name` at every offset of tables that are
    /// UTF-8 (multi-byte names, offsets inside a character) and of tables
    /// that are not, and for names too long.
    #[test]
    fn str_table_names_are_c_names() {
        let long = [b'a'; KSYM_NAME_LEN + 3];
        let mut with_long = alloc::vec![0u8];
        with_long.extend_from_slice(&long);
        with_long.push(0);
        let tables: [&[u8]; 5] = [
            b"\0.text\0.data\0init_module\0",
            "\0caf\u{e9}\0\u{1f980}crab\0x\0".as_bytes(),
            b"\0ok\0bad\xff\0tail\0",
            b"\0no terminator",
            &with_long,
        ];
        for t in tables {
            let st = StrTable::new(t);
            for off in 0..t.len() + 2 {
                assert_eq!(st.name(off), c_name(t, off), "offset {off} of {t:?}");
            }
        }
    }
}
