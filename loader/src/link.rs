//! Linking a validated, laid-out module at given addresses: copy every
//! loaded section into the core or init image, resolve each symbol, apply
//! each relocation (Linux's `move_module` + `simplify_symbols` +
//! `apply_relocations`). The caller provides the two images, exactly
//! [`ModuleLayout::core_size`] and [`ModuleLayout::init_size`] bytes, which
//! [`link`] zero-fills first (Linux's `move_module` memsets the region), or
//! which the caller has cleared already ([`link_zeroed_traced`]: the kernel
//! clears fresh `module_alloc` memory with a store-multiple loop, faster
//! than this crate's safe `fill`); the result is the bytes to run at the two bases,
//! and [`Linked`] keeps only the resolved symbol addresses.
//!
//! Nothing here allocates but [`Linked::symbol_addrs`] (fallibly, one entry
//! per symbol of the file: [`LinkError::NoMemory`]) and, for a module of
//! more than 256 symbols (`FuncBits::STACK_SYMBOLS`), its companion bitmap
//! (which symbols are functions; on the stack for smaller modules),
//! and every lookup is bounded: COMMON symbols and PLT veneers are found by
//! binary search in the tables [`crate::layout`] sorted.
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
//! modules, whose tail calls are B.W. Entry `i` of a region's PLT is the
//! veneer of the `i`-th of that region's sorted [`ModuleLayout::plt_keys`],
//! written when a branch needs it.
//!
//! [`entry_points`] finds `init_module` / `cleanup_module` and checks they
//! are code of the module (Linux trusts the `.gnu.linkonce.this_module`
//! pointers; Kobold reads the symbols, so it checks what they name).

use crate::elf::{Module, SHN_ABS, STB_WEAK, STT_FUNC};
use crate::layout::{Group, ModuleLayout, PLT_ENTRY_SIZE, PltKey, Region};
use crate::relocate::{self, RelocError, Target};
use crate::trace::{self, NoTrace, RelocEvent, SectionEvent, SymbolEvent, SymbolFrom, Trace};
use crate::try_vec;
use alloc::vec::Vec;
use core::fmt;

/// Finds a symbol the module does not define: its address and whether it
/// is a function (a kernel built in ARM state exports ARM functions, bit 0
/// clear, so Thumb callers need BLX).
pub trait Resolver {
    fn resolve(&self, name: &str) -> Option<Target>;

    /// Copies a section's bytes from the file into its place in an image
    /// (`dst` and `src` have the same length). The default is
    /// `copy_from_slice` (`memcpy`); the kernel copies with `ldm`/`stm`, 32
    /// bytes a turn, where compiler_builtins' `memcpy` moves a word per
    /// `ldr`/`str` (Linux's `memcpy`, `arch/arm/lib/copy_template.S`, is
    /// an `ldm`/`stm` copy too). This crate forbids `unsafe`, which such a
    /// copy needs.
    fn copy_section(&self, dst: &mut [u8], src: &[u8]) {
        dst.copy_from_slice(src);
    }
}

/// What linking leaves besides the images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linked {
    /// Resolved address of every symbol (index as in the symbol table).
    pub symbol_addrs: Vec<u32>,
}

/// Why linking failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError<'a> {
    /// An allocation failed (the kernel's -ENOMEM).
    NoMemory,
    /// An image buffer is not exactly the region's size.
    BufferSize {
        region: Region,
        expected: u32,
        got: usize,
    },
    /// Linux: "%s: Unknown symbol %s (err %d)".
    UnknownSymbol { name: &'a str },
    /// A relocation could not be applied.
    Reloc {
        section: &'a str,
        index: usize,
        symbol: &'a str,
        error: RelocError,
    },
}

fn region_name(r: Region) -> &'static str {
    match r {
        Region::Core => "core",
        Region::Init => "init",
    }
}

impl fmt::Display for LinkError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::NoMemory => write!(f, "out of memory"),
            LinkError::BufferSize {
                region,
                expected,
                got,
            } => write!(
                f,
                "{} image buffer of {got} bytes, the layout needs {expected}",
                region_name(*region)
            ),
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

impl core::error::Error for LinkError<'_> {}

