//! The lowmem/highmem split: arch/arm/mm/mmu.c `sanity_check_meminfo`,
//! memblock version (3.16 to 4.0), and everything that follows from it.
//!
//! # The rule
//!
//! Lowmem is the RAM the kernel keeps permanently mapped, linearly, from
//! `PAGE_OFFSET` up. Its end in virtual space may not pass `vmalloc_min`
//! (0xef800000 by default, or what `vmalloc=` asked for), so its end in
//! physical space may not pass
//!
//! ```text
//! vmalloc_limit = __pa(vmalloc_min - 1) + 1      (0x8f800000 by default)
//! ```
//!
//! (`__pa` is defined only for addresses inside the linear map.
//! `vmalloc_min` itself is not one, but the byte before it is, hence the
//! `- 1` and `+ 1`; `high_memory` below is computed the same way.) Then,
//! for each RAM region in address order:
//!
//! * A region that starts at or above `vmalloc_limit` is highmem, and so is
//!   every region after it (Linux's `highmem` flag is never cleared).
//! * Without `CONFIG_HIGHMEM` highmem cannot be used: such a region is
//!   removed with `Ignoring RAM at <start>-<end> (!CONFIG_HIGHMEM)`, and a
//!   region that straddles `vmalloc_limit` loses its top with `Truncating
//!   RAM at <start>-<end> to -<vmalloc_limit>`. Both print the region as
//!   `[start, end)`, with `%pa` (`0x` and 8 hex digits).
//! * With `CONFIG_HIGHMEM` a straddling region is kept whole; Kobold
//!   reports it as a lowmem part below `vmalloc_limit` and a highmem part
//!   above, which is how Linux's zones end up dividing it.
//! * `arm_lowmem_limit`, the physical end of lowmem, is the highest lowmem
//!   end: `vmalloc_limit` for a straddling region, the region's end
//!   otherwise. It is not rounded.
//!
//! From it:
//!
//! * `high_memory = __va(arm_lowmem_limit - 1) + 1`, the virtual end of
//!   lowmem;
//! * `VMALLOC_START = (high_memory + VMALLOC_OFFSET) & ~(VMALLOC_OFFSET - 1)`
//!   (pgtable.h): the next 8 MiB boundary strictly above `high_memory`, so
//!   the hole between the two is between 1 byte and 8 MiB. The hole catches
//!   overruns of the linear map;
//! * `memblock_limit`, the highest address early allocations may use, is
//!   the first lowmem region start or end that is not 1 MiB aligned,
//!   rounded down to 1 MiB. Early allocations then stay inside the
//!   section-mapped part of lowmem. An unaligned end uses
//!   `arm_lowmem_limit` as the value to round. If every boundary is
//!   aligned, the limit is `arm_lowmem_limit` itself, unrounded. (4.1
//!   switched to 2 MiB rounding; this is the 3.16-4.0 rule.)
//!
//! # What Kobold does before the rule
//!
//! Linux feeds the rule from memblock, which `arm_add_memory` fills from the
//! ATAGs or the DTB. memblock keeps regions sorted and merges touching ones,
//! so [`sanity_check_meminfo`] does the same with its input: banks may come
//! in any order, and `0x60000000+512M` and `0x80000000+512M` behave as one
//! 1 GiB region (one `Truncating` notice, not an `Ignoring` one).
//!
//! Where Linux would quietly fix or ignore a bad bank, this crate returns a
//! [`LayoutError`] instead: Kobold only runs on vexpress-a9, where such a
//! bank means the boot parameters are broken. That covers empty, unaligned
//! and overlapping banks, banks below `PHYS_OFFSET` (`arm_add_memory`
//! ignores those), and banks reaching past 4 GiB (it truncates those). It
//! also covers a layout with no lowmem at all, where Linux would compute a
//! bogus `high_memory` and die.

