//! Linking a validated, laid-out module at given addresses: copy every
//! loaded section into the core or init image, resolve each symbol, apply
//! each relocation (Linux's `move_module` + `simplify_symbols` +
//! `apply_relocations`). The result is the bytes to put at the two bases.
//!
//! Symbols resolve as in Linux: a symbol defined in a loaded section is that
//! section's address plus its value; SHN_ABS keeps its value; an undefined
//! symbol asks the [`Resolver`] (the kernel's exports, or `modlink`'s
//! symbol file) and, if it is unknown, is `Unknown symbol %s (err -2)` —
//! unless it is weak, which resolves to 0.

use crate::elf::Module;
use crate::layout::{Layout, Region};
use crate::relocate::{self, RelocError, Target};
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

const STB_WEAK: u8 = 2;
const STT_FUNC: u8 = 2;
const SHN_ABS: u16 = 0xfff1;

/// Finds a symbol the module does not define: its address and whether it
/// is a function (a kernel built in ARM state exports ARM functions, bit 0
/// clear, so Thumb callers need BLX).
pub trait Resolver {
    fn resolve(&self, name: &str) -> Option<Target>;
}

/// The linked images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linked {
    pub core: Vec<u8>,
    pub init: Vec<u8>,
    /// Resolved address of every symbol (index as in the symbol table).
    pub symbol_addrs: Vec<u32>,
}

/// Why linking failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Linux: "%s: Unknown symbol %s (err %d)".
    UnknownSymbol { name: String },
    /// A relocation could not be applied.
    Reloc {
        section: String,
        index: usize,
        symbol: String,
        error: RelocError,
    },
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::UnknownSymbol { name } => write!(f, "Unknown symbol {name} (err -2)"),
            LinkError::Reloc {
                section,
                index,
                symbol,
                error,
            } => {
                write!(f, "section {section} reloc {index} sym '{symbol}': {error}")
            }
        }
    }
}

impl core::error::Error for LinkError {}

/// Links `m` laid out by `l` with its core image at `core_base` and its
/// init image at `init_base`.
pub fn link(
    m: &Module<'_>,
    l: &Layout,
    core_base: u32,
    init_base: u32,
    resolver: &dyn Resolver,
) -> Result<Linked, LinkError> {
    let mut core = vec![0u8; l.core_size as usize];
    let mut init = vec![0u8; l.init_size as usize];
    let base = |r: Region| {
        if r == Region::Core {
            core_base
        } else {
            init_base
        }
    };
    // Copy the sections (NOBITS stay zero).
    for s in &m.sections {
        if let (Some(p), Some(data)) = (l.placements[s.index as usize], s.data) {
            let image = if p.region == Region::Core {
                &mut core
            } else {
                &mut init
            };
            image[p.offset as usize..(p.offset + p.size) as usize].copy_from_slice(data);
        }
    }
    // Resolve every symbol.
    let mut addrs = Vec::with_capacity(m.symbols.len());
    let mut funcs = Vec::with_capacity(m.symbols.len());
    for (i, sym) in m.symbols.iter().enumerate() {
        let mut is_func = sym.kind() == STT_FUNC;
        let addr = if i == 0 {
            0
        } else if sym.is_undefined() {
            match resolver.resolve(sym.name) {
                Some(t) => {
                    is_func = t.is_func;
                    t.value
                }
                None if sym.binding() == STB_WEAK => 0,
                None => {
                    return Err(LinkError::UnknownSymbol {
                        name: sym.name.to_string(),
                    });
                }
            }
        } else if sym.shndx == SHN_ABS {
            sym.value
        } else {
            match l.placements.get(sym.shndx as usize).copied().flatten() {
                Some(p) => base(p.region)
                    .wrapping_add(p.offset)
                    .wrapping_add(sym.value),
                // A symbol in a section that is not loaded (debug info...).
                None => sym.value,
            }
        };
        addrs.push(addr);
        funcs.push(is_func);
    }
    // Apply the relocations of every loaded target section.
    for (rel_section, target, rels) in &m.relocations {
        let Some(p) = l.placements[*target as usize] else {
            continue;
        };
        let section_base = base(p.region).wrapping_add(p.offset);
        for (i, r) in rels.iter().enumerate() {
            let sym = &m.symbols[r.symbol as usize];
            let target = Target {
                value: addrs[r.symbol as usize],
                is_func: funcs[r.symbol as usize],
            };
            let image = if p.region == Region::Core {
                &mut core
            } else {
                &mut init
            };
            let at = (p.offset + r.offset) as usize;
            relocate::apply(
                r.r_type,
                &mut image[at..at + 4],
                section_base.wrapping_add(r.offset),
                target,
            )
            .map_err(|error| LinkError::Reloc {
                section: m.sections[*rel_section as usize].name.to_string(),
                index: i,
                symbol: sym.name.to_string(),
                error,
            })?;
        }
    }
    Ok(Linked {
        core,
        init,
        symbol_addrs: addrs,
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::collections::HashMap;
    use std::string::ToString;

    struct Map(HashMap<&'static str, u32>);
    impl Resolver for Map {
        fn resolve(&self, name: &str) -> Option<Target> {
            self.0.get(name).map(|&value| Target {
                value,
                is_func: true,
            })
        }
    }

    #[test]
    fn links_the_fixture_at_the_module_window() {
        let bytes = crate::elf::tests_support::module_bytes();
        let m = crate::validate(&bytes).unwrap();
        let l = crate::layout::layout(&m).unwrap();
        let printk = 0xc001_0000;
        let linked = link(
            &m,
            &l,
            0xbf00_0000,
            0xbf10_0000,
            &Map(HashMap::from([("printk", printk)])),
        )
        .unwrap();
        let text = l.placements[m.section_by_name(".text").unwrap().index as usize].unwrap();
        // The BL at .text+4 now reaches printk: offset = S - P - 8.
        let at = (text.offset + 4) as usize;
        let insn = u32::from_le_bytes(linked.core[at..at + 4].try_into().unwrap());
        let p = 0xbf00_0000 + text.offset + 4;
        let offset = (((insn & 0xff_ffff) << 8) as i32 >> 6) + 8;
        assert_eq!(p.wrapping_add(offset as u32), printk);
        // init_module resolves into the core text.
        let init = m
            .symbols
            .iter()
            .position(|s| s.name == "init_module")
            .unwrap();
        assert_eq!(linked.symbol_addrs[init], 0xbf00_0000 + text.offset);
        // .data's bytes were copied.
        let data = l.placements[m.section_by_name(".data").unwrap().index as usize].unwrap();
        assert_eq!(
            &linked.core[data.offset as usize..data.offset as usize + 4],
            &[1, 2, 3, 4]
        );
    }

    #[test]
    fn unknown_symbols_and_ranges() {
        let bytes = crate::elf::tests_support::module_bytes();
        let m = crate::validate(&bytes).unwrap();
        let l = crate::layout::layout(&m).unwrap();
        let e = link(&m, &l, 0xbf00_0000, 0xbf10_0000, &Map(HashMap::new())).unwrap_err();
        assert_eq!(e.to_string(), "Unknown symbol printk (err -2)");
        // printk 1 GB away: the BL cannot reach it.
        let far = Map(HashMap::from([("printk", 0x4000_0000)]));
        let e = link(&m, &l, 0xbf00_0000, 0xbf10_0000, &far).unwrap_err();
        assert_eq!(
            e.to_string(),
            "section .rel.text reloc 0 sym 'printk': relocation 28 out of range (0xbf000004 -> 0x40000000)"
        );
    }
}
