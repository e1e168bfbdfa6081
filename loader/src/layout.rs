//! Where each section of a module goes: Linux's `layout_sections()`.
//!
//! Allocated sections are gathered into groups by their flags, in Linux's
//! order — text (ALLOC|EXECINSTR), read-only data (ALLOC, not WRITE),
//! read-only-after-init (`.data..ro_after_init`), data (ALLOC|WRITE,
//! including NOBITS `.bss`) — once for the *core* region and once for the
//! *init* region (sections whose names start with `.init`, freed after a
//! successful `init_module`). Within a group each section starts at the next
//! multiple of its `sh_addralign` (Linux's `get_offset`). Each group starts
//! on a page boundary, so the kernel can give every group its own page
//! permissions (W^X: text RX, rodata R, data RW; Linux's
//! CONFIG_STRICT_MODULE_RWX does the same).
//!
//! `.modinfo` and `__versions` are never loaded (Linux clears their
//! SHF_ALLOC in `rewrite_section_headers`), nor is any non-ALLOC section —
//! section groups (SHT_GROUP, for COMDAT) included: within one module there
//! is nothing to de-duplicate. Merged-string sections (SHF_MERGE|STRINGS)
//! load as they are, as in Linux. `.ARM.exidx*` / `.ARM.extab*` are
//! allocated read-only data and land in the core rodata group (also for
//! `.ARM.exidx.init.text`, whose name does not start with `.init`, as in
//! Linux); their PREL31 words are relocated like any other.
//!
//! Two areas are Kobold's own: the PLT of each region, at the end of its
//! text group (see [`Plt`]), and the SHN_COMMON symbols of `-fcommon`
//! objects, after the core data (Linux refuses those: "please compile with
//! -fno-common").
//!
//! Bounds: a region must fit in the module window
//! ([`MODULE_WINDOW`], `PAGE_OFFSET - MODULES_VADDR` = 16 MB: Linux's
//! `module_alloc` could never place more), otherwise the module is refused
//! here ([`ModuleLayoutError::RegionTooLarge`]) rather than when an allocation of
//! gigabytes fails (or, for `modlink`, succeeds). The tables a [`ModuleLayout`]
//! holds are reserved fallibly ([`ModuleLayoutError::NoMemory`]) and sized by the
//! file. The PLT keys of each region are a sorted, de-duplicated vector
//! (not a set: a set allocates per insertion, infallibly), which the linker
//! binary-searches for a branch's veneer; [`ModuleLayout::commons`] is sorted by
//! symbol index for the same reason.

use crate::elf::{Module, Section};
use crate::relocate;
use crate::try_vec;
use alloc::vec::Vec;
use kobold_layout::{MODULES_VADDR, PAGE_OFFSET, PAGE_SIZE};

/// The module window's size, `PAGE_OFFSET - MODULES_VADDR` (16 MB): no
/// region larger than this can be allocated for a module. (With highmem
/// the window is 2 MB smaller, `MODULES_END = PAGE_OFFSET - PMD_SIZE`;
/// the kernel's allocator refuses a 14-16 MB region then.)
pub const MODULE_WINDOW: u32 = PAGE_OFFSET - MODULES_VADDR;

const SHF_WRITE: u32 = 0x1;
const SHF_EXECINSTR: u32 = 0x4;

/// The permission groups, in layout order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Text,
    Rodata,
    RoAfterInit,
    Data,
}

impl Group {
    pub const ALL: [Group; 4] = [Group::Text, Group::Rodata, Group::RoAfterInit, Group::Data];

    fn of(s: &Section<'_>) -> Group {
        if s.flags & SHF_EXECINSTR != 0 {
            Group::Text
        } else if crate::name_is(s.name, ".data..ro_after_init") {
            Group::RoAfterInit
        } else if s.flags & SHF_WRITE == 0 {
            Group::Rodata
        } else {
            Group::Data
        }
    }
}

/// Core (kept while loaded) or init (freed after init).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Core,
    Init,
}

/// A section's place: region, group, offset from the region's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub region: Region,
    pub group: Group,
    pub offset: u32,
    pub size: u32,
}