use crate::constants::{
    FIXADDR_START, FIXADDR_TOP, LAST_PKMAP, MODULES_VADDR, PAGE_SIZE, PHYS_OFFSET, PKMAP_BASE,
    SECTION_SIZE, VECTORS_BASE, VMALLOC_END, VMALLOC_MIN_DEFAULT, VMALLOC_OFFSET,
    VMALLOC_RESERVE_MAX, VMALLOC_RESERVE_MIN, modules_end, phys_to_virt, virt_to_phys,
};
use crate::memparse::ParseError;
use crate::vmalloc::{VmallocArg, VmallocWarning, early_vmalloc};
use core::fmt;

/// The most RAM banks the input may describe. Linux's pre-3.16 meminfo
/// allowed `NR_BANKS` = 8; vexpress-a9 has one.
pub const MAX_BANKS: usize = 8;

/// The most notices a [`Layout`] can hold: one `vmalloc=` warning plus one
/// notice per bank.
pub const MAX_NOTICES: usize = MAX_BANKS + 1;

/// A range of physical RAM, `[base, base + size)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemRegion {
    /// Physical start address.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
}

impl MemRegion {
    /// A region of `size` bytes at physical address `base`.
    pub const fn new(base: u64, size: u64) -> Self {
        MemRegion { base, size }
    }

    /// The physical end address, exclusive. It saturates rather than wraps
    /// for nonsense input; every region a [`Layout`] holds ends below 4 GiB.
    pub const fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }
}

/// A message Linux prints while it sets up the layout, in the order it
/// prints them.
///
/// `Display` gives Linux's text exactly, without the newline; the caller
/// adds the printk level and timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// `vmalloc=` was clamped (early_vmalloc's `pr_warn`). Linux parses
    /// early parameters before the split, so this comes first.
    Vmalloc(VmallocWarning),
    /// Without `CONFIG_HIGHMEM`, a region wholly above the lowmem limit was
    /// removed: `Ignoring RAM at %pa-%pa (!CONFIG_HIGHMEM)` (`pr_notice`).
    IgnoringRam {
        /// Physical start of the region.
        start: u64,
        /// Physical end of the region, exclusive.
        end: u64,
    },
    /// Without `CONFIG_HIGHMEM`, the part of a region above the lowmem
    /// limit was removed: `Truncating RAM at %pa-%pa to -%pa`
    /// (`pr_notice`).
    TruncatingRam {
        /// Physical start of the region.
        start: u64,
        /// Physical end of the region before truncation, exclusive.
        end: u64,
        /// The new end, `vmalloc_limit`.
        limit: u64,
    },
}

impl Notice {
    /// Whether Linux prints this at warning level (`pr_warn`) rather than
    /// notice level (`pr_notice`).
    pub const fn is_warning(&self) -> bool {
        matches!(self, Notice::Vmalloc(_))
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // %pa of a 32-bit phys_addr_t is "0x" and 8 lowercase hex digits;
        // every address here is below 4 GiB.
        match self {
            Notice::Vmalloc(warning) => warning.fmt(f),
            Notice::IgnoringRam { start, end } => {
                write!(
                    f,
                    "Ignoring RAM at {start:#010x}-{end:#010x} (!CONFIG_HIGHMEM)"
                )
            }
            Notice::TruncatingRam { start, end, limit } => {
                write!(
                    f,
                    "Truncating RAM at {start:#010x}-{end:#010x} to -{limit:#010x}"
                )
            }
        }
    }
}

