//! Fills the kernel's `.kallsyms` section with its own symbol table.
//!
//! Linux links vmlinux up to three times to embed kallsyms. Kobold's kernel
//! reserves a fixed-size, zero-filled `.kallsyms` section instead, and this
//! module overwrites it in the linked ELF: the section keeps its size, so no
//! address moves and the symbol table stays true. The kernel's reader is
//! `kernel/src/kallsyms.rs`; the format (little-endian u32s) is
//!
//! ```text
//! magic "KSYM" (0x4d59534b), count,
//! count × { addr, size, name_off }   sorted by addr, name_off relative to strings
//! strings_len, strings               each "<type char><demangled name>\0"
//! ```
//!
//! Symbols: functions, objects and untyped labels (linker-script and
//! assembler symbols) in `[_text, _end)`, but not ARM mapping symbols
//! (`$a`, `$d`, `$t`), sections or files. The type char is `nm`'s,
//! upper-case for global (and weak) symbols. A zero `st_size` becomes the
//! distance to the next symbol. At a shared address the kernel prefers the
//! *last* entry that covers the PC, so functions sort after objects, which
//! sort after untyped labels.

use anyhow::{Context, Result, bail};
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};

/// "KSYM", little-endian.
pub const MAGIC: u32 = 0x4d59_534b;
/// The section the kernel reserves.
pub const SECTION: &str = ".kallsyms";

type Header = elf::FileHeader32<object::Endianness>;

/// A symbol as read from the ELF, before selection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSymbol {
    /// The mangled name.
    pub name: String,
    pub value: u32,
    pub size: u32,
    /// `STT_*`.
    pub st_type: elf::SymbolType,
    /// Global or weak binding.
    pub global: bool,
    /// `nm`'s lower-case type char of the symbol's section.
    pub kind: char,
}

/// One entry of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub addr: u32,
    pub size: u32,
    /// The type char, upper-case for global symbols.
    pub kind: char,
    /// Demangled, without the hash.
    pub name: String,
    /// Order among symbols at one address: the kernel takes the last.
    rank: u8,
}

/// What [`patch`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Patched {
    pub symbols: usize,
    pub bytes: usize,
    pub reserved: usize,
}

/// ARM ELF mapping symbols (`$a`, `$d`, `$t`, optionally `.suffix`) mark
/// code/data transitions and name nothing.
fn is_mapping_symbol(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0] == b'$'
        && matches!(b[1], b'a' | b'd' | b't')
        && (b.len() == 2 || b[2] == b'.')
}

/// Picks, demangles, dedupes, sorts and sizes the table's symbols. `text`
/// and `end` are `_text` and `_end`.
pub fn select(raw: &[RawSymbol], text: u32, end: u32) -> Vec<Symbol> {
    let mut out: Vec<Symbol> = raw
        .iter()
        .filter_map(|s| {
            let rank = match s.st_type {
                elf::STT_NOTYPE if !s.name.is_empty() && !is_mapping_symbol(&s.name) => 0,
                elf::STT_OBJECT => 1,
                elf::STT_FUNC => 2,
                _ => return None,
            };
            // Bit 0 of a function's value is the Thumb bit, not address.
            let addr = if s.st_type == elf::STT_FUNC {
                s.value & !1
            } else {
                s.value
            };
            if addr < text || addr >= end || s.name.is_empty() {
                return None;
            }
            let kind = if s.global {
                s.kind.to_ascii_uppercase()
            } else {
                s.kind
            };
            let name = format!("{:#}", rustc_demangle::demangle(&s.name));
            Some(Symbol {
                addr,
                size: s.size,
                kind,
                name,
                rank,
            })
        })
        .collect();
    // Same address and name: keep the most specific, then the largest.
    out.sort_by(|a, b| (a.addr, &a.name, b.rank, b.size).cmp(&(b.addr, &b.name, a.rank, a.size)));
    out.dedup_by(|later, first| later.addr == first.addr && later.name == first.name);
    out.sort_by(|a, b| (a.addr, a.rank, &a.name).cmp(&(b.addr, b.rank, &b.name)));
    for i in 0..out.len() {
        if out[i].size == 0 {
            let addr = out[i].addr;
            let next = out[i + 1..]
                .iter()
                .map(|s| s.addr)
                .find(|&a| a > addr)
                .unwrap_or(end);
            out[i].size = next - addr;
        }
    }
    out
}