/// A region's PLT: veneers for branches that cannot reach their target
/// directly (Linux's ARM_MODULE_PLTS `.plt` / `.init.plt`), placed at the
/// end of the region's text. Each entry is 8 bytes: one load of the PC and
/// its literal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plt {
    /// Offset from the region's start.
    pub offset: u32,
    /// Entries reserved: one per distinct (instruction set, symbol, addend)
    /// among the region's branch relocations, so the PLT can never overflow.
    pub entries: u32,
}

/// What a PLT veneer is for: (Thumb caller, symbol index, branch addend).
/// Entry `i` of a region's PLT serves the `i`-th key of
/// [`ModuleLayout::plt_keys`]; equal keys always mean the same destination.
pub type PltKey = (bool, u32, i32);

/// Size of a PLT entry.
pub const PLT_ENTRY_SIZE: u32 = 8;

/// The plan for one module: where each section goes in its core and init
/// regions (what later Linux calls `struct module_layout`; the kernel's
/// memory map is kobold-layout's `Layout`, a different thing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleLayout {
    /// Indexed by section index; `None` for sections not loaded.
    pub placements: Vec<Option<Placement>>,
    /// Where each SHN_COMMON symbol went: (symbol index, offset in the
    /// core region), after the core data sections, aligned as its st_value
    /// asks (what `ld` does with `-fcommon` tentative definitions). Sorted
    /// by symbol index (see [`ModuleLayout::common_offset`]).
    pub commons: Vec<(u32, u32)>,
    /// The PLT of the core and of the init region.
    pub plt: [Plt; 2],
    /// The keys of each region's PLT entries, sorted and distinct
    /// (`plt[r].entries == plt_keys[r].len()`).
    pub plt_keys: [Vec<PltKey>; 2],
    /// Bytes of each region (a multiple of the page size).
    pub core_size: u32,
    pub init_size: u32,
    /// `[start, end)` offsets of each non-empty group, per region.
    pub groups: Vec<(Region, Group, u32, u32)>,
}

/// Why a layout is impossible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleLayoutError {
    /// An allocation failed (the kernel's -ENOMEM).
    NoMemory,
    /// `sh_addralign` is not a power of two (or above a page).
    BadAlign { section: u32, align: u32 },
    /// The module would not fit in 32 bits.
    TooBig,
    /// A region (page-rounded `size` bytes) larger than the module window.
    RegionTooLarge { region: Region, size: u32 },
}

impl core::fmt::Display for ModuleLayoutError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ModuleLayoutError::BadAlign { section, align } => {
                write!(
                    f,
                    "section {section}: alignment {align} is not a power of two up to 4096"
                )
            }
            ModuleLayoutError::NoMemory => write!(f, "out of memory"),
            ModuleLayoutError::TooBig => write!(f, "module too large (over 4 GB)"),
            ModuleLayoutError::RegionTooLarge { region, size } => write!(
                f,
                "module too large: {} region of {size} bytes exceeds the {MODULE_WINDOW}-byte module window",
                match region {
                    Region::Core => "core",
                    Region::Init => "init",
                }
            ),
        }
    }
}

fn loaded(s: &Section<'_>) -> bool {
    s.is_alloc() && !crate::name_is(s.name, ".modinfo") && !crate::name_is(s.name, "__versions")
}

impl ModuleLayout {
    /// The PLT of `region`.
    pub fn plt(&self, region: Region) -> Plt {
        self.plt[region as usize]
    }

    /// The index of the PLT entry of `region` reserved for `key`, if any
    /// (a binary search).
    pub fn plt_index(&self, region: Region, key: PltKey) -> Option<u32> {
        let i = self.plt_keys[region as usize].binary_search(&key).ok()? as u32;
        (i < self.plt(region).entries).then_some(i)
    }

    /// Where SHN_COMMON symbol `symbol` went (offset in the core region),
    /// by binary search.
    pub fn common_offset(&self, symbol: u32) -> Option<u32> {
        let i = self
            .commons
            .binary_search_by_key(&symbol, |&(s, _)| s)
            .ok()?;
        self.commons.get(i).map(|&(_, o)| o)
    }