/// Why no layout could be computed. Each variant names the bad input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// The boot parameters describe no RAM at all.
    NoRam,
    /// More than [`MAX_BANKS`] RAM banks were given.
    TooManyBanks {
        /// How many were given.
        count: usize,
    },
    /// A bank of size 0.
    EmptyRegion {
        /// Its base address.
        base: u64,
    },
    /// A bank whose base or size is not a multiple of the page size
    /// (`arm_add_memory` would round it inwards).
    UnalignedRegion {
        /// Its base address.
        base: u64,
        /// Its size.
        size: u64,
    },
    /// A bank that starts below [`PHYS_OFFSET`], where the linear map
    /// cannot reach (`arm_add_memory` would ignore or trim it).
    BelowPhysOffset {
        /// Its base address.
        base: u64,
    },
    /// A bank that does not end below 4 GiB, so its end does not fit a
    /// 32-bit `phys_addr_t` (`arm_add_memory` would truncate it).
    BeyondAddressSpace {
        /// Its base address.
        base: u64,
        /// Its size.
        size: u64,
    },
    /// Two banks overlap (memblock would merge them).
    Overlap {
        /// The lower of the two.
        first: MemRegion,
        /// The higher of the two.
        second: MemRegion,
    },
    /// The `vmalloc_min` given to [`sanity_check_meminfo`] is not one that
    /// the default or `vmalloc=` can produce (between
    /// `VMALLOC_END - VMALLOC_RESERVE_MAX` and
    /// `VMALLOC_END - VMALLOC_RESERVE_MIN`).
    VmallocMinOutOfRange {
        /// The value given.
        vmalloc_min: u32,
    },
    /// The `vmalloc=` argument is not a size.
    Vmalloc(ParseError),
    /// All RAM lies above the lowmem limit, so there is nothing to map at
    /// `PAGE_OFFSET` (and nowhere for the kernel to run).
    NoLowmem {
        /// The physical lowmem limit, `__pa(vmalloc_min - 1) + 1`.
        vmalloc_limit: u64,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::NoRam => f.write_str("no RAM: the boot parameters describe no memory"),
            LayoutError::TooManyBanks { count } => {
                write!(
                    f,
                    "{count} RAM banks, but at most {MAX_BANKS} are supported"
                )
            }
            LayoutError::EmptyRegion { base } => write!(f, "RAM bank at {base:#010x} is empty"),
            LayoutError::UnalignedRegion { base, size } => write!(
                f,
                "RAM bank at {base:#010x} (size {size:#x}) is not aligned to the {PAGE_SIZE}-byte page"
            ),
            LayoutError::BelowPhysOffset { base } => write!(
                f,
                "RAM bank at {base:#010x} starts below PHYS_OFFSET ({PHYS_OFFSET:#010x})"
            ),
            LayoutError::BeyondAddressSpace { base, size } => write!(
                f,
                "RAM bank at {base:#010x} (size {size:#x}) reaches past the 32-bit physical address space"
            ),
            LayoutError::Overlap { first, second } => write!(
                f,
                "RAM banks {:#010x}-{:#010x} and {:#010x}-{:#010x} overlap",
                first.base,
                first.end(),
                second.base,
                second.end()
            ),
            LayoutError::VmallocMinOutOfRange { vmalloc_min } => write!(
                f,
                "vmalloc_min {vmalloc_min:#010x} is outside {:#010x}..={:#010x}",
                VMALLOC_END - VMALLOC_RESERVE_MAX,
                VMALLOC_END - VMALLOC_RESERVE_MIN
            ),
            LayoutError::Vmalloc(e) => write!(f, "bad vmalloc= argument: {e}"),
            LayoutError::NoLowmem { vmalloc_limit } => write!(
                f,
                "no RAM below the lowmem limit {vmalloc_limit:#010x}: nothing to map at PAGE_OFFSET"
            ),
        }
    }
}

impl core::error::Error for LayoutError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            LayoutError::Vmalloc(e) => Some(e),
            _ => None,
        }
    }
}

/// Up to [`MAX_BANKS`] regions, sorted by address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RegionList {
    regions: [MemRegion; MAX_BANKS],
    len: usize,
}

impl RegionList {
    const EMPTY: RegionList = RegionList {
        regions: [MemRegion::new(0, 0); MAX_BANKS],
        len: 0,
    };

    fn as_slice(&self) -> &[MemRegion] {
        &self.regions[..self.len]
    }

    /// Appends a region. Callers push at most one region per input bank,
    /// and there are at most `MAX_BANKS` of those.
    fn push(&mut self, region: MemRegion) {
        self.regions[self.len] = region;
        self.len += 1;
    }

    fn total(&self) -> u64 {
        self.as_slice().iter().map(|r| r.size).sum()
    }
}