/// The section's bytes for `symbols` (see the module doc).
pub fn encode(symbols: &[Symbol]) -> Vec<u8> {
    let mut strings = Vec::new();
    let mut entries = Vec::with_capacity(symbols.len() * 12);
    for s in symbols {
        entries.extend_from_slice(&s.addr.to_le_bytes());
        entries.extend_from_slice(&s.size.to_le_bytes());
        entries.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        let mut buf = [0; 4];
        strings.extend_from_slice(s.kind.encode_utf8(&mut buf).as_bytes());
        strings.extend_from_slice(s.name.as_bytes());
        strings.push(0);
    }
    let mut out = Vec::with_capacity(12 + entries.len() + strings.len());
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&(symbols.len() as u32).to_le_bytes());
    out.extend_from_slice(&entries);
    out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    out.extend_from_slice(&strings);
    out
}

/// Where a section lives in the file and in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionPlace {
    pub offset: usize,
    pub size: usize,
    pub addr: u32,
}

/// Finds the section called `name`, checking it lies inside the file.
pub fn find_section(data: &[u8], name: &str) -> Result<Option<SectionPlace>> {
    let header = Header::parse(data).context("parsing the ELF header")?;
    let endian = header.endian().context("reading the ELF byte order")?;
    let sections = header
        .sections(endian, data)
        .context("reading the ELF section headers")?;
    let Some((_, sh)) = sections.section_by_name(endian, name.as_bytes()) else {
        return Ok(None);
    };
    let offset = sh.sh_offset(endian) as usize;
    let size = sh.sh_size(endian) as usize;
    if sh.sh_type(endian) == elf::SHT_NOBITS
        || offset.checked_add(size).is_none_or(|e| e > data.len())
    {
        bail!("section {name} has no contents in the file (NOBITS or out of bounds)");
    }
    Ok(Some(SectionPlace {
        offset,
        size,
        addr: sh.sh_addr(endian),
    }))
}

/// Reads every symbol of the ELF's `.symtab`.
pub fn read_symbols(data: &[u8]) -> Result<Vec<RawSymbol>> {
    let header = Header::parse(data).context("parsing the ELF header")?;
    let endian = header.endian().context("reading the ELF byte order")?;
    let sections = header
        .sections(endian, data)
        .context("reading the ELF section headers")?;
    let symtab = sections
        .symbols(endian, data, elf::SHT_SYMTAB)
        .context("reading the ELF symbol table")?;
    if symtab.is_empty() {
        bail!("the kernel ELF has no symbol table: do not strip it");
    }
    let kind_of_section = |index: usize| -> char {
        let Ok(sh) = sections.section(object::SectionIndex(index)) else {
            return '?';
        };
        let flags = sh.sh_flags(endian);
        if flags.contains(elf::SHF_EXECINSTR) {
            't'
        } else if sh.sh_type(endian) == elf::SHT_NOBITS {
            'b'
        } else if flags.contains(elf::SHF_WRITE) {
            'd'
        } else if flags.contains(elf::SHF_ALLOC) {
            'r'
        } else {
            'n'
        }
    };
    // Absolute symbols take the type of the allocated section they point into.
    let kind_of_addr = |addr: u32| -> char {
        sections
            .iter()
            .enumerate()
            .find(|(_, sh)| {
                let start = sh.sh_addr(endian);
                sh.sh_flags(endian).contains(elf::SHF_ALLOC)
                    && addr >= start
                    && addr - start < sh.sh_size(endian)
            })
            .map_or('a', |(i, _)| kind_of_section(i))
    };
    let mut out = Vec::with_capacity(symtab.len());
    for sym in symtab.iter() {
        let name = sym
            .name(endian, symtab.strings())
            .context("reading a symbol name")?;
        let value = sym.st_value(endian);
        let kind = match sym.st_shndx(endian) {
            elf::SHN_UNDEF => continue,
            elf::SHN_ABS => kind_of_addr(value),
            shndx => shndx.index().map_or('a', |i| kind_of_section(i.into())),
        };
        out.push(RawSymbol {
            name: String::from_utf8_lossy(name).into_owned(),
            value,
            size: sym.st_size(endian),
            st_type: sym.st_type(),
            global: matches!(sym.st_bind(), elf::STB_GLOBAL | elf::STB_WEAK),
            kind,
        });
    }
    Ok(out)
}

