//! ARMv7 short-descriptor translation tables, encoded the way Linux 3.18 does.
//!
//! The MMU walks a 16 KB first-level (L1) table of 4096 entries, one per 1 MB
//! of virtual space (ARM ARM B3.5, "Short-descriptor translation table
//! format"). An entry is a *section* (maps 1 MB directly) or points to a 1 KB
//! second-level (L2, "coarse") table of 256 *small page* entries (4 KB each).
//! Kobold, like Linux, maps lowmem with sections and everything else
//! (vector page, fixmap, later vmalloc and modules) with small pages.
//!
//! Memory types use TEX remap (SCTLR.TRE = 1, ARM ARM B3.8.3): the three bits
//! `TEX[0]:C:B` index the PRRR/NMRR registers, which Kobold programs with
//! Linux's values from `proc-v7-2level.S`, so the bit patterns below are
//! exactly the ones a Linux kernel writes:
//!
//! | index | `TEX[0]` C B | type (PRRR/NMRR)                  | Linux name           |
//! |-------|------------|-----------------------------------|----------------------|
//! | 0     | 0 0 0      | strongly ordered                  | L_PTE_MT_UNCACHED    |
//! | 1     | 0 0 1      | normal, non-cacheable             | L_PTE_MT_BUFFERABLE  |
//! | 2     | 0 1 0      | normal, write-through             | L_PTE_MT_WRITETHROUGH|
//! | 3     | 0 1 1      | normal, write-back                | L_PTE_MT_WRITEBACK   |
//! | 4     | 1 0 0      | device (shareable)                | L_PTE_MT_DEV_SHARED  |
//! | 7     | 1 1 1      | normal, write-back write-allocate | L_PTE_MT_WRITEALLOC  |
//!
//! Access permissions use `AP[1:0]` = 01 with APX selecting read-only: kernel
//! read/write or kernel read-only, never user access (Kobold has no user
//! space). Domains follow Linux 3.18: kernel 0, user 1, io 2, all "client",
//! so the permission bits are actually checked.

/// Bits of a first-level section descriptor (Linux pgtable-2level-hwdef.h).
pub mod sect {
    pub const TYPE_SECT: u32 = 2;
    pub const BUFFERABLE: u32 = 1 << 2;
    pub const CACHEABLE: u32 = 1 << 3;
    pub const XN: u32 = 1 << 4;
    pub const AP_WRITE: u32 = 1 << 10;
    pub const AP_READ: u32 = 1 << 11;
    pub const APX: u32 = 1 << 15;
    pub const S: u32 = 1 << 16;
    pub const NG: u32 = 1 << 17;
    pub const SUPER: u32 = 1 << 18;
    pub const fn domain(d: u32) -> u32 {
        d << 5
    }
    pub const fn tex(t: u32) -> u32 {
        t << 12
    }
}

/// Bits of a first-level page-table (coarse) descriptor.
pub mod table {
    pub const TYPE_TABLE: u32 = 1;
    pub const fn domain(d: u32) -> u32 {
        d << 5
    }
}

/// Bits of a second-level small-page descriptor.
pub mod pte {
    pub const XN: u32 = 1 << 0;
    pub const SMALL: u32 = 2;
    pub const BUFFERABLE: u32 = 1 << 2;
    pub const CACHEABLE: u32 = 1 << 3;
    pub const AP0: u32 = 1 << 4;
    pub const AP1: u32 = 1 << 5;
    pub const TEX0: u32 = 1 << 6;
    pub const APX: u32 = 1 << 9;
    pub const S: u32 = 1 << 10;
    pub const NG: u32 = 1 << 11;
}

/// Linux 3.18's domains (arch/arm/include/asm/domain.h).
pub const DOMAIN_KERNEL: u32 = 0;
pub const DOMAIN_USER: u32 = 1;
pub const DOMAIN_IO: u32 = 2;
/// Domain Access Control Register: the three domains as clients (0b01 each).
pub const DACR: u32 =
    (1 << (2 * DOMAIN_KERNEL)) | (1 << (2 * DOMAIN_USER)) | (1 << (2 * DOMAIN_IO));

/// PRRR and NMRR as proc-v7-2level.S programs them.
pub const PRRR: u32 = 0xff0a_81a8;
pub const NMRR: u32 = 0x40e0_40e0;

/// TTBR0's walk attributes for an SMP v7 system (proc-v7-2level.S
/// `TTB_FLAGS_SMP`): inner WBWA, shareable, not-outer-shareable, outer WBWA.
pub const TTB_FLAGS: u32 = (1 << 6) | (1 << 1) | (1 << 5) | (1 << 3);