/// The complete virtual memory layout: what Linux 3.18 knows after
/// `sanity_check_meminfo`, and what `mem_init` prints.
///
/// Built only by [`compute`] or [`sanity_check_meminfo`], so its values are
/// always consistent with each other. Virtual addresses are `u32`, physical
/// ones `u64`; ranges are `(start, end)` with `end` exclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    highmem: bool,
    lowmem_regions: RegionList,
    highmem_regions: RegionList,
    removed_bytes: u64,
    vmalloc_min: u32,
    vmalloc_limit: u64,
    arm_lowmem_limit: u64,
    memblock_limit: u64,
    high_memory: u32,
    vmalloc_start: u32,
    vmalloc_warning: Option<VmallocWarning>,
    notices: [Notice; MAX_NOTICES],
    notice_count: usize,
}

impl Layout {
    /// Whether the layout was computed for a kernel with `CONFIG_HIGHMEM`.
    pub const fn highmem(&self) -> bool {
        self.highmem
    }

    /// The RAM that is linearly mapped at `PAGE_OFFSET`, sorted, after
    /// removals and truncations.
    pub fn lowmem_regions(&self) -> &[MemRegion] {
        self.lowmem_regions.as_slice()
    }

    /// The RAM above the lowmem limit, sorted. Always empty without
    /// `CONFIG_HIGHMEM`, because that RAM is removed instead.
    pub fn highmem_regions(&self) -> &[MemRegion] {
        self.highmem_regions.as_slice()
    }

    /// Bytes of lowmem RAM (the sum of [`Layout::lowmem_regions`]).
    pub fn lowmem_bytes(&self) -> u64 {
        self.lowmem_regions.total()
    }

    /// Bytes of highmem RAM (the sum of [`Layout::highmem_regions`]).
    pub fn highmem_bytes(&self) -> u64 {
        self.highmem_regions.total()
    }

    /// Bytes of RAM the kernel keeps: lowmem plus highmem.
    pub fn total_bytes(&self) -> u64 {
        self.lowmem_bytes() + self.highmem_bytes()
    }

    /// Bytes of RAM removed by the `Ignoring` and `Truncating` notices.
    pub const fn removed_bytes(&self) -> u64 {
        self.removed_bytes
    }

    /// The lowest address the vmalloc area may start at: the default
    /// [`VMALLOC_MIN_DEFAULT`], or what `vmalloc=` asked for.
    pub const fn vmalloc_min(&self) -> u32 {
        self.vmalloc_min
    }

    /// The physical address lowmem may not pass,
    /// `__pa(vmalloc_min - 1) + 1`.
    pub const fn vmalloc_limit(&self) -> u64 {
        self.vmalloc_limit
    }

    /// Linux's `arm_lowmem_limit`: the physical end of lowmem, exclusive.
    pub const fn arm_lowmem_limit(&self) -> u64 {
        self.arm_lowmem_limit
    }

    /// Linux's `high_memory`: the virtual end of lowmem, exclusive,
    /// `__va(arm_lowmem_limit - 1) + 1`.
    pub const fn high_memory(&self) -> u32 {
        self.high_memory
    }

    /// The lowmem line of the layout: `(PAGE_OFFSET, high_memory)`.
    pub const fn lowmem(&self) -> (u32, u32) {
        (crate::constants::PAGE_OFFSET, self.high_memory)
    }

    /// `VMALLOC_START`: the 8 MiB boundary above `high_memory`.
    pub const fn vmalloc_start(&self) -> u32 {
        self.vmalloc_start
    }

    /// `VMALLOC_END`, fixed at 0xff000000 in 3.18.
    pub const fn vmalloc_end(&self) -> u32 {
        VMALLOC_END
    }

    /// The vmalloc area, `(VMALLOC_START, VMALLOC_END)`.
    pub const fn vmalloc(&self) -> (u32, u32) {
        (self.vmalloc_start, VMALLOC_END)
    }

    /// `MODULES_VADDR`, 0xbf000000.
    pub const fn modules_vaddr(&self) -> u32 {
        MODULES_VADDR
    }

    /// `MODULES_END`: 0xbfe00000 with `CONFIG_HIGHMEM`, else 0xc0000000.
    pub const fn modules_end(&self) -> u32 {
        modules_end(self.highmem)
    }

    /// The module area, `(MODULES_VADDR, MODULES_END)`.
    pub const fn modules(&self) -> (u32, u32) {
        (MODULES_VADDR, modules_end(self.highmem))
    }

