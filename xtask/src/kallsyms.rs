//! Fills the kernel's `.kallsyms` section with its own symbol table, and
//! writes the same table as Linux's `System.map`.
//!
//! Linux links vmlinux up to three times to embed kallsyms. Kobold's linker
//! script reserves a zero-filled `.kallsyms` section instead (as large as
//! `__kallsyms_reserved`, which `cargo xtask build` chooses: see
//! [`reservation`]), and this module overwrites it in the linked ELF: the
//! section keeps its size, so no address moves and the symbol table stays
//! true. The format, its encoder and the kernel's decoder are one definition
//! in the shared crate, [`kobold_common::kallsyms`].
//!
//! Symbols: functions, objects and untyped labels (linker-script and
//! assembler symbols) in `[_text, _end)`, but not ARM mapping symbols
//! (`$a`, `$d`, `$t`), sections or files. The type char is `nm`'s,
//! upper-case for global (and weak) symbols. A zero `st_size` becomes the
//! distance to the next symbol. At a shared address the kernel prefers the
//! *last* entry that covers the PC, so functions sort after objects, which
//! sort after untyped labels.
//!
//! Exported C functions are also listed under their Linux names (`kmalloc`,
//! `kfree`, `__aeabi_unwind_cpp_pr0`, ...), as Linux's System.map and
//! `/proc/kallsyms` list them: the export table in `kernel/src/module/`
//! maps each Linux name to a Rust function (often `kobold_<name>`, a local
//! symbol `kernel::module::exports::kobold_kmalloc`), and [`kernel_export_aliases`] reads
//! that table so the alias sits at the function's address. An alias sorts
//! before the function, so an oops still names the Rust function.

use anyhow::{Context, Result, bail};
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};

use kobold_common::kallsyms::{self as format, Table};
pub use kobold_common::kallsyms::{MAGIC, SECTION};

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

/// Order at one address (the kernel takes the last covering entry).
const RANK_LABEL: u8 = 0;
const RANK_OBJECT: u8 = 1;
const RANK_ALIAS: u8 = 2;
const RANK_FUNC: u8 = 3;

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
                elf::STT_NOTYPE if !s.name.is_empty() && !is_mapping_symbol(&s.name) => RANK_LABEL,
                elf::STT_OBJECT => RANK_OBJECT,
                elf::STT_FUNC => RANK_FUNC,
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

/// The symbols as the shared format sees them.
fn entries(symbols: &[Symbol]) -> impl Iterator<Item = format::Symbol<'_>> + Clone {
    symbols.iter().map(|s| format::Symbol {
        name: &s.name,
        kind: s.kind,
        addr: s.addr,
        size: s.size,
        offset: 0,
    })
}

/// The section's bytes for `symbols` (the shared format's encoder).
pub fn encode(symbols: &[Symbol]) -> Vec<u8> {
    format::encode(entries(symbols))
}

/// Adds each `(linux_name, target)` of the export table as a symbol named
/// `linux_name` at `target`'s address, unless a symbol of that name is
/// already there (`printk`, `memcpy`: exported under their own names).
/// `target` is a Rust path's last segment or an exported symbol's name; it
/// is looked up among global symbols first, then among the functions of a
/// module called `exports`. Returns the names that matched no symbol.
pub fn add_aliases(symbols: &mut Vec<Symbol>, aliases: &[(String, String)]) -> Vec<String> {
    let mut missing = Vec::new();
    let mut new = Vec::new();
    for (name, target) in aliases {
        if symbols
            .iter()
            .any(|s| s.rank != RANK_LABEL && s.name == *name)
        {
            continue;
        }
        let suffix = format!("::{target}");
        let found = symbols
            .iter()
            .filter(|s| s.rank != RANK_LABEL)
            .find(|s| s.name == *target)
            .or_else(|| {
                symbols.iter().find(|s| {
                    s.rank == RANK_FUNC && s.name.ends_with(&suffix) && s.name.contains("exports::")
                })
            });
        let Some(t) = found else {
            missing.push(name.clone());
            continue;
        };
        new.push(Symbol {
            addr: t.addr,
            size: t.size,
            kind: t.kind.to_ascii_uppercase(),
            name: name.clone(),
            rank: RANK_ALIAS.min(t.rank),
        });
    }
    symbols.extend(new);
    symbols.sort_by(|a, b| (a.addr, a.rank, &a.name).cmp(&(b.addr, b.rank, &b.name)));
    symbols.dedup_by(|later, first| later.addr == first.addr && later.name == first.name);
    missing
}

