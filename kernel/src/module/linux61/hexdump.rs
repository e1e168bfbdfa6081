//! 6.1's `print_hex_dump` (lib/hexdump.c): a buffer printed as lines of
//! hex, each built by `hex_dump_to_buffer`, with an optional prefix and an
//! ASCII column. Linux's rules, kept here:
//!
//! - `rowsize` is 16 or 32 bytes (anything else is 16); a line holds at
//!   most `rowsize` bytes;
//! - `groupsize` is 1, 2, 4 or 8 bytes (anything else is 1, and so is a
//!   line whose length is not a multiple of it); groups of more than one
//!   byte are read as little-endian numbers (`get_unaligned` on ARM LE)
//!   and printed as `%4.4x`, `%8.8x`, `%16.16llx`, separated by a space;
//!   bytes as two hex digits each, separated by a space;
//! - with `ascii`, the text is padded to column `rowsize * 2 + rowsize /
//!   groupsize + 1` and each byte follows as itself if `isascii && isprint`
//!   (0x20..=0x7e), else `.`;
//! - the prefix: `DUMP_PREFIX_NONE` (0) none, `DUMP_PREFIX_ADDRESS` (1)
//!   the line's address as `%p` (6.1 hashes `%p`; Kobold's printk prints
//!   it as its `%p` does, eight hex digits), `DUMP_PREFIX_OFFSET` (2) the
//!   offset as `%.8x`; then `": "`. `prefix_str` comes before all.
//!
//! Host-tested; `kernel.rs` prints each line at the caller's level.

use core::fmt::{self, Write};

/// `DUMP_PREFIX_ADDRESS`.
pub const DUMP_PREFIX_ADDRESS: i32 = 1;
/// `DUMP_PREFIX_OFFSET`.
pub const DUMP_PREFIX_OFFSET: i32 = 2;

/// `print_hex_dump`'s row size.
pub fn rowsize(rowsize: i32) -> usize {
    if rowsize == 32 { 32 } else { 16 }
}

/// `hex_dump_to_buffer(line, len, rowsize, groupsize, ..., ascii)` for
/// one line (`line.len()` at most `rowsize`), written to `out`.
pub fn hex_dump_line(
    out: &mut dyn Write,
    line: &[u8],
    rowsize: i32,
    groupsize: i32,
    ascii: bool,
) -> fmt::Result {
    let rowsize = self::rowsize(rowsize);
    let line = &line[..line.len().min(rowsize)];
    let mut group = match groupsize {
        1 | 2 | 4 | 8 => groupsize as usize,
        _ => 1,
    };
    if !line.len().is_multiple_of(group) {
        group = 1;
    }
    if line.is_empty() {
        return Ok(());
    }
    let mut col = 0usize;
    for (j, g) in line.chunks(group).enumerate() {
        if j > 0 {
            out.write_char(' ')?;
            col += 1;
        }
        let mut v = 0u64;
        for (k, &b) in g.iter().enumerate() {
            v |= u64::from(b) << (8 * k);
        }
        write!(out, "{:01$x}", v, 2 * group)?;
        col += 2 * group;
    }
    if !ascii {
        return Ok(());
    }
    let ascii_column = rowsize * 2 + rowsize / group + 1;
    while col < ascii_column {
        out.write_char(' ')?;
        col += 1;
    }
    for &b in line {
        out.write_char(if (0x20..=0x7e).contains(&b) {
            b as char
        } else {
            '.'
        })?;
    }
    Ok(())
}

/// The prefix of the line at `offset` (address `addr`): `prefix_str`,
/// then the address or offset as `prefix_type` asks, and `": "` after
/// either.
pub fn write_line_prefix(
    out: &mut dyn Write,
    prefix_str: &[u8],
    prefix_type: i32,
    addr: u32,
    offset: usize,
) -> fmt::Result {
    for &c in prefix_str {
        out.write_char(c as char)?;
    }
    match prefix_type {
        DUMP_PREFIX_ADDRESS => write!(out, "{addr:08x}: "),
        DUMP_PREFIX_OFFSET => write!(out, "{offset:08x}: "),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::String;

    fn line(b: &[u8], row: i32, group: i32, ascii: bool) -> String {
        let mut s = String::new();
        hex_dump_line(&mut s, b, row, group, ascii).unwrap();
        s
    }

    /// The examples of lib/hexdump.c's `hex_dump_to_buffer` comment and of
    /// lib/test_hexdump.c's data (`test_data_1`, "be32" groups printed as
    /// little-endian words).
    #[test]
    fn as_hex_dump_to_buffer() {
        let data: [u8; 16] = *b"\xbe\x32\xdb\x7b\x0a\x18\x93\xb2\x70\xba\xc4\x24\x7d\x83\x34\x9b";
        assert_eq!(
            line(&data, 16, 1, false),
            "be 32 db 7b 0a 18 93 b2 70 ba c4 24 7d 83 34 9b"
        );
        assert_eq!(
            line(&data, 16, 2, false),
            "32be 7bdb 180a b293 ba70 24c4 837d 9b34"
        );
        assert_eq!(
            line(&data, 16, 4, false),
            "7bdb32be b293180a 24c4ba70 9b34837d"
        );
        assert_eq!(
            line(&data, 16, 8, false),
            "b293180a7bdb32be 9b34837d24c4ba70"
        );
        // The comment's example: "40 41 42 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f 40  @ABC456789:;<=>?@".
        let s = *b"@ABC456789:;<=>?@";
        assert_eq!(
            line(&s[..16], 16, 1, true),
            "40 41 42 43 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f  @ABC456789:;<=>?"
        );
        // A length not a multiple of the group: bytes.
        assert_eq!(line(&data[..3], 16, 4, false), "be 32 db");
        // Bad sizes fall back to 16 and 1; the ASCII column stays where a
        // full row would put it (16 * 2 + 16 + 1 = 49).
        let l = line(b"a\x00", 7, 3, true);
        assert_eq!(l, format!("61 00{}a.", " ".repeat(49 - 5)));
        // Groups of 4 with ASCII: column 16 * 2 + 4 + 1 = 37.
        let l = line(b"abcd", 16, 4, true);
        assert_eq!(l, format!("64636261{}abcd", " ".repeat(37 - 8)));
        assert_eq!(line(b"", 16, 1, true), "");
        // 32-byte rows hold 32 bytes.
        assert_eq!(line(&[0u8; 40], 32, 1, false).len(), 32 * 3 - 1);
    }

    #[test]
    fn prefixes() {
        let p = |t, a, o| {
            let mut s = String::new();
            write_line_prefix(&mut s, b"dump: ", t, a, o).unwrap();
            s
        };
        assert_eq!(p(0, 0xbf00_0010, 16), "dump: ");
        assert_eq!(p(DUMP_PREFIX_OFFSET, 0xbf00_0010, 16), "dump: 00000010: ");
        assert_eq!(p(DUMP_PREFIX_ADDRESS, 0xbf00_0010, 16), "dump: bf000010: ");
    }
}
