//! Which of a module's symbols `/proc/kallsyms` lists, and under which
//! `nm` letter: Linux's `add_kallsyms` / `is_core_symbol` and the
//! `elf_type` letters of `kernel/module.c`.
//!
//! Linux keeps, for a loaded module, every symbol in a loaded section,
//! except the ones that name nothing a reader looks for: section and file
//! symbols (`STT_SECTION`, `STT_FILE`), the ARM mapping symbols `$a`, `$t`,
//! `$d` (which mark code and data inside a section) and the assembler's
//! local labels (`.L...`). Each listed symbol gets the letter of its group:
//! `t` text, `r` rodata (ro-after-init included), `d` data, `b` bss
//! (`SHT_NOBITS`); upper case when it is not `STB_LOCAL`.
//!
//! The kernel stores the result ([`Listed`]: an address, a letter, and the
//! name as an offset into its one copy of the file's symbol string table,
//! [`Module::symbol_strtab`]), so listing many symbols costs no name copies.

use crate::elf::{Module, Symbol};
use crate::layout::{Group, ModuleLayout, Placement, Region};
use crate::try_vec;
use alloc::vec::Vec;

/// A symbol kallsyms lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Its address in the loaded module (the Thumb bit cleared).
    pub addr: u32,
    pub size: u32,
    /// `nm`'s letter: t/T, r/R, d/D, b/B.
    pub kind: char,
    /// Its name: `name_len` bytes at `name_at` of the symbol string table.
    pub name_at: u32,
    pub name_len: u32,
    /// Its index in the file's symbol table (orders aliases).
    pub index: u32,
    /// In the init region (dropped once init is freed).
    pub init: bool,
}

impl Listed {
    /// The symbol's name in `strtab` (the module's symbol string table, or
    /// a copy of it); empty if it is not there.
    pub fn name<'t>(&self, strtab: &'t [u8]) -> &'t str {
        let at = self.name_at as usize;
        at.checked_add(self.name_len as usize)
            .and_then(|end| strtab.get(at..end))
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// The listing could not be allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoMemory;

/// Whether kallsyms lists `s`, and where it was placed if so.
fn listed(s: &Symbol<'_>, l: &ModuleLayout, strtab: &[u8]) -> Option<Placement> {
    let p = l.placements.get(s.shndx as usize).copied().flatten()?;
    let table = strtab.as_ptr() as usize..strtab.as_ptr() as usize + strtab.len();
    let skip = s.name.is_empty()
        || s.name.starts_with('$')
        || crate::name_starts(s.name, ".L")
        || s.is_section_or_file()
        // The validator took every name from the string table.
        || !table.contains(&(s.name.as_ptr() as usize));
    (!skip).then_some(p)
}

/// How many symbols (the first of the table) [`listed_symbols`] marks in
/// its count pass, 32 bytes of stack.
const MARKED: usize = 256;

/// `nm`'s letter for a symbol placed in `group`.
fn letter(group: Group, nobits: bool, local: bool) -> char {
    let kind = match group {
        Group::Text => 't',
        Group::Rodata | Group::RoAfterInit => 'r',
        Group::Data if nobits => 'b',
        Group::Data => 'd',
    };
    if local {
        kind
    } else {
        kind.to_ascii_uppercase()
    }
}