    /// The pkmap area, `(PKMAP_BASE, PKMAP_BASE + LAST_PKMAP * PAGE_SIZE)`,
    /// which exists only with `CONFIG_HIGHMEM`.
    pub const fn pkmap(&self) -> Option<(u32, u32)> {
        if self.highmem {
            Some((PKMAP_BASE, PKMAP_BASE + LAST_PKMAP as u32 * PAGE_SIZE))
        } else {
            None
        }
    }

    /// The fixmap, `(FIXADDR_START, FIXADDR_TOP)`.
    pub const fn fixmap(&self) -> (u32, u32) {
        (FIXADDR_START, FIXADDR_TOP)
    }

    /// The vector page as `mem_init` reports it,
    /// `(VECTORS_BASE, VECTORS_BASE + PAGE_SIZE)`.
    pub const fn vector(&self) -> (u32, u32) {
        (VECTORS_BASE, VECTORS_BASE + PAGE_SIZE)
    }

    /// The physical address early (memblock) allocations must stay below,
    /// by the 3.16-4.0 rule described in the module documentation.
    pub const fn memblock_limit(&self) -> u64 {
        self.memblock_limit
    }

    /// The `vmalloc=` warning, if the argument had to be clamped. It is
    /// also the first of [`Layout::notices`].
    pub const fn vmalloc_warning(&self) -> Option<VmallocWarning> {
        self.vmalloc_warning
    }

    /// What Linux prints while computing this layout, in order: the
    /// `vmalloc=` warning, then the `Ignoring`/`Truncating` notices in
    /// address order. Print each with [`Notice::is_warning`] choosing the
    /// level.
    pub fn notices(&self) -> &[Notice] {
        &self.notices[..self.notice_count]
    }

    fn push_notice(&mut self, notice: Notice) {
        self.notices[self.notice_count] = notice;
        self.notice_count += 1;
    }
}

/// Computes the layout for the given RAM, as Linux 3.18 does at boot.
///
/// `regions` are the RAM banks from the ATAGs or the DTB, in any order.
/// `highmem` says whether the kernel has `CONFIG_HIGHMEM`.
/// `cmdline_vmalloc` is the text after `vmalloc=` on the command line, if
/// there is one (the last one, as Linux applies them in order). When given,
/// it goes through [`early_vmalloc`], and a clamping warning becomes the
/// first of [`Layout::notices`].
///
/// ```
/// use kobold_layout::{compute, MemRegion};
/// let ram = [MemRegion::new(0x6000_0000, 256 << 20)];
/// let layout = compute(&ram, true, None).unwrap();
/// assert_eq!(layout.high_memory(), 0xd000_0000);
/// assert_eq!(layout.vmalloc_start(), 0xd080_0000);
/// ```
///
/// # Errors
///
/// [`LayoutError::Vmalloc`] if the `vmalloc=` text is not a size, and the
/// errors of [`sanity_check_meminfo`].
pub fn compute(
    regions: &[MemRegion],
    highmem: bool,
    cmdline_vmalloc: Option<&str>,
) -> Result<Layout, LayoutError> {
    let vmalloc = match cmdline_vmalloc {
        Some(arg) => early_vmalloc(arg).map_err(LayoutError::Vmalloc)?,
        None => VmallocArg {
            vmalloc_min: VMALLOC_MIN_DEFAULT,
            warning: None,
        },
    };
    split(regions, highmem, vmalloc)
}

/// Splits RAM into lowmem and highmem for a given `vmalloc_min`, as Linux's
/// `sanity_check_meminfo` does, and derives the rest of the layout.
///
/// Use [`VMALLOC_MIN_DEFAULT`] or [`VmallocArg::vmalloc_min`] for
/// `vmalloc_min`. [`compute`] does that for you and also records the
/// `vmalloc=` warning.
///
/// # Errors
///
/// * [`LayoutError::NoRam`] and [`LayoutError::TooManyBanks`] for an empty
///   or too long `regions`.
/// * [`LayoutError::EmptyRegion`], [`LayoutError::UnalignedRegion`],
///   [`LayoutError::BelowPhysOffset`], [`LayoutError::BeyondAddressSpace`]
///   and [`LayoutError::Overlap`] for a bad bank.
/// * [`LayoutError::VmallocMinOutOfRange`] for a `vmalloc_min` neither the
///   default nor `vmalloc=` can produce.
/// * [`LayoutError::NoLowmem`] if all RAM lies above the lowmem limit.
pub fn sanity_check_meminfo(
    regions: &[MemRegion],
    highmem: bool,
    vmalloc_min: u32,
) -> Result<Layout, LayoutError> {
    split(
        regions,
        highmem,
        VmallocArg {
            vmalloc_min,
            warning: None,
        },
    )
}