/// The value of the symbol called `name`.
pub fn symbol_value(symbols: &[RawSymbol], name: &str) -> Option<u32> {
    symbols.iter().find(|s| s.name == name).map(|s| s.value)
}

/// Builds the table for the ELF in `data` and writes it into its
/// `.kallsyms` section, zero-filling the rest.
pub fn patch(data: &mut [u8]) -> Result<Patched> {
    let raw = read_symbols(data)?;
    let bound = |name: &str| {
        symbol_value(&raw, name).with_context(|| {
            format!("the kernel ELF has no `{name}` symbol: define it in linker.ld")
        })
    };
    let (text, end) = (bound("_text")?, bound("_end")?);
    let symbols = select(&raw, text, end);
    let table = encode(&symbols);
    let place = find_section(data, SECTION)?.with_context(|| {
        format!(
            "the kernel ELF has no {SECTION} section: the kernel must reserve it \
             (kernel/src/kallsyms.rs, KEEP(*(.kallsyms)) in linker.ld)"
        )
    })?;
    if table.len() > place.size {
        bail!(
            "the kallsyms table needs {} bytes but the {SECTION} section holds only {} bytes: \
             raise KALLSYMS_RESERVED in kernel/src/kallsyms.rs",
            table.len(),
            place.size
        );
    }
    let area = &mut data[place.offset..place.offset + place.size];
    area[..table.len()].copy_from_slice(&table);
    area[table.len()..].fill(0);
    Ok(Patched {
        symbols: symbols.len(),
        bytes: table.len(),
        reserved: place.size,
    })
}

