//! The kernel's symbol table (Linux's kallsyms): one format, written by
//! `cargo xtask build` ([`encode`]) and read by the kernel ([`Table`]).
//!
//! Linux links vmlinux up to three times to embed its kallsyms tables
//! (scripts/link-vmlinux.sh). Kobold reserves a zero-filled `.kallsyms`
//! section instead, sized by xtask from the table it will hold, and xtask
//! overwrites it in the linked ELF: the section keeps its size, so no address
//! moves and the table stays true. The format, little-endian u32s:
//!
//! ```text
//! magic "KSYM" (0x4d59534b), count,
//! count × { addr, size, name_off }   sorted by addr, name_off relative to strings
//! strings_len, strings               each "<type char><name>\0"
//! ```
//!
//! The type char is `nm`'s (t/T text, r/R rodata, d/D data, b/B bss),
//! upper-case for global symbols. At a shared address the reader prefers the
//! largest entry that covers the address.
//!
//! Parsing trusts nothing: an unpatched or damaged table yields no table or
//! no symbol, never a panic.

use alloc::vec::Vec;

/// "KSYM", little-endian.
pub const MAGIC: u32 = 0x4d59_534b;
/// The ELF section that holds the table.
pub const SECTION: &str = ".kallsyms";
/// Bytes of the header (magic, count).
pub const HEADER_SIZE: usize = 8;
/// Bytes of one `{ addr, size, name_off }` entry.
pub const ENTRY_SIZE: usize = 12;

/// One symbol: as encoded, or resolved from an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub name: &'a str,
    pub kind: char,
    pub addr: u32,
    pub size: u32,
    /// `addr_looked_up - addr` (0 when not looked up; ignored by [`encode`]).
    pub offset: u32,
}

/// The number of bytes [`encode`] produces for `symbols`, without building
/// the table (xtask sizes the `.kallsyms` reservation with it).
pub fn encoded_len<'a>(symbols: impl IntoIterator<Item = Symbol<'a>>) -> usize {
    let (count, strings) = symbols.into_iter().fold((0, 0), |(n, s), sym| {
        (n + 1, s + sym.kind.len_utf8() + sym.name.len() + 1)
    });
    HEADER_SIZE + count * ENTRY_SIZE + 4 + strings
}

/// The table's bytes for `symbols`, which the caller has sorted by address.
///
/// # Panics
///
/// If the table would exceed 4 GiB (offsets are u32s); xtask's tables are
/// a few hundred KB.
pub fn encode<'a>(symbols: impl IntoIterator<Item = Symbol<'a>>) -> Vec<u8> {
    let mut strings = Vec::new();
    let mut entries = Vec::new();
    let mut count = 0u32;
    for s in symbols {
        let off = u32::try_from(strings.len()).expect("kallsyms strings exceed 4 GiB");
        entries.extend_from_slice(&s.addr.to_le_bytes());
        entries.extend_from_slice(&s.size.to_le_bytes());
        entries.extend_from_slice(&off.to_le_bytes());
        let mut buf = [0; 4];
        strings.extend_from_slice(s.kind.encode_utf8(&mut buf).as_bytes());
        strings.extend_from_slice(s.name.as_bytes());
        strings.push(0);
        count += 1;
    }
    let strings_len = u32::try_from(strings.len()).expect("kallsyms strings exceed 4 GiB");
    let mut out = Vec::with_capacity(HEADER_SIZE + entries.len() + 4 + strings.len());
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&entries);
    out.extend_from_slice(&strings_len.to_le_bytes());
    out.extend_from_slice(&strings);
    out
}

/// A validated view of a table.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    entries: &'a [u8],
    strings: &'a [u8],
    count: usize,
}