/// `memblock_add` for each bank: validates the banks and fills `memory`
/// (empty on entry) with them sorted, touching ones merged, as memblock's
/// region array would hold them.
///
/// It fills the caller's list rather than returning one: moving the
/// 132-byte list out was some 45 instructions (two copies) that QEMU
/// translated for this one run at boot (docs/BENCHMARKS.md).
fn memblock_add_all(regions: &[MemRegion], memory: &mut RegionList) -> Result<(), LayoutError> {
    if regions.is_empty() {
        return Err(LayoutError::NoRam);
    }
    if regions.len() > MAX_BANKS {
        return Err(LayoutError::TooManyBanks {
            count: regions.len(),
        });
    }
    let page = u64::from(PAGE_SIZE);
    for &region in regions {
        let MemRegion { base, size } = region;
        if size == 0 {
            return Err(LayoutError::EmptyRegion { base });
        }
        if base % page != 0 || size % page != 0 {
            return Err(LayoutError::UnalignedRegion { base, size });
        }
        if base < u64::from(PHYS_OFFSET) {
            return Err(LayoutError::BelowPhysOffset { base });
        }
        // The end must fit a 32-bit phys_addr_t, as memblock computes it.
        if base
            .checked_add(size)
            .is_none_or(|end| end > u64::from(u32::MAX))
        {
            return Err(LayoutError::BeyondAddressSpace { base, size });
        }
        // Insertion sort: at most eight banks.
        let mut at = memory.len;
        while at > 0 && memory.regions[at - 1].base > base {
            memory.regions[at] = memory.regions[at - 1];
            at -= 1;
        }
        memory.regions[at] = region;
        memory.len += 1;
    }
    // memblock_merge_regions: a region that touches the next absorbs it.
    let mut i = 1;
    while i < memory.len {
        let (prev, next) = (memory.regions[i - 1], memory.regions[i]);
        if prev.end() > next.base {
            return Err(LayoutError::Overlap {
                first: prev,
                second: next,
            });
        }
        if prev.end() == next.base {
            memory.regions[i - 1].size += next.size;
            memory.regions.copy_within(i + 1..memory.len, i);
            memory.len -= 1;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// What [`split`] starts from: nothing computed yet.
static EMPTY_LAYOUT: Layout = Layout {
    highmem: false,
    lowmem_regions: RegionList::EMPTY,
    highmem_regions: RegionList::EMPTY,
    removed_bytes: 0,
    vmalloc_min: 0,
    vmalloc_limit: 0,
    arm_lowmem_limit: 0,
    memblock_limit: 0,
    high_memory: 0,
    vmalloc_start: 0,
    vmalloc_warning: None,
    notices: [Notice::IgnoringRam { start: 0, end: 0 }; MAX_NOTICES],
    notice_count: 0,
};

/// The body of [`compute`] and [`sanity_check_meminfo`]; the comments quote
/// the Linux code each step mirrors.
fn split(regions: &[MemRegion], highmem: bool, vmalloc: VmallocArg) -> Result<Layout, LayoutError> {
    let vmalloc_min = vmalloc.vmalloc_min;
    if !(VMALLOC_END - VMALLOC_RESERVE_MAX..=VMALLOC_END - VMALLOC_RESERVE_MIN)
        .contains(&vmalloc_min)
    {
        return Err(LayoutError::VmallocMinOutOfRange { vmalloc_min });
    }
    let mut memory = RegionList::EMPTY;
    memblock_add_all(regions, &mut memory)?;

    // Copied from a static, not built field by field: the empty arrays
    // were some 70 stores that QEMU translated for this one run at boot
    // (docs/BENCHMARKS.md, "Fifth pass").
    let mut layout = EMPTY_LAYOUT.clone();
    layout.highmem = highmem;
    layout.vmalloc_min = vmalloc_min;
    layout.vmalloc_warning = vmalloc.warning;
    if let Some(warning) = vmalloc.warning {
        layout.push_notice(Notice::Vmalloc(warning));
    }

    // phys_addr_t vmalloc_limit = __pa(vmalloc_min - 1) + 1;
    let vmalloc_limit = u64::from(virt_to_phys(vmalloc_min - 1)) + 1;
    let mut memblock_limit: u64 = 0;
    let mut arm_lowmem_limit: u64 = 0;
    let mut in_highmem = false;

    for reg in memory.as_slice() {
        let block_start = reg.base;
        let mut block_end = reg.end();
        let mut size_limit = reg.size;

        if reg.base >= vmalloc_limit {
            in_highmem = true;
        } else {
            size_limit = vmalloc_limit - reg.base;
        }

        // if (!IS_ENABLED(CONFIG_HIGHMEM) || cache_is_vipt_aliasing())
        // (the Cortex-A9's data cache is PIPT, so only the config matters).
        if !highmem {
            if in_highmem {
                layout.push_notice(Notice::IgnoringRam {
                    start: block_start,
                    end: block_end,
                });
                layout.removed_bytes += reg.size;
                continue;
            }
            if reg.size > size_limit {
                layout.push_notice(Notice::TruncatingRam {
                    start: block_start,
                    end: block_end,
                    limit: vmalloc_limit,
                });
                layout.removed_bytes += reg.size - size_limit;
                block_end = vmalloc_limit;
            }
        }

        if in_highmem {
            layout.highmem_regions.push(*reg);
            continue;
        }
        if highmem && reg.size > size_limit {
            // The region straddles the limit and is kept whole: its top
            // half becomes highmem.
            let low = vmalloc_limit - reg.base;
            layout.lowmem_regions.push(MemRegion::new(reg.base, low));
            layout
                .highmem_regions
                .push(MemRegion::new(vmalloc_limit, reg.size - low));
        } else {
            layout
                .lowmem_regions
                .push(MemRegion::new(block_start, block_end - block_start));
        }

        if block_end > arm_lowmem_limit {
            arm_lowmem_limit = if reg.size > size_limit {
                vmalloc_limit
            } else {
                block_end
            };
        }

        // Find the first non-section-aligned page, and point memblock_limit
        // at it (rounded down below).
        let section = u64::from(SECTION_SIZE);
        if memblock_limit == 0 {
            if block_start % section != 0 {
                memblock_limit = block_start;
            } else if block_end % section != 0 {
                memblock_limit = arm_lowmem_limit;
            }
        }
    }

    if arm_lowmem_limit == 0 {
        return Err(LayoutError::NoLowmem { vmalloc_limit });
    }

    // high_memory = __va(arm_lowmem_limit - 1) + 1; arm_lowmem_limit is at
    // most vmalloc_limit, which is below 4 GiB.
    let high_memory = phys_to_virt((arm_lowmem_limit - 1) as u32) + 1;
    // if (memblock_limit) memblock_limit = round_down(memblock_limit, SECTION_SIZE);
    // if (!memblock_limit) memblock_limit = arm_lowmem_limit;
    memblock_limit -= memblock_limit % u64::from(SECTION_SIZE);
    if memblock_limit == 0 {
        memblock_limit = arm_lowmem_limit;
    }

    layout.vmalloc_limit = vmalloc_limit;
    layout.arm_lowmem_limit = arm_lowmem_limit;
    layout.memblock_limit = memblock_limit;
    layout.high_memory = high_memory;
    // pgtable.h: VMALLOC_START = (high_memory + VMALLOC_OFFSET) & ~(VMALLOC_OFFSET-1).
    // high_memory <= vmalloc_min <= 0xfe000000, so this cannot overflow.
    layout.vmalloc_start = (high_memory + VMALLOC_OFFSET) & !(VMALLOC_OFFSET - 1);
    Ok(layout)
}