    /// The size of `region`.
    pub fn size(&self, region: Region) -> u32 {
        match region {
            Region::Core => self.core_size,
            Region::Init => self.init_size,
        }
    }

    /// Whether the `len` bytes at address `addr` lie inside one writable
    /// (`Data`: .data, .bss, COMMON) group of a region, given the regions'
    /// bases; `Some((region, offset from that region's base))` if so. Text,
    /// rodata, ro-after-init, padding between groups and anything outside
    /// the module are not.
    pub fn writable(
        &self,
        addr: u32,
        len: u32,
        core_base: u32,
        init_base: u32,
    ) -> Option<(Region, u32)> {
        self.groups
            .iter()
            .filter(|g| g.1 == Group::Data)
            .find_map(|&(region, _, start, end)| {
                let base = match region {
                    Region::Core => core_base,
                    Region::Init => init_base,
                };
                let off = addr.checked_sub(base)?;
                let last = off.checked_add(len)?;
                (off >= start && last <= end).then_some((region, off))
            })
    }
}

fn region_of(s: &Section<'_>) -> Option<Region> {
    if !loaded(s) {
        None
    } else if crate::name_starts(s.name, ".init") {
        Some(Region::Init)
    } else {
        Some(Region::Core)
    }
}

/// Calls `f(region, key)` for every branch relocation of a loaded section.
fn each_branch(m: &Module<'_>, mut f: impl FnMut(Region, PltKey)) {
    for (_, target, rels) in &m.relocations {
        let Some(sec) = m.sections.get(*target as usize) else {
            continue;
        };
        let (Some(region), Some(data)) = (region_of(sec), sec.data) else {
            continue;
        };
        for r in rels {
            let at = r.offset as usize;
            let Some(place) = at.checked_add(4).and_then(|end| data.get(at..end)) else {
                continue;
            };
            if let Some(addend) = crate::relocate::branch_addend(r.r_type, place) {
                let thumb = matches!(
                    r.r_type,
                    relocate::R_ARM_THM_CALL | relocate::R_ARM_THM_JUMP24
                );
                f(region, (thumb, r.symbol, addend));
            }
        }
    }
}

/// The PLT keys of each region (Linux's `count_plts`, which also sorts and
/// skips duplicates): collected into vectors reserved for the number of
/// branch relocations, sorted, de-duplicated.
fn plt_keys(m: &Module<'_>) -> Result<[Vec<PltKey>; 2], ModuleLayoutError> {
    let mut counts = [0usize; 2];
    each_branch(m, |r, _| counts[r as usize] += 1);
    let mut keys = [
        try_vec(counts[0]).ok_or(ModuleLayoutError::NoMemory)?,
        try_vec(counts[1]).ok_or(ModuleLayoutError::NoMemory)?,
    ];
    each_branch(m, |r, k| {
        let v: &mut Vec<PltKey> = &mut keys[r as usize];
        if v.len() < v.capacity() {
            v.push(k);
        }
    });
    for v in &mut keys {
        v.sort_unstable();
        v.dedup();
    }
    Ok(keys)
}

/// How many sections [`layout`] orders by (region, group) on the stack
/// (a section's index must fit a `u8`); a module with more takes the
/// classification as a heap vector and one pass per (region, group).
const STACK_SECTIONS: usize = 64;

/// The (region, group) pairs, `region * 4 + group`; [`UNLOADED`] is a
/// section neither region holds.
const KINDS: usize = 8;
const UNLOADED: u8 = KINDS as u8;

fn kind_code(s: &Section<'_>) -> u8 {
    region_of(s).map_or(UNLOADED, |r| r as u8 * 4 + Group::of(s) as u8)
}

