//! What Linux 3.18 prints at the end of memory setup: the `Memory:` line
//! (mm/page_alloc.c `mem_init_print_info`) and the `Virtual kernel memory
//! layout:` block (arch/arm/mm/init.c `mem_init`).
//!
//! Boot logs are compared line by line with Linux's, so the formats are
//! reproduced character for character, including Linux's rounding:
//!
//! * Area lines use `MLK(b, t)` = `(t - b) >> 10` (kB) or `MLM(b, t)` =
//!   `(t - b) >> 20` (MB). Both truncate, so a 0.5 MiB area prints as
//!   `0 MB`.
//! * Kernel section lines use `MLK_ROUNDUP(b, t)` =
//!   `DIV_ROUND_UP(t - b, SZ_1K)`, rounding up: sections are rarely whole
//!   KiB, and this way a non-empty section never shows as 0 kB.
//! * Every `printf` directive maps onto a Rust one: `0x%08lx` and `0x%p`
//!   (32-bit, unhashed before 4.15) become `0x{:08x}`, and `%4ld`/`%4d`
//!   become `{:4}`. The names' `%-8s` and `%11s` are padded by hand, so
//!   both kinds of line share one format.
//!
//! Linux prints the block with one `printk`; Kobold yields it line by line
//! ([`Layout::virtual_layout_lines`]) so the kernel can print each line with
//! its own timestamp and no buffer, which is how the lines appear in
//! `dmesg` anyway.
//!
//! The `DTCM`/`ITCM` lines (`CONFIG_HAVE_TCM`) never appear: the Cortex-A9
//! has no TCM. The `modules` line always appears (`CONFIG_MODULES` is the
//! point of Kobold), and the `pkmap` line appears only with
//! `CONFIG_HIGHMEM`.

use crate::split::Layout;
use core::fmt;
use core::iter::FusedIterator;

/// The kernel image's sections as `mem_init` reports them, each as
/// `(start, end)` virtual addresses with `end` exclusive, i.e. Linux's
/// linker symbols.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelSections {
    /// `_text` .. `_etext`.
    pub text: (u32, u32),
    /// `__init_begin` .. `__init_end`.
    pub init: (u32, u32),
    /// `_sdata` .. `_edata`.
    pub data: (u32, u32),
    /// `__bss_start` .. `__bss_stop`.
    pub bss: (u32, u32),
}

/// The unit of an area line's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeUnit {
    /// `kB`, size `(end - start) >> 10` (`MLK`).
    Kilobytes,
    /// `MB`, size `(end - start) >> 20` (`MLM`).
    Megabytes,
}

impl SizeUnit {
    const fn shift(self) -> u32 {
        match self {
            SizeUnit::Kilobytes => 10,
            SizeUnit::Megabytes => 20,
        }
    }

    const fn symbol(self) -> &'static str {
        match self {
            SizeUnit::Kilobytes => "kB",
            SizeUnit::Megabytes => "MB",
        }
    }
}

/// One line of the `Virtual kernel memory layout:` block.
///
/// `Display` gives Linux's text exactly, without the newline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VirtualLayoutLine {
    /// `Virtual kernel memory layout:`.
    Header,
    /// An address-space area: `    vmalloc : 0xc4800000 - 0xff000000   ( 936 MB)`.
    Area {
        /// `vector`, `fixmap`, `vmalloc`, `lowmem`, `pkmap` or `modules`.
        name: &'static str,
        /// First address.
        start: u32,
        /// End address, exclusive.
        end: u32,
        /// The unit the size is printed in.
        unit: SizeUnit,
    },
    /// A kernel image section:
    /// `      .text : 0xc0008000 - 0xc05002f0   (5089 kB)`.
    Section {
        /// `.text`, `.init`, `.data` or `.bss`.
        name: &'static str,
        /// First address.
        start: u32,
        /// End address, exclusive.
        end: u32,
    },
}

impl VirtualLayoutLine {
    /// The size the line prints, in its unit (kB or MB).
    pub const fn size(&self) -> u32 {
        match *self {
            VirtualLayoutLine::Header => 0,
            VirtualLayoutLine::Area {
                start, end, unit, ..
            } => end.wrapping_sub(start) >> unit.shift(),
            VirtualLayoutLine::Section { start, end, .. } => end.wrapping_sub(start).div_ceil(1024),
        }
    }
}