fn word(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl<'a> Table<'a> {
    /// Checks the header and the bounds of both areas.
    pub fn parse(bytes: &'a [u8]) -> Option<Table<'a>> {
        if word(bytes, 0)? != MAGIC {
            return None;
        }
        let count = word(bytes, 4)? as usize;
        let entries_len = count.checked_mul(ENTRY_SIZE)?;
        let strings_at = HEADER_SIZE.checked_add(entries_len)?;
        let entries = bytes.get(HEADER_SIZE..strings_at)?;
        let strings_len = word(bytes, strings_at)? as usize;
        let strings = bytes.get(strings_at + 4..(strings_at + 4).checked_add(strings_len)?)?;
        Some(Table {
            entries,
            strings,
            count,
        })
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn entry(&self, i: usize) -> (u32, u32, u32) {
        let at = i * ENTRY_SIZE;
        // In bounds: `parse` checked that `entries` holds `count` entries.
        let w = |k: usize| word(self.entries, at + 4 * k).unwrap_or(0);
        (w(0), w(1), w(2))
    }

    fn name_at(&self, off: u32) -> Option<(char, &'a str)> {
        let rest = self.strings.get(off as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        let s = core::str::from_utf8(&rest[..end]).ok()?;
        let mut chars = s.chars();
        let kind = chars.next()?;
        Some((kind, chars.as_str()))
    }

    /// The i-th symbol in address order.
    pub fn get(&self, i: usize) -> Option<Symbol<'a>> {
        if i >= self.count {
            return None;
        }
        let (addr, size, off) = self.entry(i);
        let (kind, name) = self.name_at(off)?;
        Some(Symbol {
            name,
            kind,
            addr,
            size,
            offset: 0,
        })
    }

    /// Every symbol in address order (a damaged name ends the walk).
    pub fn iter(&self) -> impl Iterator<Item = Symbol<'a>> + '_ {
        (0..self.count).map_while(|i| self.get(i))
    }

    /// The symbol containing `addr` (binary search over the sorted entries);
    /// an address past a symbol's size belongs to no symbol, as in Linux.
    pub fn lookup(&self, addr: u32) -> Option<Symbol<'a>> {
        // Last entry with entry.addr <= addr.
        let (mut lo, mut hi) = (0usize, self.count);
        while lo < hi {
            let m = lo + (hi - lo) / 2;
            if self.entry(m).0 <= addr {
                lo = m + 1;
            } else {
                hi = m;
            }
        }
        // Several symbols can share an address (aliases): take the largest
        // one that covers `addr`.
        let mut i = lo.checked_sub(1)?;
        let start = self.entry(i).0;
        let mut best: Option<(usize, u32)> = None;
        loop {
            let (_, size, _) = self.entry(i);
            if addr - start < size.max(1) && best.is_none_or(|(_, s)| size > s) {
                best = Some((i, size));
            }
            if i == 0 || self.entry(i - 1).0 != start {
                break;
            }
            i -= 1;
        }
        let mut sym = self.get(best?.0)?;
        sym.offset = addr - start;
        Some(sym)
    }

    /// The symbol named `name`, by linear search (rare, not on hot paths).
    pub fn find(&self, name: &str) -> Option<Symbol<'a>> {
        (0..self.count)
            .filter_map(|i| self.get(i))
            .find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sym(addr: u32, size: u32, kind: char, name: &str) -> Symbol<'_> {
        Symbol {
            name,
            kind,
            addr,
            size,
            offset: 0,
        }
    }

    #[test]
    fn encodes_the_documented_layout() {
        let syms = [sym(0x1000, 8, 'T', "a"), sym(0x1008, 4, 'r', "bb")];
        let bytes = encode(syms);
        assert_eq!(bytes.len(), encoded_len(syms));
        let words: Vec<u32> = bytes[..36]
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(words, [MAGIC, 2, 0x1000, 8, 0, 0x1008, 4, 3, 7]);
        assert_eq!(&bytes[36..], b"Ta\0rbb\0");
        let t = Table::parse(&bytes).unwrap();
        assert_eq!(t.iter().collect::<Vec<_>>(), syms);
    }

    #[test]
    fn lookup_by_address() {
        let bytes = encode([
            sym(0xc000_8000, 0x40, 'T', "_start"),
            sym(0xc000_8100, 0x20, 't', "kernel::foo"),
            sym(0xc000_8100, 0x10, 't', "alias"),
            sym(0xc000_9000, 0x8, 'R', "some_table"),
        ]);
        let t = Table::parse(&bytes).unwrap();
        assert_eq!(t.len(), 4);
        let s = t.lookup(0xc000_8010).unwrap();
        assert_eq!(
            (s.name, s.kind, s.offset, s.size),
            ("_start", 'T', 0x10, 0x40)
        );
        // Between symbols: nothing.
        assert!(t.lookup(0xc000_8050).is_none());
        // Shared address: the one whose size covers the offset.
        assert_eq!(t.lookup(0xc000_8118).unwrap().name, "kernel::foo");
        assert_eq!(t.lookup(0xc000_8104).unwrap().name, "kernel::foo");
        assert!(t.lookup(0xc000_7fff).is_none());
        assert_eq!(t.find("some_table").unwrap().addr, 0xc000_9000);
        assert!(t.find("missing").is_none());
    }

    #[test]
    fn damaged_tables_yield_nothing() {
        assert!(Table::parse(&[0; 64]).is_none(), "unpatched section");
        let mut bytes = encode([sym(0x1000, 4, 'T', "x")]);
        assert!(
            Table::parse(&bytes[..bytes.len() - 1]).is_none(),
            "truncated strings"
        );
        // Every truncation parses or not, never panics.
        for cut in 0..bytes.len() {
            if let Some(t) = Table::parse(&bytes[..cut]) {
                let _ = t.lookup(0x1000);
            }
        }
        bytes[4] = 0xff; // huge count
        assert!(Table::parse(&bytes).is_none());
        let mut bad_name = encode([sym(0x1000, 4, 'T', "x")]);
        bad_name[16] = 0xff; // name offset far outside the strings
        let t = Table::parse(&bad_name).unwrap();
        assert!(t.lookup(0x1000).is_none());
        assert_eq!(t.iter().count(), 0);
        let empty = encode(vec![]);
        assert!(Table::parse(&empty).unwrap().is_empty());
    }
}