/// Decodes a table (for checks and tests): `(addr, size, "<kind><name>")`.
pub fn decode(bytes: &[u8]) -> Option<Vec<(u32, u32, String)>> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(
            bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
        ))
    };
    if word(0)? != MAGIC {
        return None;
    }
    let count = word(4)? as usize;
    let strings_at = 8 + count.checked_mul(12)?;
    let strings_len = word(strings_at)? as usize;
    let strings = bytes.get(strings_at + 4..(strings_at + 4).checked_add(strings_len)?)?;
    (0..count)
        .map(|i| {
            let (addr, size, off) = (word(8 + 12 * i)?, word(12 + 12 * i)?, word(16 + 12 * i)?);
            let rest = strings.get(off as usize..)?;
            let name = &rest[..rest.iter().position(|&b| b == 0)?];
            Some((addr, size, String::from_utf8(name.to_vec()).ok()?))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn raw(
        name: &str,
        value: u32,
        size: u32,
        st_type: elf::SymbolType,
        global: bool,
        kind: char,
    ) -> RawSymbol {
        RawSymbol {
            name: name.into(),
            value,
            size,
            st_type,
            global,
            kind,
        }
    }

    #[test]
    fn selects_demangles_sorts_and_sizes() {
        let syms = [
            raw("_text", 0xc000_8000, 0, elf::STT_NOTYPE, true, 't'),
            raw("$a", 0xc000_8000, 0, elf::STT_NOTYPE, false, 't'),
            raw("$d.12", 0xc000_8040, 0, elf::STT_NOTYPE, false, 't'),
            raw("_start", 0xc000_8000, 0x40, elf::STT_FUNC, true, 't'),
            // A Thumb function: bit 0 set.
            raw(
                "_ZN6kernel5shell3run17h0123456789abcdefE",
                0xc000_8101,
                0x20,
                elf::STT_FUNC,
                false,
                't',
            ),
            raw("TABLE", 0xc001_0000, 0, elf::STT_OBJECT, true, 'r'),
            raw("counter", 0xc002_0000, 4, elf::STT_OBJECT, false, 'd'),
            raw("counter", 0xc002_0000, 4, elf::STT_OBJECT, false, 'd'),
            raw("kobold.c", 0, 0, elf::STT_FILE, false, 'a'),
            raw(".text", 0xc000_8000, 0, elf::STT_SECTION, false, 't'),
            raw("swapper_pg_dir", 0xc000_4000, 0, elf::STT_NOTYPE, true, 'a'),
            raw("__bss_start", 0xc003_0000, 0, elf::STT_NOTYPE, true, 'b'),
            raw("_end", 0xc003_1000, 0, elf::STT_NOTYPE, true, 'b'),
        ];
        let table = select(&syms, 0xc000_8000, 0xc003_1000);
        let got: Vec<(u32, u32, char, &str)> = table
            .iter()
            .map(|s| (s.addr, s.size, s.kind, s.name.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                // The label sorts first, the function last: the kernel prefers it.
                (0xc000_8000, 0x100, 'T', "_text"),
                (0xc000_8000, 0x40, 'T', "_start"),
                (0xc000_8100, 0x20, 't', "kernel::shell::run"),
                (0xc001_0000, 0x1_0000, 'R', "TABLE"),
                (0xc002_0000, 4, 'd', "counter"),
                (0xc003_0000, 0x1000, 'B', "__bss_start"),
            ]
        );
    }

    #[test]
    fn encodes_the_kernels_format() {
        let syms = select(
            &[
                raw("a", 0x1000, 8, elf::STT_FUNC, true, 't'),
                raw("bb", 0x1008, 4, elf::STT_OBJECT, false, 'r'),
            ],
            0x1000,
            0x2000,
        );
        let bytes = encode(&syms);
        let words: Vec<u32> = bytes[..36]
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(words, [MAGIC, 2, 0x1000, 8, 0, 0x1008, 4, 3, 7]);
        assert_eq!(&bytes[36..], b"Ta\0rbb\0");
        assert_eq!(
            decode(&bytes).unwrap(),
            [
                (0x1000, 8, "Ta".to_string()),
                (0x1008, 4, "rbb".to_string())
            ]
        );
        assert!(decode(&[0; 64]).is_none());
    }

    #[test]
    fn mapping_symbols() {
        for name in ["$a", "$d", "$t", "$d.1", "$a.foo"] {
            assert!(is_mapping_symbol(name), "{name}");
        }
        for name in ["$", "$x1", "$data", "a$", "dollar"] {
            assert!(!is_mapping_symbol(name), "{name}");
        }
    }

    #[test]
    fn patches_an_elf_in_place() {
        let mut elf = crate::image::tests::fixture_elf(0x400);
        let before = elf.len();
        let patched = patch(&mut elf).unwrap();
        assert_eq!(elf.len(), before);
        assert_eq!(patched.reserved, 0x400);
        let place = find_section(&elf, SECTION).unwrap().unwrap();
        let table = decode(&elf[place.offset..place.offset + place.size]).unwrap();
        let names: Vec<&str> = table.iter().map(|(_, _, n)| n.as_str()).collect();
        assert!(names.contains(&"T_text"), "{names:?}");
        assert!(names.contains(&"Tkernel::start"), "{names:?}");
        assert!(names.contains(&"dlocal_data"), "{names:?}");
        assert!(
            !names.iter().any(|n| n.contains("swapper")),
            "below _text: {names:?}"
        );
        assert_eq!(patched.symbols, table.len());

        // A section too small for the table is an error naming both sizes.
        let mut small = crate::image::tests::fixture_elf(16);
        let err = format!("{:#}", patch(&mut small).unwrap_err());
        assert!(
            err.contains("holds only 16 bytes") && err.contains("KALLSYMS_RESERVED"),
            "{err}"
        );
    }
}