impl fmt::Display for VirtualLayoutLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, start, end) = match *self {
            VirtualLayoutLine::Header => return f.write_str("Virtual kernel memory layout:"),
            VirtualLayoutLine::Area {
                name, start, end, ..
            }
            | VirtualLayoutLine::Section { name, start, end } => (name, start, end),
        };
        // "    vmalloc : 0x%08lx - 0x%08lx   (%4ld MB)": "    %-8s: "
        // "      .text : 0x%p - 0x%p   (%4d kB)": "%11s : "
        let (lead, trail, unit) = match *self {
            VirtualLayoutLine::Area { unit, .. } => ("    ", padding(8, name), unit.symbol()),
            _ => (padding(11, name), " ", "kB"),
        };
        // One format for both kinds of line, and the names padded here
        // rather than with `{:<8}`/`{:>11}`: core's padding of a `str` and
        // a second set of arguments were code that QEMU translated for
        // these lines alone (some 35 guest instructions more at boot).
        let size = self.size();
        write!(
            f,
            "{lead}{name}{trail}: 0x{start:08x} - 0x{end:08x}   ({size:4} {unit})"
        )
    }
}

/// The spaces that pad `name` to `width` columns, as C's `%-8s` (after
/// the name) or `%11s` (before it) does; none if the name is that wide.
fn padding(width: usize, name: &str) -> &'static str {
    const SPACES: &str = "           ";
    let n = width.saturating_sub(name.len()).min(SPACES.len());
    &SPACES[..n]
}

/// The lines after the header, in Linux's order: each area's name and
/// unit, or a kernel section's name and `None`.
const LINES: [(&str, Option<SizeUnit>); 10] = [
    ("vector", Some(SizeUnit::Kilobytes)),
    ("fixmap", Some(SizeUnit::Kilobytes)),
    ("vmalloc", Some(SizeUnit::Megabytes)),
    ("lowmem", Some(SizeUnit::Megabytes)),
    ("pkmap", Some(SizeUnit::Megabytes)),
    ("modules", Some(SizeUnit::Megabytes)),
    (".text", None),
    (".init", None),
    (".data", None),
    (".bss", None),
];

/// Where the `pkmap` line, printed only with `CONFIG_HIGHMEM`, is in
/// [`LINES`].
const PKMAP: usize = 4;

/// The lines of the `Virtual kernel memory layout:` block, in Linux's
/// order; made by [`Layout::virtual_layout_lines`].
///
/// It keeps only each line's addresses and makes the line when asked:
/// building all eleven lines up front was some 110 guest instructions more
/// for QEMU to translate at boot, most of them storing constants.
#[derive(Clone, Debug)]
pub struct VirtualLayoutLines {
    /// `(start, end)` of each of [`LINES`].
    ranges: [(u32, u32); LINES.len()],
    /// Whether the `pkmap` line is printed.
    highmem: bool,
    /// The next line: 0 for the header, `i + 1` for `LINES[i]`.
    next: usize,
}

impl Iterator for VirtualLayoutLines {
    type Item = VirtualLayoutLine;