/// Places section `s` at the next multiple of its alignment from `cursor`.
fn place(
    s: &Section<'_>,
    region: Region,
    group: Group,
    cursor: &mut u32,
    placements: &mut [Option<Placement>],
) -> Result<(), ModuleLayoutError> {
    let align = s.align.max(1);
    if !align.is_power_of_two() || align > PAGE_SIZE {
        return Err(ModuleLayoutError::BadAlign {
            section: s.index,
            align: s.align,
        });
    }
    let offset = cursor
        .checked_next_multiple_of(align)
        .ok_or(ModuleLayoutError::TooBig)?;
    *cursor = offset
        .checked_add(s.size)
        .ok_or(ModuleLayoutError::TooBig)?;
    if let Some(slot) = placements.get_mut(s.index as usize) {
        *slot = Some(Placement {
            region,
            group,
            offset,
            size: s.size,
        });
    }
    Ok(())
}

/// Lays out the allocated sections of `m`.
pub fn layout(m: &Module<'_>) -> Result<ModuleLayout, ModuleLayoutError> {
    layout_with(m, STACK_SECTIONS)
}

/// [`layout`], ordering the sections on the stack when there are at most
/// `stack_limit` of them (at most [`STACK_SECTIONS`]); a host test lays the
/// same modules out both ways.
fn layout_with(m: &Module<'_>, stack_limit: usize) -> Result<ModuleLayout, ModuleLayoutError> {
    let mut placements = try_vec(m.sections.len()).ok_or(ModuleLayoutError::NoMemory)?;
    placements.resize(m.sections.len(), None);
    // At most one per (region, group).
    let mut groups = try_vec(2 * Group::ALL.len()).ok_or(ModuleLayoutError::NoMemory)?;
    let mut sizes = [0u32; 2];
    let plt_keys = plt_keys(m)?;
    let plt_entries = [plt_keys[0].len() as u32, plt_keys[1].len() as u32];
    let mut plt = [Plt::default(); 2];
    let ncommons = m.symbols.iter().filter(|s| s.is_common()).count();
    let mut commons = try_vec(ncommons).ok_or(ModuleLayoutError::NoMemory)?;
    // Each section's region and group, worked out once (classifying a
    // section compares its name). Up to STACK_SECTIONS sections, a
    // counting sort on the stack lists each (region, group)'s sections in
    // index order, so each section is visited once; beyond, the loop below
    // visits every section for each of the 8 (region, group) pairs.
    let n = m.sections.len();
    let sorted = n <= stack_limit.min(STACK_SECTIONS);
    let mut order = [0u8; STACK_SECTIONS];
    let mut starts = [0usize; KINDS + 2];
    let mut kinds = Vec::new();
    if sorted {
        let mut codes = [UNLOADED; STACK_SECTIONS];
        for (code, s) in codes.iter_mut().zip(&m.sections) {
            *code = kind_code(s);
            if let Some(c) = starts.get_mut(*code as usize + 2) {
                *c += 1;
            }
        }
        // starts[k + 1] is where kind k's sections begin in `order` while
        // they are filled in; afterwards starts[k]..starts[k + 1] holds
        // them.
        for k in 2..starts.len() {
            starts[k] += starts[k - 1];
        }
        for (i, &code) in codes.iter().enumerate().take(n) {
            if let Some(at) = starts.get_mut(code as usize + 1) {
                if let Some(slot) = order.get_mut(*at) {
                    *slot = i as u8;
                }
                *at += 1;
            }
        }
    } else {
        kinds = try_vec(n).ok_or(ModuleLayoutError::NoMemory)?;
        kinds.extend(
            m.sections
                .iter()
                .map(|s| region_of(s).map(|r| (r, Group::of(s)))),
        );
    }
    for (ri, region) in [Region::Core, Region::Init].into_iter().enumerate() {
        let mut cursor = 0u32;
        for group in Group::ALL {
            let start = cursor;
            if sorted {
                let k = ri * 4 + group as usize;
                let (from, to) = (starts[k], starts[k + 1]);
                for &i in order.get(from..to).unwrap_or(&[]) {
                    if let Some(s) = m.sections.get(i as usize) {
                        place(s, region, group, &mut cursor, &mut placements)?;
                    }
                }
            } else {
                for (s, kind) in m.sections.iter().zip(&kinds) {
                    if *kind == Some((region, group)) {
                        place(s, region, group, &mut cursor, &mut placements)?;
                    }
                }
            }
            if group == Group::Text && plt_entries[ri] > 0 {
                let offset = cursor
                    .checked_next_multiple_of(PLT_ENTRY_SIZE)
                    .ok_or(ModuleLayoutError::TooBig)?;
                let size = plt_entries[ri]
                    .checked_mul(PLT_ENTRY_SIZE)
                    .ok_or(ModuleLayoutError::TooBig)?;
                plt[ri] = Plt {
                    offset,
                    entries: plt_entries[ri],
                };
                cursor = offset.checked_add(size).ok_or(ModuleLayoutError::TooBig)?;
            }
            if group == Group::Data && region == Region::Core {
                for (i, sym) in m.symbols.iter().enumerate() {
                    if sym.is_common() {
                        // The validator checked the alignment.
                        let offset = cursor
                            .checked_next_multiple_of(sym.value.max(1))
                            .ok_or(ModuleLayoutError::TooBig)?;
                        cursor = offset
                            .checked_add(sym.size)
                            .ok_or(ModuleLayoutError::TooBig)?;
                        // Within capacity (counted above); in symbol order.
                        commons.push((i as u32, offset));
                    }
                }
            }
            if cursor > start {
                groups.push((region, group, start, cursor));
                cursor = cursor
                    .checked_next_multiple_of(PAGE_SIZE)
                    .ok_or(ModuleLayoutError::TooBig)?;
            }
        }
        if cursor > MODULE_WINDOW {
            return Err(ModuleLayoutError::RegionTooLarge {
                region,
                size: cursor,
            });
        }
        sizes[ri] = cursor;
    }
    Ok(ModuleLayout {
        placements,
        commons,
        plt,
        plt_keys,
        core_size: sizes[0],
        init_size: sizes[1],
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sec(index: u32, name: &'static str, flags: u32, size: u32, align: u32) -> Section<'static> {
        Section {
            index,
            name,
            sh_type: 1,
            flags,
            size,
            align,
            link: 0,
            info: 0,
            data: None,
        }
    }

    /// The sections GCC emits for a typical module.
    fn module() -> Module<'static> {
        const A: u32 = 0x2;
        Module {
            sections: vec![
                sec(0, "", 0, 0, 0),
                sec(1, ".text", A | 0x4, 100, 4),
                sec(2, ".init.text", A | 0x4, 30, 4),
                sec(3, ".rodata.str1.4", A | 0x30, 17, 4),
                sec(4, ".data", A | 0x1, 8, 8),
                sec(5, ".bss", A | 0x1, 64, 32),
                sec(6, ".modinfo", A, 40, 1),
                sec(7, ".ARM.exidx", A | 0x80, 16, 4),
                sec(8, ".comment", 0x30, 20, 1),
                sec(9, ".exit.text", A | 0x4, 12, 4),
                sec(10, ".init.data", A | 0x1, 4, 4),
                sec(11, ".data..ro_after_init", A | 0x1, 4, 4),
            ],
            symbols: vec![],
            relocations: vec![],
            modinfo: vec![],
        }
    }

    #[test]
    fn groups_in_linux_order_page_aligned() {
        let l = layout(&module()).unwrap();
        let p = |i: usize| l.placements[i].unwrap();
        // Core text: .text then .exit.text (kept: modules can be unloaded).
        assert_eq!(
            (p(1).region, p(1).group, p(1).offset),
            (Region::Core, Group::Text, 0)
        );
        assert_eq!(p(9).offset, 100);
        // Rodata on the next page: .rodata.str1.4 then .ARM.exidx.
        assert_eq!((p(3).group, p(3).offset), (Group::Rodata, 0x1000));
        assert_eq!(p(7).offset, 0x1000 + 20);
        assert_eq!((p(11).group, p(11).offset), (Group::RoAfterInit, 0x2000));
        // Data: .data, then .bss aligned to 32.
        assert_eq!((p(4).group, p(4).offset), (Group::Data, 0x3000));
        assert_eq!(p(5).offset, 0x3020);
        assert_eq!(l.core_size, 0x4000);
        // Init region: its own text and data pages.
        assert_eq!((p(2).region, p(2).offset), (Region::Init, 0));
        assert_eq!(
            (p(10).region, p(10).group, p(10).offset),
            (Region::Init, Group::Data, 0x1000)
        );
        assert_eq!(l.init_size, 0x2000);
        // Never loaded.
        assert!(l.placements[6].is_none(), ".modinfo");
        assert!(l.placements[8].is_none(), "non-ALLOC .comment");
        assert!(l.placements[0].is_none());
        assert_eq!(l.groups.len(), 6);
    }

    #[test]
    fn bad_alignment_is_refused() {
        let mut m = module();
        m.sections[1].align = 3;
        assert_eq!(
            layout(&m).unwrap_err(),
            ModuleLayoutError::BadAlign {
                section: 1,
                align: 3
            }
        );
        m.sections[1].align = 8192;
        assert_eq!(
            layout(&m).unwrap_err(),
            ModuleLayoutError::BadAlign {
                section: 1,
                align: 8192
            }
        );
        m.sections[1].align = 4;
        m.sections[4].size = u32::MAX;
        assert_eq!(layout(&m).unwrap_err(), ModuleLayoutError::TooBig);
    }

    /// A module of `n` sections of every kind, in a scrambled order.
    fn many(n: u32) -> Module<'static> {
        const A: u32 = 0x2;
        let kinds: [(&'static str, u32); 9] = [
            (".text", A | 0x4),
            (".init.text", A | 0x4),
            (".rodata", A),
            (".data", A | 0x1),
            (".modinfo", A),
            (".init.data", A | 0x1),
            (".data..ro_after_init", A | 0x1),
            (".comment", 0x30),
            (".init.rodata", A),
        ];
        let mut sections = vec![sec(0, "", 0, 0, 0)];
        for i in 1..n {
            let (name, flags) = kinds[(i as usize * 7) % kinds.len()];
            sections.push(sec(i, name, flags, 3 + i % 13, 1 << (i % 4)));
        }
        Module {
            sections,
            symbols: vec![],
            relocations: vec![],
            modinfo: vec![],
        }
    }

    /// The counting sort on the stack lays every module out as the pass
    /// per (region, group) does: same placements, groups and sizes, same
    /// errors; a module with more sections than the stack holds takes the
    /// passes.
    #[test]
    fn sorted_and_passes_agree() {
        let mut modules = vec![module(), many(2), many(20), many(STACK_SECTIONS as u32)];
        let mut bad = module();
        bad.sections[4].align = 3;
        modules.push(bad);
        let mut big = module();
        big.sections[5].size = u32::MAX;
        modules.push(big);
        for m in &modules {
            assert!(m.sections.len() <= STACK_SECTIONS);
            assert_eq!(layout_with(m, STACK_SECTIONS), layout_with(m, 0));
            assert_eq!(layout(m), layout_with(m, 0));
        }
        let m = many(STACK_SECTIONS as u32 + 9);
        let l = layout(&m).unwrap();
        assert_eq!(l, layout_with(&m, 0).unwrap());
        // Each (region, group) in section order.
        for w in m.sections.windows(2) {
            let (Some(a), Some(b)) = (
                l.placements[w[0].index as usize],
                l.placements[w[1].index as usize],
            ) else {
                continue;
            };
            if (a.region, a.group) == (b.region, b.group) {
                assert!(a.offset < b.offset);
            }
        }
    }

    #[test]
    fn lays_out_a_real_object() {
        // The validated fixture from elf.rs's tests goes through as well.
        let m = crate::elf::tests_support::module_bytes();
        let v = crate::validate(&m).unwrap();
        let l = layout(&v).unwrap();
        let text = v.section_by_name(".text").unwrap().index as usize;
        assert_eq!(l.placements[text].unwrap().offset, 0);
        let mi = v.section_by_name(".modinfo").unwrap().index as usize;
        assert!(l.placements[mi].is_none());
        assert_eq!(l.core_size % 4096, 0);
    }
}