/// ARM `ldr pc, [pc, #-4]`: loads the literal that follows; bit 0 of the
/// destination selects the instruction set (ARMv7 interworking load).
const PLT_ARM: u32 = 0xe51f_f004;
/// Thumb-2 `ldr.w pc, [pc, #0]` (halfwords f8df f000), the same for Thumb
/// callers; the entry is 8-aligned so the literal is at entry + 4.
const PLT_THUMB: [u16; 2] = [0xf8df, 0xf000];

/// The veneer of PLT entry `index` of `region` (Linux's
/// `get_module_plt`), reaching `dest` (the branch's real destination, with
/// the Thumb bit) from `thumb` or ARM code: written into `image` (the
/// region at `region_base`), its address returned; `None` if the entry is
/// outside the image.
fn veneer(
    l: &ModuleLayout,
    region: Region,
    index: u32,
    image: &mut [u8],
    region_base: u32,
    thumb: bool,
    dest: u32,
) -> Option<Target> {
    let off = l
        .plt(region)
        .offset
        .checked_add(index.checked_mul(PLT_ENTRY_SIZE)?)?;
    let at = off as usize;
    let entry = image.get_mut(at..at.checked_add(PLT_ENTRY_SIZE as usize)?)?;
    let mut words = [0u8; 8];
    if thumb {
        words[0..2].copy_from_slice(&PLT_THUMB[0].to_le_bytes());
        words[2..4].copy_from_slice(&PLT_THUMB[1].to_le_bytes());
    } else {
        words[0..4].copy_from_slice(&PLT_ARM.to_le_bytes());
    }
    words[4..8].copy_from_slice(&dest.to_le_bytes());
    entry.copy_from_slice(&words);
    let addr = region_base.wrapping_add(off);
    Some(Target {
        value: if thumb { addr | 1 } else { addr },
        is_func: true,
    })
}

/// Links `m` laid out by `l` into `core` (to run at `core_base`) and
/// `init` (at `init_base`), which must be exactly `l.core_size` and
/// `l.init_size` bytes; both are zero-filled first.
pub fn link<'a>(
    m: &Module<'a>,
    l: &ModuleLayout,
    core: &mut [u8],
    core_base: u32,
    init: &mut [u8],
    init_base: u32,
    resolver: &dyn Resolver,
) -> Result<Linked, LinkError<'a>> {
    link_traced(
        m,
        l,
        core,
        core_base,
        init,
        init_base,
        resolver,
        &mut NoTrace,
    )
}

/// [`link`], telling `sink` each section placed, each undefined symbol
/// resolved and each relocation applied (see [`crate::trace`]).
#[allow(clippy::too_many_arguments)]
pub fn link_traced<'a>(
    m: &Module<'a>,
    l: &ModuleLayout,
    core: &mut [u8],
    core_base: u32,
    init: &mut [u8],
    init_base: u32,
    resolver: &dyn Resolver,
    sink: &mut dyn Trace,
) -> Result<Linked, LinkError<'a>> {
    let images = Images {
        core,
        core_base,
        init,
        init_base,
        zeroed: false,
    };
    link_images(m, l, images, resolver, sink)
}

/// [`link_traced`] into `core` and `init` that hold only zeros already
/// (the kernel clears fresh module memory with a faster store loop than
/// this `no_unsafe` crate can write): the same result, without clearing
/// them a second time. Linux's `move_module` clears the region once, too.
#[allow(clippy::too_many_arguments)]
pub fn link_zeroed_traced<'a>(
    m: &Module<'a>,
    l: &ModuleLayout,
    core: &mut [u8],
    core_base: u32,
    init: &mut [u8],
    init_base: u32,
    resolver: &dyn Resolver,
    sink: &mut dyn Trace,
) -> Result<Linked, LinkError<'a>> {
    let images = Images {
        core,
        core_base,
        init,
        init_base,
        zeroed: true,
    };
    link_images(m, l, images, resolver, sink)
}

/// The two regions [`link_images`] writes, and whether they hold zeros.
struct Images<'i> {
    core: &'i mut [u8],
    core_base: u32,
    init: &'i mut [u8],
    init_base: u32,
    zeroed: bool,
}