/// The symbols of `m` (laid out as `l`, linked to `addrs`, as
/// [`link`](crate::link::link) resolved them) that kallsyms lists, sorted
/// by address, aliases in symbol-table order. Names are offsets into
/// [`Module::symbol_strtab`]. The vector is reserved for exactly the symbols
/// kept (a file of 150,000 COMMON symbols keeps none of them), fallibly; it
/// is sorted in place (`sort_unstable` with the index as tie-breaker: a
/// stable sort would allocate a buffer, infallibly).
pub fn listed_symbols(
    m: &Module<'_>,
    l: &ModuleLayout,
    addrs: &[u32],
) -> Result<Vec<Listed>, NoMemory> {
    let strtab = m.symbol_strtab();
    // The count pass remembers which of the first `MARKED` symbols it kept
    // (a bitmap on the stack), so the fill pass looks at their names again
    // only past that bound: the vector is still reserved for exactly the
    // symbols kept.
    let mut marked = [0u32; MARKED / 32];
    let mut count = 0usize;
    for (i, s) in m.symbols.iter().enumerate() {
        if listed(s, l, strtab).is_some() {
            if let Some(w) = marked.get_mut(i / 32) {
                *w |= 1 << (i % 32);
            }
            count += 1;
        }
    }
    let mut symbols = try_vec(count).ok_or(NoMemory)?;
    for (i, s) in m.symbols.iter().enumerate() {
        let p = match marked.get(i / 32) {
            Some(w) if w & (1 << (i % 32)) == 0 => continue,
            Some(_) => l.placements.get(s.shndx as usize).copied().flatten(),
            None => listed(s, l, strtab),
        };
        let Some(p) = p else {
            continue;
        };
        if symbols.len() == symbols.capacity() {
            break;
        }
        symbols.push(Listed {
            addr: addrs.get(i).copied().unwrap_or(0) & !1,
            size: s.size,
            kind: letter(p.group, m.is_nobits(s.shndx), s.is_local()),
            name_at: (s.name.as_ptr() as usize - strtab.as_ptr() as usize) as u32,
            name_len: s.name.len() as u32,
            index: i as u32,
            init: p.region == Region::Init,
        });
    }
    // (addr, index) as one `u64` (the same order: `index` fills the low
    // word), compared in two registers rather than field by field.
    symbols.sort_unstable_by_key(|s| (u64::from(s.addr) << 32) | u64::from(s.index));
    Ok(symbols)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use object::write::{Object, StandardSection, Symbol as WSymbol, SymbolSection};
    use object::{
        Architecture, BinaryFormat, Endianness, SectionKind, SymbolFlags, SymbolKind, SymbolScope,
    };
    use std::string::String;
    use std::vec;
    use std::vec::Vec as StdVec;

    /// A module with a symbol of every kind kallsyms cares about.
    fn module() -> StdVec<u8> {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.section_id(StandardSection::Text);
        o.append_section_data(text, &[0; 16], 4);
        let init = o.add_section(vec![], b".init.text".to_vec(), SectionKind::Text);
        o.append_section_data(init, &[0; 8], 4);
        let rodata = o.section_id(StandardSection::ReadOnlyData);
        o.append_section_data(rodata, &[0; 8], 4);
        let data = o.section_id(StandardSection::Data);
        o.append_section_data(data, &[0; 8], 4);
        let bss = o.section_id(StandardSection::UninitializedData);
        o.append_section_bss(bss, 8, 4);
        let mut sym = |name: &str, value, section, kind, global| {
            o.add_symbol(WSymbol {
                name: name.as_bytes().to_vec(),
                value,
                size: 4,
                kind,
                scope: if global {
                    SymbolScope::Dynamic
                } else {
                    SymbolScope::Compilation
                },
                weak: false,
                section: SymbolSection::Section(section),
                flags: SymbolFlags::None,
            });
        };
        // Two aliases at .text+4: the local first in the table.
        sym("helper", 4, text, SymbolKind::Text, false);
        sym("exported", 4, text, SymbolKind::Text, true);
        sym("start", 0, text, SymbolKind::Text, false);
        sym("$a", 0, text, SymbolKind::Label, false);
        sym(".LC0", 8, text, SymbolKind::Label, false);
        sym("my_init", 0, init, SymbolKind::Text, false);
        sym("table", 0, rodata, SymbolKind::Data, true);
        sym("counter", 0, data, SymbolKind::Data, false);
        sym("zeros", 0, bss, SymbolKind::Data, true);
        o.add_file_symbol(b"mod.c".to_vec());
        o.section_symbol(data);
        o.write().unwrap()
    }

    /// The one-`u64` sort key orders as the (addr, index) pair, with
    /// addresses and indexes at both ends of their range.
    #[test]
    fn sort_key_is_the_pair() {
        let vals = [0u32, 1, 2, 0x7fff_ffff, 0x8000_0000, u32::MAX - 1, u32::MAX];
        let mut pairs = StdVec::new();
        for &a in &vals {
            for &i in vals.iter().rev() {
                pairs.push((a, i));
            }
        }
        for x in &pairs {
            for y in &pairs {
                let key = |(a, i): (u32, u32)| (u64::from(a) << 32) | u64::from(i);
                assert_eq!(key(*x).cmp(&key(*y)), x.cmp(y), "{x:?} {y:?}");
            }
        }
    }

    /// Lays `m` out, links it at 0xbf000000 and lists its symbols: the
    /// layout, the symbols' addresses and the list.
    fn layout_and_list(m: &crate::Module<'_>) -> (ModuleLayout, Vec<u32>, Vec<Listed>) {
        let l = crate::layout::layout(m).unwrap();
        let (_, _, linked) = crate::elf::tests_support::link_vec(
            m,
            &l,
            0xbf00_0000,
            0xbf10_0000,
            &crate::elf::tests_support::NoResolver,
        )
        .unwrap();
        let listed = listed_symbols(m, &l, &linked.symbol_addrs).unwrap();
        (l, linked.symbol_addrs.to_vec(), listed)
    }

    #[test]
    fn lists_named_symbols_with_nm_letters_by_address() {
        let bytes = module();
        let m = crate::validate(&bytes).unwrap();
        let (_, _, listed) = layout_and_list(&m);
        let strtab = m.symbol_strtab();
        let got: StdVec<(char, String, bool)> = listed
            .iter()
            .map(|s| (s.kind, s.name(strtab).into(), s.init))
            .collect();
        let want: StdVec<(char, String, bool)> = [
            ('t', "start", false),
            ('t', "helper", false),
            ('T', "exported", false),
            ('R', "table", false),
            ('d', "counter", false),
            ('B', "zeros", false),
            ('t', "my_init", true),
        ]
        .into_iter()
        .map(|(k, n, i)| (k, n.into(), i))
        .collect();
        assert_eq!(got.len(), want.len());
        for w in &want {
            assert!(got.contains(w), "{w:?} missing from {got:?}");
        }
        // By address, aliases in symbol-table order.
        assert!(
            listed
                .windows(2)
                .all(|w| (w[0].addr, w[0].index) < (w[1].addr, w[1].index))
        );
        let helper = listed.iter().find(|s| s.name(strtab) == "helper").unwrap();
        let exported = listed
            .iter()
            .find(|s| s.name(strtab) == "exported")
            .unwrap();
        assert_eq!(helper.addr, exported.addr);
        assert!(helper.index < exported.index);
        // Sections are page-aligned groups: text at the core's base.
        let start = listed.iter().find(|s| s.name(strtab) == "start").unwrap();
        assert_eq!(start.addr, 0xbf00_0000);
        let my_init = listed.iter().find(|s| s.name(strtab) == "my_init").unwrap();
        assert_eq!(my_init.addr, 0xbf10_0000);
    }

    /// Past the symbols the count pass marks (`MARKED`), the fill pass
    /// asks `listed` again: a table longer than the bitmap, with kept and
    /// skipped symbols on both sides of the bound, lists exactly the
    /// symbols `listed` keeps, in a vector reserved for exactly them.
    #[test]
    fn long_tables_list_the_same_symbols() {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.section_id(StandardSection::Text);
        o.append_section_data(text, &[0; 64], 4);
        for i in 0..MARKED + 40 {
            // Every third a mapping symbol, every fifth a local label.
            let name = match (i % 3, i % 5) {
                (0, _) => std::string::String::from("$a"),
                (_, 0) => std::format!(".L{i}"),
                _ => std::format!("sym{i}"),
            };
            o.add_symbol(WSymbol {
                name: name.into_bytes(),
                value: (i % 16) as u64 * 4,
                size: 4,
                kind: SymbolKind::Text,
                scope: SymbolScope::Compilation,
                weak: false,
                section: SymbolSection::Section(text),
                flags: SymbolFlags::None,
            });
        }
        let bytes = o.write().unwrap();
        let m = crate::validate(&bytes).unwrap();
        assert!(m.symbols.len() > MARKED + 30);
        let (l, addrs, got) = layout_and_list(&m);
        let strtab = m.symbol_strtab();
        let mut want: StdVec<u32> = (0..m.symbols.len())
            .filter(|&i| listed(&m.symbols[i], &l, strtab).is_some())
            .map(|i| i as u32)
            .collect();
        let mut indices: StdVec<u32> = got.iter().map(|s| s.index).collect();
        assert_eq!(got.capacity(), got.len());
        indices.sort_unstable();
        want.sort_unstable();
        assert!(want.iter().any(|&i| i as usize >= MARKED));
        assert!(want.iter().any(|&i| (i as usize) < MARKED));
        assert_eq!(indices, want);
        for s in &got {
            let sym = &m.symbols[s.index as usize];
            assert_eq!(s.name(strtab), sym.name);
            assert_eq!(s.addr, addrs[s.index as usize] & !1);
            assert_eq!(s.kind, 't');
        }
    }

    #[test]
    fn names_outside_the_table_are_empty() {
        let s = Listed {
            addr: 0,
            size: 0,
            kind: 't',
            name_at: 3,
            name_len: u32::MAX,
            index: 0,
            init: false,
        };
        assert_eq!(s.name(b"abc\0"), "");
    }
}
