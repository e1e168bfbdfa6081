//! Linking a validated, laid-out module at given addresses: copy every
//! loaded section into the core or init image, resolve each symbol, apply
//! each relocation (Linux's `move_module` + `simplify_symbols` +
//! `apply_relocations`). The result is the bytes to put at the two bases.
//!
//! Symbols resolve as in Linux: a symbol defined in a loaded section is that
//! section's address plus its value; SHN_ABS keeps its value; an undefined
//! symbol asks the [`Resolver`] (the kernel's exports, or `modlink`'s
//! symbol file) and, if it is unknown, is `Unknown symbol %s (err -2)` —
//! unless it is weak, which resolves to 0. SHN_COMMON symbols live where
//! the layout put them in the core data.
//!
//! A branch (ARM B/BL, Thumb-2 B.W/BL) whose target is out of reach, or a
//! B that would have to change instruction set, goes through a veneer in
//! its region's PLT (Linux's ARM_MODULE_PLTS, `module-plts.c`): an
//! `ldr pc, [pc, #-4]` (ARM) or `ldr.w pc, [pc, #0]` (Thumb) followed by the
//! destination, whose bit 0 picks the instruction set. Linux refuses the
//! cross-state B instead, because its kernel and modules are built for one
//! state; Kobold's C sample modules mix ARM kernel code with Thumb-2
//! modules, whose tail calls are B.W.

use crate::elf::Module;
use crate::layout::{Layout, PLT_ENTRY_SIZE, Plt, Region};
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

/// Fills a region's PLT (Linux's `get_module_plt`): one veneer per
/// distinct (instruction set, destination).
struct PltWriter {
    plt: Plt,
    used: Vec<(bool, u32)>,
}

/// ARM `ldr pc, [pc, #-4]`: loads the literal that follows; bit 0 of the
/// destination selects the instruction set (ARMv7 interworking load).
const PLT_ARM: u32 = 0xe51f_f004;
/// Thumb-2 `ldr.w pc, [pc, #0]` (halfwords f8df f000), the same for Thumb
/// callers; the entry is 8-aligned so the literal is at entry + 4.
const PLT_THUMB: [u16; 2] = [0xf8df, 0xf000];

impl PltWriter {
    fn new(plt: Plt) -> Self {
        PltWriter {
            plt,
            used: Vec::new(),
        }
    }