fn link_images<'a>(
    m: &Module<'a>,
    l: &ModuleLayout,
    images: Images<'_>,
    resolver: &dyn Resolver,
    sink: &mut dyn Trace,
) -> Result<Linked, LinkError<'a>> {
    let Images {
        core,
        core_base,
        init,
        init_base,
        zeroed,
    } = images;
    for (region, len) in [(Region::Core, core.len()), (Region::Init, init.len())] {
        if len != l.size(region) as usize {
            return Err(LinkError::BufferSize {
                region,
                expected: l.size(region),
                got: len,
            });
        }
    }
    if !zeroed {
        core.fill(0);
        init.fill(0);
    }
    let tracing = sink.enabled();
    let base = |r: Region| {
        if r == Region::Core {
            core_base
        } else {
            init_base
        }
    };
    // Copy the sections (NOBITS stay zero). The layout placed each within
    // its region, whose size the buffers were checked against.
    for s in &m.sections {
        let placed = l.placements.get(s.index as usize).copied().flatten();
        if let (Some(p), Some(data)) = (placed, s.data) {
            let image = if p.region == Region::Core {
                &mut *core
            } else {
                &mut *init
            };
            let at = p.offset as usize;
            if let Some(dst) = at
                .checked_add(data.len())
                .and_then(|end| image.get_mut(at..end))
            {
                resolver.copy_section(dst, data);
            }
        }
        if let Some(p) = placed
            && tracing
        {
            sink.section(&SectionEvent {
                name: s.name,
                region: p.region,
                group: p.group,
                addr: base(p.region).wrapping_add(p.offset),
                size: p.size,
                align: s.align,
            });
        }
    }
    // Resolve every symbol.
    let mut addrs = try_vec(m.symbols.len()).ok_or(LinkError::NoMemory)?;
    let mut funcs = FuncBits::new(m.symbols.len()).ok_or(LinkError::NoMemory)?;
    for (i, sym) in m.symbols.iter().enumerate() {
        let mut is_func = sym.kind() == STT_FUNC;
        let addr = if i == 0 {
            0
        } else if sym.is_undefined() {
            let (value, from) = match resolver.resolve(sym.name) {
                Some(t) => {
                    is_func = t.is_func;
                    (t.value, SymbolFrom::Resolver)
                }
                None if sym.binding() == STB_WEAK => (0, SymbolFrom::Weak),
                None => return Err(LinkError::UnknownSymbol { name: sym.name }),
            };
            if tracing {
                sink.symbol(&SymbolEvent {
                    name: sym.name,
                    value,
                    from,
                });
            }
            value
        } else if sym.shndx == SHN_ABS {
            sym.value
        } else if sym.is_common() {
            core_base.wrapping_add(l.common_offset(i as u32).unwrap_or(0))
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
        if is_func {
            funcs.set(i);
        }
    }
    // Apply the relocations of every loaded target section.
    for (rel_section, target, rels) in &m.relocations {
        let Some(p) = l.placements.get(*target as usize).copied().flatten() else {
            continue;
        };
        let section = m.sections.get(*rel_section as usize).map_or("", |s| s.name);
        let target_name = m.sections.get(*target as usize).map_or("", |s| s.name);
        let section_base = base(p.region).wrapping_add(p.offset);
        let image = if p.region == Region::Core {
            &mut *core
        } else {
            &mut *init
        };
        for (i, r) in rels.iter().enumerate() {
            // The validator checked the symbol index and that the 4 bytes
            // are inside the section, which the layout placed in the image.
            let sym = m.symbols.get(r.symbol as usize);
            let target = Target {
                value: addrs.get(r.symbol as usize).copied().unwrap_or(0),
                is_func: funcs.get(r.symbol as usize),
            };
            let reloc_err = |error| LinkError::Reloc {
                section,
                index: i,
                symbol: sym.map_or("", |s| s.name),
                error,
            };
            let at = p.offset.checked_add(r.offset).map(|a| a as usize);
            let Some(at) = at.filter(|&a| a.checked_add(4).is_some_and(|e| e <= image.len()))
            else {
                return Err(reloc_err(RelocError::ShortPlace));
            };
            let place = section_base.wrapping_add(r.offset);
            // What the trace shows (nothing is decoded for a sink that
            // does not listen).
            let (before, a) = if tracing {
                (
                    word(&image[at..at + 4]),
                    trace::addend(r.r_type, &image[at..at + 4]),
                )
            } else {
                (0, 0)
            };
            let mut effective = target.value;
            let mut via_plt = None;
            // The common case, applied in place, moves no result (the
            // error, 16 bytes, was copied out through `memcpy` on every
            // relocation when it was a variable the veneer path reassigns).
            if let Err(first) = relocate::apply(r.r_type, &mut image[at..at + 4], place, target) {
                let mut result = Err(first);
                // Decoded only for a branch `apply` refused, which left the
                // place as it was (`apply` writes nothing when it fails), so
                // this is the addend the place held before.
                let addend = relocate::branch_addend(r.r_type, &image[at..at + 4]);
                if let (
                    RelocError::OutOfRange { .. } | RelocError::Interworking { .. },
                    Some(addend),
                ) = (first, addend)
                {
                    // Out of reach, or a B that cannot change instruction set:
                    // go through this branch's veneer in the region's PLT.
                    let thumb = matches!(
                        r.r_type,
                        relocate::R_ARM_THM_CALL | relocate::R_ARM_THM_JUMP24
                    );
                    let key: PltKey = (thumb, r.symbol, addend);
                    // The real destination: S + A + the PC bias the addend
                    // carries (8 in ARM state, 4 in Thumb).
                    let bias_addend = (addend as u32).wrapping_add(if thumb { 4 } else { 8 });
                    let dest = target.value.wrapping_add(bias_addend);
                    let via = l.plt_index(p.region, key).and_then(|index| {
                        veneer(l, p.region, index, image, base(p.region), thumb, dest)
                    });
                    if let Some(via) = via {
                        // The branch goes to the veneer itself: `apply` adds
                        // the addend (and the bias) again, so take them off
                        // (Linux sets the offset to the veneer directly). Both
                        // are even, so the Thumb bit of the veneer stays.
                        let to_veneer = Target {
                            value: via.value.wrapping_sub(bias_addend),
                            ..via
                        };
                        result =
                            relocate::apply(r.r_type, &mut image[at..at + 4], place, to_veneer);
                        effective = to_veneer.value;
                        via_plt = Some(via.value);
                    }
                }
                result.map_err(reloc_err)?;
            }
            if !tracing {
                continue;
            }
            sink.reloc(&RelocEvent {
                section: target_name,
                offset: r.offset,
                r_type: r.r_type,
                // A section symbol (no name) is shown as its section.
                symbol: match sym {
                    Some(s) if s.name.is_empty() => {
                        m.sections.get(s.shndx as usize).map_or("", |sec| sec.name)
                    }
                    Some(s) => s.name,
                    None => "",
                },
                s: target.value,
                a,
                p: place,
                result: trace::result(r.r_type, effective, a, place),
                before,
                after: word(&image[at..at + 4]),
                via_plt,
            });
        }
    }
    Ok(Linked {
        symbol_addrs: addrs,
    })
}