/// The export table's `(linux_name, target)` pairs, read from the kernel's
/// source: every line of the form `fn "kmalloc" => kobold_kmalloc,` (kinds
/// `fn`, `gpl`, `data`; a `&raw const x` target is `x`).
pub fn export_aliases(source: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(
        r#"^\s*(?:fn|gpl|data)\s+"([A-Za-z0-9_.$]+)"\s*=>\s*(?:&raw\s+const\s+)?([A-Za-z0-9_]+)\s*,?\s*$"#,
    )
    .expect("a valid regex");
    source
        .lines()
        .filter_map(|l| re.captures(l))
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

/// The export aliases of the kernel tree at `root` (every `.rs` file under
/// `kernel/src/module/`, so the table may move between files).
pub fn kernel_export_aliases(root: &std::path::Path) -> Result<Vec<(String, String)>> {
    let dir = root.join("kernel/src/module");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        out.extend(export_aliases(&text));
    }
    Ok(out)
}

/// Linux's System.map: `%08x %c %s` per symbol, sorted by address.
pub fn system_map(symbols: &[Symbol]) -> String {
    let mut out = String::new();
    for s in symbols {
        out.push_str(&format!("{:08x} {} {}\n", s.addr, s.kind, s.name));
    }
    out
}

/// How many bytes to reserve for a table of `needed` bytes: rounded up to
/// 64 KiB with an eighth to spare, so that small code changes do not make
/// every build link twice.
pub fn reservation(needed: usize) -> usize {
    (needed + needed / 8).next_multiple_of(64 * 1024)
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

/// The table for the ELF in `data`: its symbols (with the export
/// `aliases`) in address order.
pub fn table(data: &[u8], aliases: &[(String, String)]) -> Result<Vec<Symbol>> {
    let raw = read_symbols(data)?;
    let bound = |name: &str| {
        symbol_value(&raw, name).with_context(|| {
            format!("the kernel ELF has no `{name}` symbol: define it in linker.ld")
        })
    };
    let (text, end) = (bound("_text")?, bound("_end")?);
    let mut symbols = select(&raw, text, end);
    let missing = add_aliases(&mut symbols, aliases);
    if !missing.is_empty() {
        bail!(
            "exported symbols without a function in the kernel ELF: {}",
            missing.join(", ")
        );
    }
    Ok(symbols)
}

/// The `.kallsyms` section of the ELF in `data`.
fn section(data: &[u8]) -> Result<SectionPlace> {
    find_section(data, SECTION)?.with_context(|| {
        format!(
            "the kernel ELF has no {SECTION} section: the kernel must reserve it \
             (kernel/src/kallsyms/kernel.rs, KEEP(*(.kallsyms)) in linker.ld)"
        )
    })
}

/// The bytes the table for `symbols` needs, and the bytes the ELF's
/// `.kallsyms` section holds.
pub fn fit(data: &[u8], symbols: &[Symbol]) -> Result<(usize, usize)> {
    Ok((format::encoded_len(entries(symbols)), section(data)?.size))
}

/// Writes the table of `symbols` into the ELF's `.kallsyms` section,
/// zero-filling the rest.
pub fn patch(data: &mut [u8], symbols: &[Symbol]) -> Result<Patched> {
    let table = encode(symbols);
    let place = section(data)?;
    if table.len() > place.size {
        bail!(
            "the kallsyms table needs {} bytes but the {SECTION} section holds only {} bytes: \
             link with KOBOLD_KALLSYMS_RESERVED={} (cargo xtask build does)",
            table.len(),
            place.size,
            reservation(table.len())
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

/// Decodes a table with the kernel's decoder (for checks and tests):
/// `(addr, size, "<kind><name>")`.
pub fn decode(bytes: &[u8]) -> Option<Vec<(u32, u32, String)>> {
    let table = Table::parse(bytes)?;
    let out: Vec<_> = table
        .iter()
        .map(|s| (s.addr, s.size, format!("{}{}", s.kind, s.name)))
        .collect();
    (out.len() == table.len()).then_some(out)
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
        let symbols = table(&elf, &[]).unwrap();
        assert_eq!(
            fit(&elf, &symbols).unwrap(),
            (encode(&symbols).len(), 0x400)
        );
        let patched = patch(&mut elf, &symbols).unwrap();
        assert_eq!(elf.len(), before);
        assert_eq!(patched.reserved, 0x400);
        let place = find_section(&elf, SECTION).unwrap().unwrap();
        let decoded = decode(&elf[place.offset..place.offset + place.size]).unwrap();
        let names: Vec<&str> = decoded.iter().map(|(_, _, n)| n.as_str()).collect();
        assert!(names.contains(&"T_text"), "{names:?}");
        assert!(names.contains(&"Tkernel::start"), "{names:?}");
        assert!(names.contains(&"dlocal_data"), "{names:?}");
        assert!(
            !names.iter().any(|n| n.contains("swapper")),
            "below _text: {names:?}"
        );
        assert_eq!(patched.symbols, decoded.len());

        // A section too small for the table is an error naming both sizes.
        let mut small = crate::image::tests::fixture_elf(16);
        let symbols = table(&small, &[]).unwrap();
        let err = format!("{:#}", patch(&mut small, &symbols).unwrap_err());
        assert!(
            err.contains("holds only 16 bytes") && err.contains("KOBOLD_KALLSYMS_RESERVED"),
            "{err}"
        );
    }

    #[test]
    fn the_kernels_decoder_reads_what_xtask_encodes() {
        // Through the shared crate's `Table`, the very code the kernel runs.
        let syms = select(
            &[
                raw("_start", 0xc000_8000, 0x40, elf::STT_FUNC, true, 't'),
                raw(
                    "_ZN6kernel6module7exports14kobold_kmalloc17h0123456789abcdefE",
                    0xc000_9000,
                    0x30,
                    elf::STT_FUNC,
                    false,
                    't',
                ),
                raw("jiffies", 0xc002_0000, 4, elf::STT_OBJECT, true, 'd'),
                raw("_end", 0xc003_0000, 0, elf::STT_NOTYPE, true, 'b'),
            ],
            0xc000_8000,
            0xc003_0000,
        );
        let bytes = encode(&syms);
        let t = Table::parse(&bytes).expect("the kernel parses xtask's table");
        assert_eq!(t.len(), syms.len());
        for (i, s) in syms.iter().enumerate() {
            let k = t.get(i).unwrap();
            assert_eq!(
                (k.addr, k.size, k.kind, k.name),
                (s.addr, s.size, s.kind, s.name.as_str())
            );
        }
        let hit = t.lookup(0xc000_9004).unwrap();
        assert_eq!(
            (hit.name, hit.offset),
            ("kernel::module::exports::kobold_kmalloc", 4)
        );
        assert_eq!(t.lookup(0xc000_8010).unwrap().name, "_start");
        assert_eq!(t.find("jiffies").unwrap().addr, 0xc002_0000);
        assert_eq!(format::encoded_len(entries(&syms)), bytes.len());
    }

    #[test]
    fn exports_are_aliased_under_their_linux_names() {
        let mut syms = select(
            &[
                raw("printk", 0xc000_8000, 0x20, elf::STT_FUNC, true, 't'),
                raw(
                    "_ZN6kernel6module7exports14kobold_kmalloc17h0123456789abcdefE",
                    0xc000_9000,
                    0x30,
                    elf::STT_FUNC,
                    false,
                    't',
                ),
                raw("strnlen", 0xc000_a000, 0x10, elf::STT_FUNC, true, 't'),
                raw("param_ops_int", 0xc001_0000, 4, elf::STT_OBJECT, true, 'r'),
            ],
            0xc000_8000,
            0xc003_0000,
        );
        let source = r#"
            fn "printk" => printk,
            fn "kmalloc" => kobold_kmalloc,
            fn "__kmalloc" => kobold_kmalloc,
            fn "strnlen" => kobold_strnlen,
            data "param_ops_int" => &raw const param_ops_int,
            gpl "kallsyms_lookup_name" => kobold_kallsyms_lookup_name,
            not "a table line" => x,
        "#;
        let aliases = export_aliases(source);
        assert_eq!(aliases.len(), 6, "{aliases:?}");
        assert_eq!(aliases[4], ("param_ops_int".into(), "param_ops_int".into()));
        let missing = add_aliases(&mut syms, &aliases);
        assert_eq!(missing, ["kallsyms_lookup_name"]);
        let map = system_map(&syms);
        assert_eq!(
            map,
            "c0008000 T printk\n\
             c0009000 T __kmalloc\n\
             c0009000 T kmalloc\n\
             c0009000 t kernel::module::exports::kobold_kmalloc\n\
             c000a000 T strnlen\n\
             c0010000 R param_ops_int\n"
        );
        // The kernel still names the Rust function in an oops (it takes the
        // last entry at an address), and finds the Linux name by name.
        let bytes = encode(&syms);
        let t = Table::parse(&bytes).unwrap();
        assert_eq!(
            t.lookup(0xc000_9000).unwrap().name,
            "kernel::module::exports::kobold_kmalloc"
        );
        assert_eq!(t.find("kmalloc").unwrap().addr, 0xc000_9000);
    }

    #[test]
    fn the_kernels_export_table_is_read() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let aliases = kernel_export_aliases(&root).unwrap();
        let names: Vec<&str> = aliases.iter().map(|(n, _)| n.as_str()).collect();
        for name in [
            "printk",
            "kmalloc",
            "__kmalloc",
            "kfree",
            "vmalloc",
            "__aeabi_unwind_cpp_pr0",
            "param_ops_int",
            "kallsyms_lookup_name",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
    }

    #[test]
    fn reservations_fit_with_room() {
        for needed in [1, 65_536, 131_072, 389_521] {
            let r = reservation(needed);
            assert!(
                r >= needed + needed / 8 && r.is_multiple_of(65_536),
                "{needed} -> {r}"
            );
        }
        assert_eq!(reservation(389_521), 458_752);
    }
}