    /// The veneer reaching `dest` (the branch's real destination, with the
    /// Thumb bit) from `thumb` or ARM code, written into `image` (the
    /// region at `region_base`) if new; `None` if the PLT is full.
    fn veneer(
        &mut self,
        image: &mut [u8],
        region_base: u32,
        thumb: bool,
        dest: u32,
    ) -> Option<Target> {
        let index = match self.used.iter().position(|&e| e == (thumb, dest)) {
            Some(i) => i,
            None => {
                if self.used.len() as u32 >= self.plt.entries {
                    return None;
                }
                let at = (self.plt.offset + self.used.len() as u32 * PLT_ENTRY_SIZE) as usize;
                let entry = image.get_mut(at..at + 8)?;
                if thumb {
                    entry[0..2].copy_from_slice(&PLT_THUMB[0].to_le_bytes());
                    entry[2..4].copy_from_slice(&PLT_THUMB[1].to_le_bytes());
                } else {
                    entry[0..4].copy_from_slice(&PLT_ARM.to_le_bytes());
                }
                entry[4..8].copy_from_slice(&dest.to_le_bytes());
                self.used.push((thumb, dest));
                self.used.len() - 1
            }
        };
        let addr = region_base
            .wrapping_add(self.plt.offset)
            .wrapping_add(index as u32 * PLT_ENTRY_SIZE);
        Some(Target {
            value: if thumb { addr | 1 } else { addr },
            is_func: true,
        })
    }
}

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
        } else if sym.is_common() {
            let offset = l
                .commons
                .iter()
                .find(|&&(s, _)| s as usize == i)
                .map_or(0, |&(_, o)| o);
            core_base.wrapping_add(offset)
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
    let mut plts = [
        PltWriter::new(l.plt(Region::Core)),
        PltWriter::new(l.plt(Region::Init)),
    ];
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
            let place = section_base.wrapping_add(r.offset);
            let addend = relocate::branch_addend(r.r_type, &image[at..at + 4]);
            let mut result = relocate::apply(r.r_type, &mut image[at..at + 4], place, target);
            if let (
                Err(RelocError::OutOfRange { .. } | RelocError::Interworking { .. }),
                Some(addend),
            ) = (&result, addend)
            {
                // Out of reach, or a B that cannot change instruction set:
                // go through a veneer in this region's PLT.
                let region = p.region as usize;
                if let Some(via) = plts[region].veneer(
                    image,
                    base(p.region),
                    matches!(r.r_type, 10 | 30),
                    // The real destination: S + A + the PC bias the
                    // addend carries (8 in ARM state, 4 in Thumb).
                    target
                        .value
                        .wrapping_add(addend as u32)
                        .wrapping_add(if matches!(r.r_type, 10 | 30) { 4 } else { 8 }),
                ) {
                    result = relocate::apply(r.r_type, &mut image[at..at + 4], place, via);
                }
            }
            result.map_err(|error| LinkError::Reloc {
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
        // printk 1 GB away: the BL cannot reach it, the PLT veneer can.
        let far = Map(HashMap::from([("printk", 0x4000_0000)]));
        let linked = link(&m, &l, 0xbf00_0000, 0xbf10_0000, &far).unwrap();
        let plt = l.plt(Region::Core).offset as usize;
        assert_eq!(
            &linked.core[plt..plt + 8],
            &[0x04, 0xf0, 0x1f, 0xe5, 0, 0, 0, 0x40]
        );
    }

    use crate::elf::{Rel, Section, Symbol};

    /// A hand-made module: ARM `.text` (section 1) and Thumb `.text.t`
    /// (section 2) calling undefined functions, a common symbol, and the
    /// relocations given.
    fn branches(rels: Vec<Rel>, arm: &'static [u8], thumb: &'static [u8]) -> Module<'static> {
        let sec = |index, name, flags, data: &'static [u8]| Section {
            index,
            name,
            sh_type: 1,
            flags,
            size: data.len() as u32,
            align: 4,
            link: 0,
            info: 0,
            data: Some(data),
        };
        let sym = |name, info, shndx, value, size| Symbol {
            name,
            value,
            size,
            info,
            shndx,
        };
        Module {
            sections: vec![
                sec(0, "", 0, &[]),
                sec(1, ".text", 6, arm),
                sec(2, ".text.t", 6, thumb),
                sec(3, ".rel.text", 0, &[]),
            ],
            symbols: vec![
                sym("", 0, 0, 0, 0),
                sym("far_arm", 0x12, 0, 0, 0),
                sym("thumb_fn", 0x12, 0, 0, 0),
                sym("counter", 0x11, 0xfff2, 16, 4),
            ],
            relocations: vec![
                (
                    3,
                    1,
                    rels.iter().filter(|r| r.offset < 0x100).copied().collect(),
                ),
                (
                    3,
                    2,
                    rels.iter()
                        .filter(|r| r.offset >= 0x100)
                        .map(|r| Rel {
                            offset: r.offset - 0x100,
                            ..*r
                        })
                        .collect(),
                ),
            ],
            modinfo: vec![],
        }
    }

    struct Fixed;
    impl Resolver for Fixed {
        fn resolve(&self, name: &str) -> Option<Target> {
            match name {
                // 48 MB above the module: out of reach of any branch.
                "far_arm" => Some(Target {
                    value: 0xc200_0000,
                    is_func: true,
                }),
                "thumb_fn" => Some(Target {
                    value: 0xbf80_0001,
                    is_func: true,
                }),
                _ => None,
            }
        }
    }

    fn word(b: &[u8], at: u32) -> u32 {
        let at = at as usize;
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// Follows an ARM BL/B at `at` (address `base + at`) to its destination.
    fn arm_dest(b: &[u8], base: u32, at: u32) -> u32 {
        let insn = word(b, at);
        base.wrapping_add(at)
            .wrapping_add(8)
            .wrapping_add(((insn << 8) as i32 >> 6) as u32)
    }

    /// Follows a Thumb-2 BL/B.W at `at`.
    fn thumb_dest(b: &[u8], base: u32, at: u32) -> u32 {
        let addend = relocate::branch_addend(10, &b[at as usize..at as usize + 4]).unwrap();
        base.wrapping_add(at)
            .wrapping_add(4)
            .wrapping_add(addend as u32)
    }

    #[test]
    fn out_of_range_and_interworking_branches_go_through_the_plt() {
        // ARM: bl far_arm; b far_arm; b thumb_fn (B cannot switch state).
        static ARM: [u8; 12] = [
            0xfe, 0xff, 0xff, 0xeb, 0xfe, 0xff, 0xff, 0xea, 0xfe, 0xff, 0xff, 0xea,
        ];
        // Thumb: b.w far_arm (f7ff bffe: B.W with addend -4).
        static THUMB: [u8; 4] = [0xff, 0xf7, 0xfe, 0xbf];
        let rels = vec![
            Rel {
                offset: 0,
                r_type: 28,
                symbol: 1,
            },
            Rel {
                offset: 4,
                r_type: 29,
                symbol: 1,
            },
            Rel {
                offset: 8,
                r_type: 29,
                symbol: 2,
            },
            Rel {
                offset: 0x100,
                r_type: 30,
                symbol: 1,
            },
        ];
        let m = branches(rels, &ARM, &THUMB);
        let l = crate::layout::layout(&m).unwrap();
        // Distinct (state, symbol, addend): ARM far_arm, ARM thumb_fn, Thumb far_arm.
        assert_eq!(l.plt(Region::Core).entries, 3);
        let base = 0xbf00_0000;
        let linked = link(&m, &l, base, base + 0x10_0000, &Fixed).unwrap();
        let plt = l.plt(Region::Core).offset;
        let c = &linked.core;
        // bl and b far_arm share one ARM veneer: ldr pc, [pc, #-4]; .word far_arm.
        assert_eq!(arm_dest(c, base, 0), base + plt);
        assert_eq!(arm_dest(c, base, 4), base + plt);
        assert_eq!((word(c, plt), word(c, plt + 4)), (0xe51f_f004, 0xc200_0000));
        // b thumb_fn: an ARM veneer whose literal keeps the Thumb bit.
        assert_eq!(arm_dest(c, base, 8), base + plt + 8);
        assert_eq!(word(c, plt + 12), 0xbf80_0001);
        // Thumb b.w far_arm: a Thumb veneer (ldr.w pc, [pc, #0]).
        let t = l.placements[2].unwrap().offset;
        assert_eq!(thumb_dest(c, base, t), base + plt + 16);
        assert_eq!(word(c, plt + 16), 0xf000_f8df);
        assert_eq!(word(c, plt + 20), 0xc200_0000);
        // The common symbol got 4 bytes of core data, 16-aligned.
        let (sym, off) = l.commons[0];
        assert_eq!(sym, 3);
        assert_eq!(off % 16, 0);
        assert!(
            off >= l
                .groups
                .iter()
                .find(|g| g.1 == crate::layout::Group::Data)
                .unwrap()
                .2
        );
        assert_eq!(linked.symbol_addrs[3], base + off);
    }

    #[test]
    fn a_full_plt_reports_the_original_error() {
        static ARM: [u8; 4] = [0xfe, 0xff, 0xff, 0xeb];
        let m = branches(
            vec![Rel {
                offset: 0,
                r_type: 28,
                symbol: 1,
            }],
            &ARM,
            &[0; 4],
        );
        let mut l = crate::layout::layout(&m).unwrap();
        l.plt[0].entries = 0;
        let e = link(&m, &l, 0xbf00_0000, 0xbf10_0000, &Fixed).unwrap_err();
        assert_eq!(
            e.to_string(),
            "section .rel.text reloc 0 sym 'far_arm': relocation 28 out of range (0xbf000000 -> 0xc2000000)"
        );
    }
}