/// Which symbols are functions (a resolved symbol's `is_func`), one bit a
/// symbol: on the stack up to [`FuncBits::STACK_SYMBOLS`] symbols (every
/// module measured so far), on the heap (fallibly, exactly the words
/// needed) beyond. It was a `Vec<bool>` of one byte a symbol, an
/// allocation and a free per insmod.
pub(crate) struct FuncBits {
    small: [u32; 8],
    big: Vec<u32>,
}

impl FuncBits {
    /// The most symbols kept on the stack.
    pub(crate) const STACK_SYMBOLS: usize = 256;

    /// No symbol marked, for `n` symbols; `None` if the heap bitmap of a
    /// larger module cannot be allocated.
    pub(crate) fn new(n: usize) -> Option<Self> {
        let mut big = Vec::new();
        if n > Self::STACK_SYMBOLS {
            let words = n.div_ceil(32);
            big = try_vec(words)?;
            big.resize(words, 0);
        }
        Some(FuncBits { small: [0; 8], big })
    }

    fn words(&self) -> &[u32] {
        if self.big.is_empty() {
            &self.small
        } else {
            &self.big
        }
    }

    /// Marks symbol `i` (below `new`'s `n`) a function.
    pub(crate) fn set(&mut self, i: usize) {
        let words = if self.big.is_empty() {
            &mut self.small[..]
        } else {
            &mut self.big[..]
        };
        if let Some(w) = words.get_mut(i / 32) {
            *w |= 1 << (i % 32);
        }
    }

    /// Whether symbol `i` was marked.
    pub(crate) fn get(&self, i: usize) -> bool {
        self.words()
            .get(i / 32)
            .is_some_and(|w| (w >> (i % 32)) & 1 != 0)
    }
}