/// SCTLR bits Linux's v7 `__v7_setup` clears and sets (proc-v7.S `v7_crval`):
/// set M, C, Z, I, V (high vectors), TRE and the RES1 bits; clear A, AFE, ...
pub const SCTLR_CLEAR: u32 = 0x2120_c302;
pub const SCTLR_SET: u32 = 0x10c0_3c7d;

/// Memory types Kobold maps with (TEX remap indices above).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemType {
    /// Strongly ordered: what Linux's /dev/mem uses for non-RAM.
    StronglyOrdered,
    /// Shareable device memory: MMIO registers.
    Device,
    /// Normal memory, not cached.
    NormalUncached,
    /// Normal memory, write-back write-allocate: all of RAM.
    Normal,
}

impl MemType {
    /// `TEX[0]`, C, B for this type under TEX remap.
    const fn tex0_c_b(self) -> (bool, bool, bool) {
        match self {
            MemType::StronglyOrdered => (false, false, false),
            MemType::NormalUncached => (false, false, true),
            MemType::Device => (true, false, false),
            MemType::Normal => (true, true, true),
        }
    }
}

/// How a kernel mapping may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prot {
    pub mem: MemType,
    pub write: bool,
    pub exec: bool,
}

impl Prot {
    /// Linux's PAGE_KERNEL_EXEC / MT_MEMORY_RWX.
    pub const KERNEL_RWX: Prot = Prot {
        mem: MemType::Normal,
        write: true,
        exec: true,
    };
    /// Linux's PAGE_KERNEL / MT_MEMORY_RW.
    pub const KERNEL_RW: Prot = Prot {
        mem: MemType::Normal,
        write: true,
        exec: false,
    };
    /// Kernel text after boot: read-only, executable.
    pub const KERNEL_RX: Prot = Prot {
        mem: MemType::Normal,
        write: false,
        exec: true,
    };
    /// Kernel read-only data.
    pub const KERNEL_RO: Prot = Prot {
        mem: MemType::Normal,
        write: false,
        exec: false,
    };
    /// MT_DEVICE.
    pub const DEVICE: Prot = Prot {
        mem: MemType::Device,
        write: true,
        exec: false,
    };
    /// Strongly ordered, for /dev/mem-style access to non-RAM.
    pub const STRONGLY_ORDERED: Prot = Prot {
        mem: MemType::StronglyOrdered,
        write: true,
        exec: false,
    };
}

/// Where the attribute bits sit in one kind of descriptor: sections and
/// small pages carry the same fields at different positions (ARM ARM
/// B3.5.1), so one encoder and one decoder serve both.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// Descriptor type bits and AP\[0\] (privileged access), always set.
    pub base: u32,
    pub b: u32,
    pub c: u32,
    pub tex_shift: u32,
    pub ap_shift: u32,
    pub apx: u32,
    pub xn: u32,
    pub s: u32,
    pub ng: u32,
    /// Mask of the output address.
    pub addr_mask: u32,
}

/// Section descriptor fields.
pub const SECTION: Fields = Fields {
    base: sect::TYPE_SECT | sect::AP_WRITE,
    b: sect::BUFFERABLE,
    c: sect::CACHEABLE,
    tex_shift: 12,
    ap_shift: 10,
    apx: sect::APX,
    xn: sect::XN,
    s: sect::S,
    ng: sect::NG,
    addr_mask: 0xfff0_0000,
};

/// Small-page descriptor fields.
pub const SMALL_PAGE: Fields = Fields {
    base: pte::SMALL | pte::AP0,
    b: pte::BUFFERABLE,
    c: pte::CACHEABLE,
    tex_shift: 6,
    ap_shift: 4,
    apx: pte::APX,
    xn: pte::XN,
    s: pte::S,
    ng: pte::NG,
    addr_mask: 0xffff_f000,
};

/// Encodes `phys` with `prot` in the layout `f`. Normal and device memory
/// are marked shareable, as an SMP Linux does (strongly ordered memory is
/// always shareable, so S stays clear).
pub const fn encode(f: &Fields, phys: u32, prot: Prot) -> u32 {
    assert!(
        phys & !f.addr_mask == 0,
        "base not aligned to the mapping size"
    );
    let (tex0, c, b) = prot.mem.tex0_c_b();
    let mut d = phys | f.base;
    if tex0 {
        d |= 1 << f.tex_shift;
    }
    if c {
        d |= f.c;
    }
    if b {
        d |= f.b;
    }
    if !prot.write {
        d |= f.apx;
    }
    if !prot.exec {
        d |= f.xn;
    }
    if !matches!(prot.mem, MemType::StronglyOrdered) {
        d |= f.s;
    }
    d
}

