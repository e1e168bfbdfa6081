//! The kernel's own symbol table, for `PC is at symbol+0xoff/0xsize`.
//!
//! Linux links vmlinux twice to embed `kallsyms`. Kobold reserves a fixed
//! `.kallsyms` section instead and `cargo xtask build` fills it after linking
//! (the section's size never changes, so no address moves). The format,
//! little-endian u32s:
//!
//! ```text
//! magic "KSYM" (0x4d59534b), count,
//! count × { addr, size, name_off }   sorted by addr
//! strings_len, strings               each "<type char><name>\0"
//! ```
//!
//! The type char is `nm`'s (t/T text, r/R rodata, d/D data, b/B bss). Parsing
//! trusts nothing: an unpatched or damaged table simply yields no symbols.

/// "KSYM", little-endian.
pub const MAGIC: u32 = 0x4d59_534b;

/// A symbol resolved from an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub name: &'a str,
    pub kind: char,
    pub addr: u32,
    pub size: u32,
    /// `addr_looked_up - addr`.
    pub offset: u32,
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
        let entries_len = count.checked_mul(12)?;
        let entries = bytes.get(8..8usize.checked_add(entries_len)?)?;
        let strings_at = 8 + entries_len;
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
        let at = i * 12;
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

/// Writes the symbol covering `addr`, from the kernel's `table` or else a
/// loaded module: `name+0xoff/0xsize` (Linux's `%pS`) or just `name` (`%ps`),
/// with ` [module]` after a module's. Returns whether a symbol covered it.
/// The module lock is only tried: an oops may hit while the loader holds it.
pub fn write_symbol_name(
    w: &mut dyn core::fmt::Write,
    table: Option<&Table<'_>>,
    addr: u32,
    with_offset: bool,
) -> Result<bool, core::fmt::Error> {
    if let Some(s) = table.and_then(|t| t.lookup(addr)) {
        w.write_str(s.name)?;
        if with_offset {
            write!(w, "+{:#x}/{:#x}", s.offset, s.size)?;
        }
        return Ok(true);
    }
    if let Some(mods) = crate::module::MODULES.try_lock()
        && let Some((m, name, off, size)) = mods.lookup(addr)
    {
        w.write_str(name)?;
        if with_offset {
            write!(w, "+{off:#x}/{size:#x}")?;
        }
        write!(w, " [{m}]")?;
        return Ok(true);
    }
    Ok(false)
}

/// Writes `addr` as Linux's `%pS`, or `0x%08x` when no symbol covers it.
pub fn write_symbol(
    w: &mut dyn core::fmt::Write,
    table: Option<&Table<'_>>,
    addr: u32,
) -> core::fmt::Result {
    if !write_symbol_name(w, table, addr, true)? {
        write!(w, "{addr:#010x}")?;
    }
    Ok(())
}

/// The table embedded in the running kernel.
#[cfg(target_arch = "arm")]
pub fn kernel_table() -> Option<Table<'static>> {
    unsafe extern "C" {
        static __kallsyms_start: u8;
        static __kallsyms_end: u8;
    }
    // SAFETY: the linker script defines both symbols around the `.kallsyms`
    // output section, which is part of the loaded, always-mapped kernel image
    // and never written at run time.
    let bytes = unsafe {
        let start = core::ptr::addr_of!(__kallsyms_start);
        let end = core::ptr::addr_of!(__kallsyms_end);
        core::slice::from_raw_parts(start, end as usize - start as usize)
    };
    Table::parse(bytes)
}

/// Bytes reserved for the table in the image (`cargo xtask build` fails,
/// naming this constant, if the table outgrows it).
pub const KALLSYMS_RESERVED: usize = 128 * 1024;

/// The reserved space itself: zeroes until `cargo xtask build` patches it.
#[cfg(target_arch = "arm")]
#[used]
#[unsafe(link_section = ".kallsyms")]
static KALLSYMS_SPACE: [u8; KALLSYMS_RESERVED] = [0; KALLSYMS_RESERVED];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a table the way `cargo xtask build` does.
    pub(crate) fn build(syms: &[(u32, u32, &str)]) -> Vec<u8> {
        let mut strings = Vec::new();
        let mut entries = Vec::new();
        for &(addr, size, name) in syms {
            entries.extend_from_slice(&addr.to_le_bytes());
            entries.extend_from_slice(&size.to_le_bytes());
            entries.extend_from_slice(&(strings.len() as u32).to_le_bytes());
            strings.extend_from_slice(name.as_bytes());
            strings.push(0);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.extend_from_slice(&(syms.len() as u32).to_le_bytes());
        out.extend_from_slice(&entries);
        out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        out.extend_from_slice(&strings);
        out
    }

    #[test]
    fn lookup_by_address() {
        let bytes = build(&[
            (0xc000_8000, 0x40, "T_start"),
            (0xc000_8100, 0x20, "tkernel::foo"),
            (0xc000_8100, 0x10, "talias"),
            (0xc000_9000, 0x8, "Rsome_table"),
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
        assert!(t.lookup(0xc000_7fff).is_none());
        assert_eq!(t.find("some_table").unwrap().addr, 0xc000_9000);

        let mut s = String::new();
        write_symbol(&mut s, Some(&t), 0xc000_8104).unwrap();
        assert_eq!(s, "kernel::foo+0x4/0x20");
        s.clear();
        write_symbol(&mut s, Some(&t), 0x1234).unwrap();
        assert_eq!(s, "0x00001234");
    }

    #[test]
    fn damaged_tables_yield_nothing() {
        assert!(Table::parse(&[0; 64]).is_none(), "unpatched section");
        let mut bytes = build(&[(0x1000, 4, "Tx")]);
        assert!(
            Table::parse(&bytes[..bytes.len() - 1]).is_none(),
            "truncated strings"
        );
        bytes[4] = 0xff; // huge count
        assert!(Table::parse(&bytes).is_none());
        let mut bad_name = build(&[(0x1000, 4, "Tx")]);
        let n = bad_name.len();
        bad_name[16] = 0xff; // name offset far outside the strings
        let t = Table::parse(&bad_name[..n]).unwrap();
        assert!(t.lookup(0x1000).is_none());
    }
}