/// The little-endian word of a 4-byte place.
fn word(b: &[u8]) -> u32 {
    b.get(0..4)
        .map_or(0, |w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

/// A module's entry points: the addresses of `init_module` and
/// `cleanup_module` (with the Thumb bit), when it defines them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EntryPoints {
    pub init: Option<u32>,
    pub exit: Option<u32>,
}

/// An entry point that is not code of the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryError {
    /// `init_module` or `cleanup_module`.
    pub symbol: &'static str,
    /// What it names instead: "undefined", "absolute", "common",
    /// "not loaded", "data", "read-only data", "init text" (for
    /// `cleanup_module`: freed after init), "outside its section".
    pub what: &'static str,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not a function of the module ({})",
            self.symbol, self.what
        )
    }
}

impl core::error::Error for EntryError {}

/// Finds `init_module` and `cleanup_module` (the first symbol of each
/// name) and checks that each lies inside a section of an executable
/// `Text` group: core or init text for `init_module`, core text only for
/// `cleanup_module` (the init region is gone when it runs). Data, rodata,
/// SHN_ABS, COMMON, a section that is not loaded, an offset past its
/// section, or an undefined symbol of either name refuse the module.
pub fn entry_points(
    m: &Module<'_>,
    l: &ModuleLayout,
    linked: &Linked,
) -> Result<EntryPoints, EntryError> {
    let mut out = EntryPoints::default();
    const NAMES: [&str; 2] = ["init_module", "cleanup_module"];
    let found = first_of(m.symbols.iter().map(|s| s.name), NAMES);
    for ((symbol, is_exit), at) in NAMES.into_iter().zip([false, true]).zip(found) {
        let Some((i, s)) = at.and_then(|i| Some((i, m.symbols.get(i)?))) else {
            continue;
        };
        let err = |what| EntryError { symbol, what };
        if s.is_undefined() {
            return Err(err("undefined"));
        }
        if s.shndx == SHN_ABS {
            return Err(err("absolute"));
        }
        if s.is_common() {
            return Err(err("common"));
        }
        let p = l
            .placements
            .get(s.shndx as usize)
            .copied()
            .flatten()
            .ok_or(err("not loaded"))?;
        match p.group {
            Group::Text => {}
            Group::Data => return Err(err("data")),
            Group::Rodata | Group::RoAfterInit => return Err(err("read-only data")),
        }
        if is_exit && p.region == Region::Init {
            return Err(err("init text"));
        }
        if s.value & !1 >= p.size {
            return Err(err("outside its section"));
        }
        let addr = linked
            .symbol_addrs
            .get(i)
            .copied()
            .ok_or(err("not loaded"))?;
        if is_exit {
            out.exit = Some(addr);
        } else {
            out.init = Some(addr);
        }
    }
    Ok(out)
}