/// A 1 MB section descriptor for `phys` (must be 1 MB aligned). Device and
/// strongly-ordered sections go in Linux's DOMAIN_IO.
pub const fn section(phys: u32, prot: Prot) -> u32 {
    let domain = if matches!(prot.mem, MemType::Device | MemType::StronglyOrdered) {
        DOMAIN_IO
    } else {
        DOMAIN_KERNEL
    };
    encode(&SECTION, phys, prot) | sect::domain(domain)
}

/// A small-page descriptor for `phys` (must be 4 KB aligned).
pub const fn small_page(phys: u32, prot: Prot) -> u32 {
    encode(&SMALL_PAGE, phys, prot)
}

/// A first-level descriptor pointing at the coarse table at `l2_phys`
/// (1 KB aligned).
pub const fn coarse_table(l2_phys: u32, domain: u32) -> u32 {
    assert!(l2_phys & 0x3ff == 0, "coarse table must be 1 KB aligned");
    l2_phys | table::TYPE_TABLE | table::domain(domain)
}

/// The section descriptor flags boot.S ORs with a physical base: kernel
/// memory, RWX (Linux MT_MEMORY_RWX).
pub const PMD_SECT_KERNEL: u32 = section(0, Prot::KERNEL_RWX);
/// The same for MMIO (Linux MT_DEVICE).
pub const PMD_SECT_DEVICE: u32 = section(0, Prot::DEVICE);

/// What a first-level descriptor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L1Entry {
    Fault,
    Table { l2_phys: u32, domain: u32 },
    Section { phys: u32, domain: u32 },
    Supersection { phys: u32 },
}

/// Decodes a first-level descriptor (ARM ARM B3.5.1).
pub const fn decode_l1(d: u32) -> L1Entry {
    match d & 3 {
        1 => L1Entry::Table {
            l2_phys: d & !0x3ff,
            domain: (d >> 5) & 0xf,
        },
        2 | 3 if d & sect::SUPER != 0 => L1Entry::Supersection {
            phys: d & 0xff00_0000,
        },
        2 | 3 => L1Entry::Section {
            phys: d & 0xfff0_0000,
            domain: (d >> 5) & 0xf,
        },
        _ => L1Entry::Fault,
    }
}

/// Translates `virt` with a first-level descriptor and, for table entries,
/// the second-level descriptor; `None` for a fault.
pub const fn translate(virt: u32, l1: u32, l2: Option<u32>) -> Option<u32> {
    match decode_l1(l1) {
        L1Entry::Section { phys, .. } => Some(phys | (virt & 0x000f_ffff)),
        L1Entry::Supersection { phys } => Some(phys | (virt & 0x00ff_ffff)),
        L1Entry::Table { .. } => match l2 {
            Some(p) if p & 2 != 0 => Some((p & !0xfff) | (virt & 0xfff)),
            Some(p) if p & 3 == 1 => Some((p & 0xffff_0000) | (virt & 0xffff)),
            _ => None,
        },
        L1Entry::Fault => None,
    }
}

/// Index of `virt` in the first-level table.
pub const fn l1_index(virt: u32) -> usize {
    (virt >> 20) as usize
}

/// Index of `virt` in its second-level table.
pub const fn l2_index(virt: u32) -> usize {
    ((virt >> 12) & 0xff) as usize
}

/// The raw words a table walk for one virtual address reads: what `pt`
/// shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageWalk {
    pub virt: u32,
    pub ttbr0: u32,
    /// The first-level descriptor.
    pub l1: u32,
    /// The second-level descriptor, when `l1` points to a table.
    pub l2: Option<u32>,
}

/// Linux's names for the TEX-remap indices (TEX\[0\]:C:B).
pub fn mem_type_name(tex0: bool, c: bool, b: bool) -> &'static str {
    match (tex0, c, b) {
        (false, false, false) => "strongly ordered",
        (false, false, true) => "normal, non-cacheable",
        (false, true, false) => "normal, write-through",
        (false, true, true) => "normal, write-back",
        (true, false, false) => "device",
        (true, true, true) => "normal, write-back write-allocate",
        _ => "implementation defined",
    }
}

/// Privileged/user access for APX:AP[1:0] (ARM ARM B3.7.1, table B3-8).
fn access_name(apx: bool, ap: u32) -> &'static str {
    match (apx, ap) {
        (_, 0) => "no access",
        (false, 1) => "kernel read/write, user none",
        (false, 2) => "kernel read/write, user read-only",
        (false, 3) => "kernel and user read/write",
        (true, 1) => "kernel read-only, user none",
        (true, _) => "read-only",
        _ => "reserved",
    }
}