    fn next(&mut self) -> Option<VirtualLayoutLine> {
        if self.next == 0 {
            self.next = 1;
            return Some(VirtualLayoutLine::Header);
        }
        if self.next == PKMAP + 1 && !self.highmem {
            self.next += 1;
        }
        let i = self.next - 1;
        let (&(name, unit), &(start, end)) = (LINES.get(i)?, self.ranges.get(i)?);
        self.next += 1;
        Some(match unit {
            Some(unit) => VirtualLayoutLine::Area {
                name,
                start,
                end,
                unit,
            },
            None => VirtualLayoutLine::Section { name, start, end },
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let mut left = (LINES.len() + 1).saturating_sub(self.next);
        if !self.highmem && self.next <= PKMAP + 1 {
            left -= 1;
        }
        (left, Some(left))
    }
}

impl ExactSizeIterator for VirtualLayoutLines {}
impl FusedIterator for VirtualLayoutLines {}

impl Layout {
    /// The `Virtual kernel memory layout:` block `mem_init` prints, one
    /// line per item, header first. Linux prints it at notice level.
    ///
    /// ```
    /// use kobold_layout::{compute, KernelSections, MemRegion};
    /// let layout = compute(&[MemRegion::new(0x6000_0000, 64 << 20)], false, None).unwrap();
    /// let sections = KernelSections::default();
    /// let vmalloc = layout.virtual_layout_lines(&sections).nth(3).unwrap();
    /// assert_eq!(vmalloc.to_string(), "    vmalloc : 0xc4800000 - 0xff000000   ( 936 MB)");
    /// ```
    pub fn virtual_layout_lines(&self, sections: &KernelSections) -> VirtualLayoutLines {
        // Without CONFIG_HIGHMEM there is no pkmap; its range is not used.
        let pkmap = self.pkmap().unwrap_or((0, 0));
        VirtualLayoutLines {
            ranges: [
                self.vector(),
                self.fixmap(),
                self.vmalloc(),
                self.lowmem(),
                pkmap,
                self.modules(),
                sections.text,
                sections.init,
                sections.data,
                sections.bss,
            ],
            highmem: self.highmem(),
            next: 0,
        }
    }
}

/// The `Memory:` line of mm/page_alloc.c `mem_init_print_info` (3.18),
/// with every value in KiB. Linux prints it at info level.
///
/// The counts are `u32` because Linux prints them with `%lu` of an
/// `unsigned long`, 32 bits on ARM: 4 TiB of KiB, more than a 32-bit
/// `phys_addr_t` can hold. (It also keeps the boot to one integer
/// formatter, and to 32-bit arithmetic: `u64`'s `Display` and the 64-bit
/// shifts were code QEMU translated for this line alone; docs/BENCHMARKS.md.)
///
/// `Display` gives Linux's text exactly, without the newline:
///
/// ```text
/// Memory: %luK/%luK available (%luK kernel code, %luK rwdata, %luK rodata, %luK init, %luK bss, %luK reserved[, %luK highmem])
/// ```
///
/// The `, ...K highmem` part is printed only with `CONFIG_HIGHMEM`, i.e.
/// when [`MemoryLine::highmem_kb`] is `Some` (even `Some(0)`). The
/// `cma-reserved` field of later kernels is not in 3.18.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryLine {
    /// Free pages (`nr_free_pages()`), in KiB.
    pub free_kb: u32,
    /// All RAM pages (`physpages`), in KiB.
    pub total_kb: u32,
    /// `_etext - _stext`, in KiB.
    pub code_kb: u32,
    /// `_edata - _sdata`, in KiB.
    pub rwdata_kb: u32,
    /// `__end_rodata - __start_rodata`, in KiB.
    pub rodata_kb: u32,
    /// Init code plus init data, in KiB.
    pub init_kb: u32,
    /// `__bss_stop - __bss_start`, in KiB.
    pub bss_kb: u32,
    /// `physpages - totalram_pages`: RAM never given to the page
    /// allocator, in KiB.
    pub reserved_kb: u32,
    /// `totalhigh_pages` (all highmem pages handed to the page allocator,
    /// not only the free ones), in KiB; `None` without `CONFIG_HIGHMEM`.
    pub highmem_kb: Option<u32>,
}

/// The inputs of a [`MemoryLine`] in bytes, for
/// [`MemoryLine::from_bytes`]. The fields mean the same as there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemorySizes {
    /// Free RAM.
    pub free_bytes: u64,
    /// All RAM.
    pub total_bytes: u64,
    /// Kernel code.
    pub code_bytes: u64,
    /// Read-write data.
    pub rwdata_bytes: u64,
    /// Read-only data.
    pub rodata_bytes: u64,
    /// Init code and data.
    pub init_bytes: u64,
    /// BSS.
    pub bss_bytes: u64,
    /// Reserved RAM.
    pub reserved_bytes: u64,
    /// Highmem RAM; `None` without `CONFIG_HIGHMEM`.
    pub highmem_bytes: Option<u64>,
}

impl MemoryLine {
    /// Converts byte counts to KiB as Linux does: `>> 10`, truncating.
    /// (Linux counts free, total, reserved and highmem in pages and shifts
    /// them by `PAGE_SHIFT - 10`. For whole pages the result is the same.)
    /// A count past `u32::MAX` KiB wraps, as Linux's `unsigned long` does.
    pub const fn from_bytes(sizes: &MemorySizes) -> MemoryLine {
        MemoryLine {
            free_kb: kb(sizes.free_bytes),
            total_kb: kb(sizes.total_bytes),
            code_kb: kb(sizes.code_bytes),
            rwdata_kb: kb(sizes.rwdata_bytes),
            rodata_kb: kb(sizes.rodata_bytes),
            init_kb: kb(sizes.init_bytes),
            bss_kb: kb(sizes.bss_bytes),
            reserved_kb: kb(sizes.reserved_bytes),
            highmem_kb: match sizes.highmem_bytes {
                Some(bytes) => Some(kb(bytes)),
                None => None,
            },
        }
    }
}

/// Bytes to KiB as an `unsigned long` (32 bits on ARM) holds them.
const fn kb(bytes: u64) -> u32 {
    (bytes >> 10) as u32
}

impl From<MemorySizes> for MemoryLine {
    fn from(sizes: MemorySizes) -> MemoryLine {
        MemoryLine::from_bytes(&sizes)
    }
}

impl fmt::Display for MemoryLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Memory: {}K/{}K available ({}K kernel code, {}K rwdata, {}K rodata, {}K init, {}K bss, {}K reserved",
            self.free_kb,
            self.total_kb,
            self.code_kb,
            self.rwdata_kb,
            self.rodata_kb,
            self.init_kb,
            self.bss_kb,
            self.reserved_kb
        )?;
        if let Some(highmem_kb) = self.highmem_kb {
            write!(f, ", {highmem_kb}K highmem")?;
        }
        f.write_str(")")
    }
}