/// The index of the first of `names` called each of `wanted` (distinct
/// names): `names.position(|n| n == w)` for each `w`, in one pass. The
/// entry points were two passes over the symbols, each comparing every
/// name; this stops once both are found.
fn first_of<'n, const K: usize>(
    names: impl Iterator<Item = &'n str>,
    wanted: [&str; K],
) -> [Option<usize>; K] {
    let mut found = [None; K];
    let mut missing = K;
    for (i, name) in names.enumerate() {
        if missing == 0 {
            break;
        }
        for (w, slot) in wanted.iter().zip(found.iter_mut()) {
            if slot.is_none() && crate::name_is(name, w) {
                *slot = Some(i);
                missing -= 1;
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    /// `first_of` answers `position` for each wanted name: names found
    /// first, last, twice (the first wins), not at all, names that share a
    /// prefix or differ only in length, and no names.
    #[test]
    fn first_of_is_position_for_each() {
        let lists: [&[&str]; 7] = [
            &[],
            &["", "init_module", "cleanup_module"],
            &["cleanup_module", "x", "init_module", "init_module"],
            &["init_modul", "init_module_", "cleanup", "cleanup_module"],
            &["a", "b", "c"],
            &[
                "init_module",
                "cleanup_module",
                "init_module",
                "cleanup_module",
            ],
            &["cleanup_module", "cleanup_module", "", "init_module"],
        ];
        let wanted = ["init_module", "cleanup_module"];
        for names in lists {
            let got = super::first_of(names.iter().copied(), wanted);
            let want = wanted.map(|w| names.iter().position(|n| *n == w));
            assert_eq!(got, want, "{names:?}");
            let one = super::first_of(names.iter().copied(), ["cleanup_module"]);
            assert_eq!(one[0], names.iter().position(|n| *n == "cleanup_module"));
        }
    }

    /// `FuncBits` answers what a `Vec<bool>` answers, on the stack and on
    /// the heap, at both ends of each word and past the last symbol.
    #[test]
    fn func_bits_are_a_bool_vector() {
        for n in [0, 1, 31, 32, 33, 255, 256, 257, 300, 1000] {
            let mut bits = super::FuncBits::new(n).unwrap();
            assert_eq!(bits.big.is_empty(), n <= super::FuncBits::STACK_SYMBOLS);
            let want: Vec<bool> = (0..n).map(|i| i % 3 == 0 || i % 32 == 31).collect();
            for (i, &f) in want.iter().enumerate() {
                if f {
                    bits.set(i);
                }
            }
            for i in 0..n + 64 {
                assert_eq!(
                    bits.get(i),
                    want.get(i).copied().unwrap_or(false),
                    "{n} {i}"
                );
            }
        }
    }

    extern crate std;
    use super::*;
    use crate::elf::tests_support::link_vec;
    use alloc::vec;
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
        let (core, _, linked) = link_vec(
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
        let insn = u32::from_le_bytes(core[at..at + 4].try_into().unwrap());
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
            &core[data.offset as usize..data.offset as usize + 4],
            &[1, 2, 3, 4]
        );
    }

    /// Linking into images that hold stale bytes (cleared by the link)
    /// and into zeroed ones (not cleared again) gives the same images.
    #[test]
    fn prezeroed_images_link_the_same() {
        let bytes = crate::elf::tests_support::module_bytes();
        let m = crate::validate(&bytes).unwrap();
        let l = crate::layout::layout(&m).unwrap();
        let map = Map(HashMap::from([("printk", 0xc001_0000)]));
        let (cs, is) = (l.core_size as usize, l.init_size as usize);
        let (mut core_a, mut init_a) = (vec![0xa5u8; cs], vec![0xa5u8; is]);
        let (mut core_z, mut init_z) = (vec![0u8; cs], vec![0u8; is]);
        let a = link_traced(
            &m,
            &l,
            &mut core_a,
            0xbf00_0000,
            &mut init_a,
            0xbf10_0000,
            &map,
            &mut NoTrace,
        )
        .unwrap();
        let z = link_zeroed_traced(
            &m,
            &l,
            &mut core_z,
            0xbf00_0000,
            &mut init_z,
            0xbf10_0000,
            &map,
            &mut NoTrace,
        )
        .unwrap();
        assert_eq!(core_a, core_z);
        assert_eq!(init_a, init_z);
        assert_eq!(a.symbol_addrs, z.symbol_addrs);
        // The stale bytes are gone: the .bss is zero.
        let bss = l.placements[m.section_by_name(".bss").unwrap().index as usize].unwrap();
        let at = bss.offset as usize;
        assert!(core_a[at..at + bss.size as usize].iter().all(|&b| b == 0));
    }

    #[test]
    fn unknown_symbols_and_ranges() {
        let bytes = crate::elf::tests_support::module_bytes();
        let m = crate::validate(&bytes).unwrap();
        let l = crate::layout::layout(&m).unwrap();
        let e = link_vec(&m, &l, 0xbf00_0000, 0xbf10_0000, &Map(HashMap::new())).unwrap_err();
        assert_eq!(e.to_string(), "Unknown symbol printk (err -2)");
        // printk 1 GB away: the BL cannot reach it, the PLT veneer can.
        let far = Map(HashMap::from([("printk", 0x4000_0000)]));
        let (core, _, _) = link_vec(&m, &l, 0xbf00_0000, 0xbf10_0000, &far).unwrap();
        let plt = l.plt(Region::Core).offset as usize;
        assert_eq!(
            &core[plt..plt + 8],
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
        let (c, _, linked) = link_vec(&m, &l, base, base + 0x10_0000, &Fixed).unwrap();
        let plt = l.plt(Region::Core).offset;
        let c = &c;
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
        let e = link_vec(&m, &l, 0xbf00_0000, 0xbf10_0000, &Fixed).unwrap_err();
        assert_eq!(
            e.to_string(),
            "section .rel.text reloc 0 sym 'far_arm': relocation 28 out of range (0xbf000000 -> 0xc2000000)"
        );
    }
}