/// The attribute lines of a section or small page `d`, decoded with `f`.
fn write_attrs(out: &mut dyn core::fmt::Write, f: &Fields, d: u32) -> core::fmt::Result {
    let (tex, c, b) = ((d >> f.tex_shift) & 7, d & f.c != 0, d & f.b != 0);
    let (apx, ap, xn) = (d & f.apx != 0, (d >> f.ap_shift) & 3, d & f.xn != 0);
    writeln!(
        out,
        "  AP={ap:02b} APX={} ({}), XN={} ({})",
        u8::from(apx),
        access_name(apx, ap),
        u8::from(xn),
        if xn { "never executable" } else { "executable" }
    )?;
    writeln!(
        out,
        "  TEX={tex:03b} C={} B={} ({}), S={}, nG={}",
        u8::from(c),
        u8::from(b),
        mem_type_name(tex & 1 == 1, c, b),
        u8::from(d & f.s != 0),
        u8::from(d & f.ng != 0)
    )
}

/// Writes a walk the way a textbook would explain it, one line per step.
pub fn write_walk(out: &mut dyn core::fmt::Write, w: &PageWalk) -> core::fmt::Result {
    let table = w.ttbr0 & !0x3fff;
    let i1 = l1_index(w.virt);
    writeln!(out, "virtual address {:#010x}", w.virt)?;
    writeln!(
        out,
        "TTBR0 {:#010x}: first-level table at phys {table:#010x}",
        w.ttbr0
    )?;
    writeln!(
        out,
        "L1[{i1:#05x}] at phys {:#010x} = {:#010x}",
        table + 4 * i1 as u32,
        w.l1
    )?;
    match decode_l1(w.l1) {
        L1Entry::Fault => writeln!(out, "  fault: nothing is mapped in this megabyte"),
        L1Entry::Supersection { phys } => {
            writeln!(out, "  supersection (16 MB) at phys {phys:#010x}")?;
            writeln!(
                out,
                "physical address {:#010x}",
                phys | (w.virt & 0x00ff_ffff)
            )
        }
        L1Entry::Section { phys, domain } => {
            writeln!(
                out,
                "  section (1 MB) at phys {phys:#010x}, domain {domain}"
            )?;
            write_attrs(out, &SECTION, w.l1)?;
            writeln!(
                out,
                "physical address {:#010x}",
                phys | (w.virt & 0x000f_ffff)
            )
        }
        L1Entry::Table { l2_phys, domain } => {
            let i2 = l2_index(w.virt);
            writeln!(
                out,
                "  second-level (coarse) table at phys {l2_phys:#010x}, domain {domain}"
            )?;
            let Some(p) = w.l2 else { return Ok(()) };
            writeln!(
                out,
                "L2[{i2:#04x}] at phys {:#010x} = {p:#010x}",
                l2_phys + 4 * i2 as u32
            )?;
            if p & 3 == 0 {
                return writeln!(out, "  fault: this page is not mapped");
            }
            if p & 2 == 0 {
                let phys = p & 0xffff_0000;
                writeln!(out, "  large page (64 KB) at phys {phys:#010x}")?;
                return writeln!(out, "physical address {:#010x}", phys | (w.virt & 0xffff));
            }
            writeln!(out, "  small page (4 KB) at phys {:#010x}", p & !0xfff)?;
            write_attrs(out, &SMALL_PAGE, p)?;
            writeln!(
                out,
                "physical address {:#010x}",
                (p & !0xfff) | (w.virt & 0xfff)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw words computed from Linux 3.18's mem_types[] for an SMP v7 CPU with
    /// TEX remap and write-allocate (see the reference notes, section 4).
    #[test]
    fn section_descriptors_match_linux() {
        assert_eq!(PMD_SECT_KERNEL, 0x0001_140e, "MT_MEMORY_RWX");
        assert_eq!(section(0, Prot::KERNEL_RW), 0x0001_141e, "MT_MEMORY_RW");
        assert_eq!(PMD_SECT_DEVICE, 0x0001_1452, "MT_DEVICE");
        assert_eq!(section(0x6000_0000, Prot::KERNEL_RWX), 0x6001_140e);
    }

    #[test]
    fn read_only_and_strongly_ordered_sections() {
        let ro = section(0, Prot::KERNEL_RO);
        assert_ne!(ro & sect::APX, 0);
        assert_ne!(ro & sect::XN, 0);
        let so = section(0x1000_0000, Prot::STRONGLY_ORDERED);
        assert_eq!(so & (sect::tex(7) | sect::CACHEABLE | sect::BUFFERABLE), 0);
        assert_eq!(
            so & sect::S,
            0,
            "strongly ordered is always shareable; S is ignored"
        );
    }

    #[test]
    fn small_page_descriptors() {
        // Kernel RW normal page: TEX0|C|B|AP0|S|XN|small.
        assert_eq!(small_page(0x6000_1000, Prot::KERNEL_RW), 0x6000_145f);
        // Read-only executable (vector page): APX set, XN clear.
        assert_eq!(small_page(0x6000_2000, Prot::KERNEL_RX), 0x6000_265e);
        // Device page.
        assert_eq!(small_page(0x1000_9000, Prot::DEVICE), 0x1000_9453);
    }

    #[test]
    fn coarse_table_descriptor() {
        assert_eq!(coarse_table(0x6010_0400, DOMAIN_KERNEL), 0x6010_0401);
        assert_eq!(
            decode_l1(0x6010_0401),
            L1Entry::Table {
                l2_phys: 0x6010_0400,
                domain: 0
            }
        );
    }

    #[test]
    fn decode_and_translate() {
        assert_eq!(decode_l1(0), L1Entry::Fault);
        assert_eq!(
            decode_l1(0x6001_140e),
            L1Entry::Section {
                phys: 0x6000_0000,
                domain: 0
            }
        );
        assert_eq!(
            decode_l1(0x1001_1452),
            L1Entry::Section {
                phys: 0x1000_0000,
                domain: 2
            }
        );
        assert_eq!(translate(0xc012_3456, 0x6011_140e, None), Some(0x6012_3456));
        let l2 = small_page(0x6abc_d000, Prot::KERNEL_RW);
        assert_eq!(
            translate(0xffff_0123, 0x6010_0401, Some(l2)),
            Some(0x6abc_d123)
        );
        assert_eq!(translate(0xffff_0123, 0x6010_0401, Some(0)), None);
        assert_eq!(translate(0, 0, None), None);
    }

    #[test]
    fn registers_match_linux() {
        assert_eq!(DACR, 0x15);
        assert_eq!(TTB_FLAGS, 0x6a);
        assert_eq!(l1_index(0xc000_0000), 0xc00);
        assert_eq!(l2_index(0xffff_0000), 0xf0);
    }

    #[test]
    fn walks_explain_themselves() {
        let mut s = String::new();
        let w = PageWalk {
            virt: 0xc000_8123,
            ttbr0: 0x6000_406a,
            l1: 0x6001_140e,
            l2: None,
        };
        write_walk(&mut s, &w).unwrap();
        assert_eq!(
            s,
            "virtual address 0xc0008123\n\
             TTBR0 0x6000406a: first-level table at phys 0x60004000\n\
             L1[0xc00] at phys 0x60007000 = 0x6001140e\n  \
             section (1 MB) at phys 0x60000000, domain 0\n  \
             AP=01 APX=0 (kernel read/write, user none), XN=0 (executable)\n  \
             TEX=001 C=1 B=1 (normal, write-back write-allocate), S=1, nG=0\n\
             physical address 0x60008123\n"
        );
        let mut s = String::new();
        let vec = PageWalk {
            virt: 0xffff_0004,
            ttbr0: 0x6000_406a,
            l1: coarse_table(0x6003_c400, 0),
            l2: Some(small_page(0x6000_e000, Prot::KERNEL_RX)),
        };
        write_walk(&mut s, &vec).unwrap();
        assert!(
            s.contains("L1[0xfff] at phys 0x60007ffc = 0x6003c401"),
            "{s}"
        );
        assert!(
            s.contains("L2[0xf0] at phys 0x6003c7c0 = 0x6000e65e"),
            "{s}"
        );
        assert!(
            s.contains("AP=01 APX=1 (kernel read-only, user none), XN=0 (executable)"),
            "{s}"
        );
        assert!(s.ends_with("physical address 0x6000e004\n"), "{s}");
        let mut s = String::new();
        write_walk(
            &mut s,
            &PageWalk {
                virt: 0,
                ttbr0: 0x6000_406a,
                l1: 0,
                l2: None,
            },
        )
        .unwrap();
        assert!(s.ends_with("  fault: nothing is mapped in this megabyte\n"));
        let mut s = String::new();
        let dev = PageWalk {
            virt: 0xf800_9000,
            ttbr0: 0x6000_406a,
            l1: 0x1001_1452,
            l2: None,
        };
        write_walk(&mut s, &dev).unwrap();
        assert!(s.contains("TEX=001 C=0 B=0 (device), S=1"), "{s}");
        assert!(s.contains("XN=1 (never executable)"), "{s}");
    }
}
