//! Host tests: every number the reference boot logs show, every message
//! text, and sweeps over all RAM sizes vexpress-a9 can have.

extern crate std;

use crate::*;
use std::string::{String, ToString};
use std::vec::Vec;

const MIB: u64 = 1 << 20;
const RAM_BASE: u64 = PHYS_OFFSET as u64;

/// The layout of a vexpress-a9 with `mb` MiB of RAM.
fn vexpress(mb: u64, highmem: bool) -> Layout {
    vexpress_with(mb, highmem, None)
}

fn vexpress_with(mb: u64, highmem: bool, vmalloc: Option<&str>) -> Layout {
    compute(&[MemRegion::new(RAM_BASE, mb * MIB)], highmem, vmalloc).unwrap()
}

/// The area line called `name` (`vmalloc`, `lowmem`, ...), if printed.
fn area(layout: &Layout, name: &str) -> Option<VirtualLayoutLine> {
    layout
        .virtual_layout_lines(&KernelSections::default())
        .find(|line| matches!(line, VirtualLayoutLine::Area { name: n, .. } if *n == name))
}

/// `(start, end, size in the line's unit)` of the area line `name`.
fn area_values(layout: &Layout, name: &str) -> (u32, u32, u32) {
    match area(layout, name) {
        Some(line @ VirtualLayoutLine::Area { start, end, .. }) => (start, end, line.size()),
        _ => panic!("no {name} line"),
    }
}

fn notice_texts(layout: &Layout) -> Vec<String> {
    layout.notices().iter().map(ToString::to_string).collect()
}

mod constants {
    use super::*;

    #[test]
    fn values_match_the_3_18_headers() {
        // The derived constants; the ones written as literals in
        // constants.rs (LAST_PKMAP, VMALLOC_OFFSET, VMALLOC_RESERVE_MIN,
        // MAX_RAM_BYTES) are not restated here, where a copy could only
        // agree with itself.
        assert_eq!(
            (PAGE_SIZE, SECTION_SIZE, PMD_SIZE),
            (0x1000, 0x10_0000, 0x20_0000)
        );
        assert_eq!(KERNEL_RAM_VADDR, 0xc000_8000);
        assert_eq!(KERNEL_RAM_PADDR, 0x6000_8000);
        assert_eq!(SWAPPER_PG_DIR, 0xc000_4000);
        assert_eq!(virt_to_phys(SWAPPER_PG_DIR), 0x6000_4000);
        assert_eq!(TASK_SIZE, 0xbf00_0000);
        assert_eq!(MODULES_VADDR, 0xbf00_0000);
        assert_eq!(PKMAP_BASE, 0xbfe0_0000);
        assert_eq!(VMALLOC_MIN_DEFAULT, 0xef80_0000);
        assert_eq!(VMALLOC_RESERVE_MAX, 976 << 20);
        assert_eq!(modules_end(true), 0xbfe0_0000);
        assert_eq!(modules_end(false), 0xc000_0000);
    }

    #[test]
    fn linear_map() {
        assert_eq!(phys_to_virt(0x6000_0000), 0xc000_0000);
        assert_eq!(phys_to_virt(0x8f80_0000), 0xef80_0000);
        assert_eq!(virt_to_phys(0xc400_0000), 0x6400_0000);
        for p in (0x6000_0000..0x9000_0000).step_by(0x123_4567) {
            assert_eq!(virt_to_phys(phys_to_virt(p)), p);
        }
        // Wraps like C's unsigned long instead of panicking.
        assert_eq!(virt_to_phys(0), 0xa000_0000);
    }
}

mod parse {
    use super::*;

    #[test]
    fn bases_and_suffixes() {
        assert_eq!(memparse("0"), Ok((0, "")));
        assert_eq!(memparse("240M"), Ok((240 << 20, "")));
        assert_eq!(memparse("240m"), Ok((240 << 20, "")));
        assert_eq!(memparse("16K"), Ok((16 << 10, "")));
        assert_eq!(memparse("1g"), Ok((1 << 30, "")));
        assert_eq!(memparse("2T"), Ok((2 << 40, "")));
        assert_eq!(memparse("3p"), Ok((3 << 50, "")));
        assert_eq!(memparse("1E"), Ok((1 << 60, "")));
        assert_eq!(memparse("0x10M"), Ok((16 << 20, "")));
        assert_eq!(memparse("0XfF"), Ok((255, "")));
        assert_eq!(memparse("0x1e"), Ok((0x1e, "")), "e is a hex digit here");
        assert_eq!(memparse("010"), Ok((8, "")));
        assert_eq!(memparse("123456789"), Ok((123_456_789, "")));
    }

    #[test]
    fn rest_of_the_string() {
        assert_eq!(memparse("64M@0x60000000"), Ok((64 << 20, "@0x60000000")));
        assert_eq!(memparse("240MB"), Ok((240 << 20, "B")));
        assert_eq!(memparse("12 34"), Ok((12, " 34")));
        // As in the kernel: "0x" without a hex digit is octal 0, then "x";
        // "08" is octal 0, then "8".
        assert_eq!(memparse("0x"), Ok((0, "x")));
        assert_eq!(memparse("0xg"), Ok((0, "xg")));
        assert_eq!(memparse("08"), Ok((0, "8")));
        assert_eq!(memparse("7Ké"), Ok((7 << 10, "é")));
    }

    #[test]
    fn errors() {
        assert_eq!(memparse(""), Err(ParseError::NoDigits));
        assert_eq!(memparse("M"), Err(ParseError::NoDigits));
        assert_eq!(memparse(" 16M"), Err(ParseError::NoDigits));
        assert_eq!(memparse("-1"), Err(ParseError::NoDigits));
        assert_eq!(memparse("é"), Err(ParseError::NoDigits));
        assert_eq!(memparse("18446744073709551615"), Ok((u64::MAX, "")));
        assert_eq!(memparse("18446744073709551616"), Err(ParseError::Overflow));
        assert_eq!(memparse("0x10000000000000000"), Err(ParseError::Overflow));
        assert_eq!(memparse("15E"), Ok((15 << 60, "")));
        assert_eq!(memparse("16E"), Err(ParseError::Overflow));
        assert_eq!(memparse("16777216T"), Err(ParseError::Overflow));
    }
}

mod vmalloc_arg {
    use super::*;

    #[test]
    fn in_range() {
        let arg = early_vmalloc("240M").unwrap();
        assert_eq!(arg.vmalloc_min, 0xf000_0000);
        assert_eq!(arg.warning, None);
        let arg = early_vmalloc("16M").unwrap();
        assert_eq!((arg.vmalloc_min, arg.warning), (0xfe00_0000, None));
        let arg = early_vmalloc("976M").unwrap();
        assert_eq!((arg.vmalloc_min, arg.warning), (0xc200_0000, None));
        // Trailing text is ignored, as memparse(arg, NULL) does.
        assert_eq!(early_vmalloc("240MB").unwrap().vmalloc_min, 0xf000_0000);
    }

    #[test]
    fn too_small() {
        let arg = early_vmalloc("8M").unwrap();
        assert_eq!(arg.warning, Some(VmallocWarning::TooSmall { limit_mb: 16 }));
        assert_eq!(arg.vmalloc_min, 0xfe00_0000);
        assert_eq!(
            arg.warning.unwrap().to_string(),
            "vmalloc area too small, limiting to 16MB"
        );
        assert_eq!(early_vmalloc("0").unwrap(), arg);
        assert_eq!(early_vmalloc("16777215").unwrap(), arg);
    }

    #[test]
    fn too_big() {
        let arg = early_vmalloc("2000M").unwrap();
        assert_eq!(arg.warning, Some(VmallocWarning::TooBig { limit_mb: 976 }));
        assert_eq!(arg.vmalloc_min, 0xc200_0000);
        assert_eq!(
            arg.warning.unwrap().to_string(),
            "vmalloc area is too big, limiting to 976MB"
        );
        assert_eq!(early_vmalloc("977M").unwrap(), arg);
        assert_eq!(early_vmalloc("4G").unwrap(), arg);
    }

    #[test]
    fn parse_errors() {
        assert_eq!(early_vmalloc(""), Err(ParseError::NoDigits));
        assert_eq!(early_vmalloc("big"), Err(ParseError::NoDigits));
        assert_eq!(
            compute(&[MemRegion::new(RAM_BASE, 64 * MIB)], true, Some("x")),
            Err(LayoutError::Vmalloc(ParseError::NoDigits))
        );
    }
}

/// The literal values Linux 3.18's boot logs show for these RAM sizes (its
/// `Memory:` line and `mem_init`'s virtual kernel memory layout).
mod known_layouts {
    use super::*;

    #[test]
    fn ram_64mb() {
        for highmem in [false, true] {
            let l = vexpress(64, highmem);
            assert_eq!(area_values(&l, "lowmem"), (0xc000_0000, 0xc400_0000, 64));
            assert_eq!(area_values(&l, "vmalloc"), (0xc480_0000, 0xff00_0000, 936));
            assert_eq!(l.lowmem_bytes(), 64 * MIB);
            assert_eq!((l.highmem_bytes(), l.total_bytes()), (0, 64 * MIB));
            assert_eq!(l.lowmem_regions(), [MemRegion::new(RAM_BASE, 64 * MIB)]);
            assert!(l.highmem_regions().is_empty());
            assert!(l.notices().is_empty());
            assert_eq!(l.arm_lowmem_limit(), 0x6400_0000);
            assert_eq!(l.memblock_limit(), 0x6400_0000);
            assert_eq!(l.vmalloc_limit(), 0x8f80_0000);
            assert_eq!(l.high_memory(), 0xc400_0000);
        }
        let l = vexpress(64, true);
        assert_eq!(area_values(&l, "modules"), (0xbf00_0000, 0xbfe0_0000, 14));
        assert_eq!(area_values(&l, "pkmap"), (0xbfe0_0000, 0xc000_0000, 2));
        assert_eq!(l.pkmap(), Some((0xbfe0_0000, 0xc000_0000)));
        let l = vexpress(64, false);
        assert_eq!(area_values(&l, "modules"), (0xbf00_0000, 0xc000_0000, 16));
        assert_eq!(l.pkmap(), None);
        assert!(area(&l, "pkmap").is_none());
    }

    #[test]
    fn ram_192mb() {
        let l = vexpress(192, false);
        assert_eq!(area_values(&l, "vmalloc"), (0xcc80_0000, 0xff00_0000, 808));
        assert_eq!(area_values(&l, "lowmem"), (0xc000_0000, 0xcc00_0000, 192));
    }

    #[test]
    fn ram_256mb() {
        let l = vexpress(256, true);
        assert_eq!(area_values(&l, "lowmem"), (0xc000_0000, 0xd000_0000, 256));
        assert_eq!(area_values(&l, "vmalloc"), (0xd080_0000, 0xff00_0000, 744));
    }

    #[test]
    fn ram_512mb() {
        let l = vexpress(512, false);
        assert_eq!(area_values(&l, "vmalloc"), (0xe080_0000, 0xff00_0000, 488));
        assert_eq!(area_values(&l, "lowmem"), (0xc000_0000, 0xe000_0000, 512));
    }

    #[test]
    fn ram_1024mb_highmem() {
        let l = vexpress(1024, true);
        assert_eq!(area_values(&l, "vmalloc"), (0xf000_0000, 0xff00_0000, 240));
        assert_eq!(area_values(&l, "lowmem"), (0xc000_0000, 0xef80_0000, 760));
        assert_eq!(
            l.lowmem_regions(),
            [MemRegion::new(0x6000_0000, 0x2f80_0000)]
        );
        assert_eq!(
            l.highmem_regions(),
            [MemRegion::new(0x8f80_0000, 0x1080_0000)]
        );
        assert_eq!(l.highmem_bytes(), 264 * MIB);
        assert_eq!(l.highmem_bytes() >> 10, 270_336);
        assert_eq!(l.total_bytes(), 1024 * MIB);
        assert_eq!(l.arm_lowmem_limit(), 0x8f80_0000);
        assert_eq!(l.memblock_limit(), 0x8f80_0000);
        assert_eq!(l.removed_bytes(), 0);
        assert!(l.notices().is_empty());
    }

    #[test]
    fn ram_1024mb_no_highmem() {
        let l = vexpress(1024, false);
        assert_eq!(
            notice_texts(&l),
            ["Truncating RAM at 0x60000000-0xa0000000 to -0x8f800000"]
        );
        assert!(!l.notices()[0].is_warning());
        assert_eq!(area_values(&l, "lowmem"), (0xc000_0000, 0xef80_0000, 760));
        assert_eq!(area_values(&l, "vmalloc"), (0xf000_0000, 0xff00_0000, 240));
        assert_eq!(l.lowmem_bytes(), 760 * MIB);
        assert_eq!(l.total_bytes(), 760 * MIB);
        assert_eq!(l.removed_bytes(), 264 * MIB);
        assert!(l.highmem_regions().is_empty());
    }

    #[test]
    fn vmalloc_240m_with_1024mb() {
        for highmem in [false, true] {
            let l = vexpress_with(1024, highmem, Some("240M"));
            assert_eq!(l.high_memory(), 0xf000_0000);
            assert_eq!(l.arm_lowmem_limit(), 0x9000_0000);
            assert_eq!(area_values(&l, "vmalloc"), (0xf080_0000, 0xff00_0000, 232));
            assert_eq!(area_values(&l, "lowmem"), (0xc000_0000, 0xf000_0000, 768));
            assert_eq!(l.vmalloc_warning(), None);
        }
        assert_eq!(
            vexpress_with(1024, true, Some("240M")).highmem_bytes(),
            256 * MIB
        );
        assert_eq!(
            notice_texts(&vexpress_with(1024, false, Some("240M"))),
            ["Truncating RAM at 0x60000000-0xa0000000 to -0x90000000"]
        );
    }

    #[test]
    fn vmalloc_8m_is_too_small() {
        let l = vexpress_with(1024, true, Some("8M"));
        assert_eq!(
            notice_texts(&l),
            ["vmalloc area too small, limiting to 16MB"]
        );
        assert!(l.notices()[0].is_warning());
        assert_eq!(l.vmalloc_min(), 0xfe00_0000);
        assert_eq!(area_values(&l, "lowmem"), (0xc000_0000, 0xfe00_0000, 992));
        assert_eq!(area_values(&l, "vmalloc"), (0xfe80_0000, 0xff00_0000, 8));
        assert_eq!(l.highmem_bytes(), 32 * MIB);
    }

    #[test]
    fn vmalloc_2000m_is_too_big() {
        let l = vexpress_with(1024, false, Some("2000M"));
        assert_eq!(
            notice_texts(&l),
            [
                "vmalloc area is too big, limiting to 976MB",
                "Truncating RAM at 0x60000000-0xa0000000 to -0x62000000",
            ]
        );
        assert_eq!(
            l.vmalloc_warning(),
            Some(VmallocWarning::TooBig { limit_mb: 976 })
        );
        assert_eq!(l.lowmem_bytes(), 32 * MIB);
    }

    /// `vmalloc=976M` leaves exactly the 32 MiB of lowmem early_vmalloc
    /// guarantees: `VMALLOC_END - 976M` is `PAGE_OFFSET + 32M`.
    #[test]
    fn vmalloc_976m_with_64mb() {
        let l = vexpress_with(64, true, Some("976M"));
        assert!(l.notices().is_empty());
        assert_eq!(l.vmalloc_min(), 0xc200_0000);
        assert_eq!(area_values(&l, "lowmem"), (0xc000_0000, 0xc200_0000, 32));
        assert_eq!(area_values(&l, "vmalloc"), (0xc280_0000, 0xff00_0000, 968));
        assert_eq!(l.lowmem_regions(), [MemRegion::new(0x6000_0000, 32 * MIB)]);
        assert_eq!(l.highmem_regions(), [MemRegion::new(0x6200_0000, 32 * MIB)]);

        let l = vexpress_with(64, false, Some("976M"));
        assert_eq!(
            notice_texts(&l),
            ["Truncating RAM at 0x60000000-0x64000000 to -0x62000000"]
        );
        assert_eq!((l.lowmem_bytes(), l.total_bytes()), (32 * MIB, 32 * MIB));
        assert_eq!(l.high_memory(), 0xc200_0000);
    }
}

mod banks {
    use super::*;

    #[test]
    fn unsorted_banks_are_sorted() {
        let banks = [
            MemRegion::new(0x7000_0000, 16 * MIB),
            MemRegion::new(0x6000_0000, 16 * MIB),
        ];
        let l = compute(&banks, false, None).unwrap();
        assert_eq!(l.lowmem_regions(), [banks[1], banks[0]]);
        assert_eq!(l.arm_lowmem_limit(), 0x7100_0000);
        // The lowmem line spans the hole; the byte count does not.
        assert_eq!(l.high_memory(), 0xd100_0000);
        assert_eq!(l.lowmem_bytes(), 32 * MIB);
        assert_eq!(l.vmalloc_start(), 0xd180_0000);
    }

    /// memblock merges touching regions, so two 512 MiB banks give one
    /// Truncating notice for the whole 1 GiB.
    #[test]
    fn touching_banks_merge() {
        let banks = [
            MemRegion::new(0x8000_0000, 512 * MIB),
            MemRegion::new(0x6000_0000, 512 * MIB),
        ];
        let l = compute(&banks, false, None).unwrap();
        assert_eq!(
            notice_texts(&l),
            ["Truncating RAM at 0x60000000-0xa0000000 to -0x8f800000"]
        );
        assert_eq!(l.lowmem_regions(), [MemRegion::new(0x6000_0000, 760 * MIB)]);
        assert_eq!(l, vexpress(1024, false));
    }

    /// memblock_merge_regions merges chains of touching banks, whatever
    /// their order, keeps a hole between banks, and an overlap is found
    /// against the region merged so far.
    #[test]
    fn chains_of_touching_banks_merge_in_any_order() {
        let a = MemRegion::new(0x6000_0000, 16 * MIB);
        let b = MemRegion::new(0x6100_0000, 16 * MIB);
        let c = MemRegion::new(0x6200_0000, 32 * MIB);
        let d = MemRegion::new(0x7000_0000, 16 * MIB);
        for banks in [[a, b, c, d], [d, c, b, a], [c, a, d, b], [b, d, a, c]] {
            let l = compute(&banks, true, None).unwrap();
            assert_eq!(
                l.lowmem_regions(),
                [MemRegion::new(0x6000_0000, 64 * MIB), d]
            );
        }
        let across = MemRegion::new(0x61ff_f000, 0x2000);
        assert_eq!(
            compute(&[b, across, a], true, None),
            Err(LayoutError::Overlap {
                first: MemRegion::new(0x6000_0000, 32 * MIB),
                second: across
            })
        );
    }

    #[test]
    fn bank_above_the_limit_is_ignored_without_highmem() {
        let banks = [
            MemRegion::new(0x6000_0000, 512 * MIB),
            MemRegion::new(0x9000_0000, 256 * MIB),
        ];
        let l = compute(&banks, false, None).unwrap();
        assert_eq!(
            notice_texts(&l),
            ["Ignoring RAM at 0x90000000-0xa0000000 (!CONFIG_HIGHMEM)"]
        );
        assert_eq!(l.lowmem_regions(), [banks[0]]);
        assert_eq!(l.total_bytes(), 512 * MIB);
        assert_eq!(l.removed_bytes(), 256 * MIB);
        assert_eq!(l.high_memory(), 0xe000_0000);

        let l = compute(&banks, true, None).unwrap();
        assert!(l.notices().is_empty());
        assert_eq!(l.highmem_regions(), [banks[1]]);
        assert_eq!(l.total_bytes(), 768 * MIB);
        assert_eq!(l.high_memory(), 0xe000_0000);
    }

    #[test]
    fn truncation_then_ignoring() {
        let banks = [
            MemRegion::new(0x6000_0000, 1024 * MIB),
            MemRegion::new(0xc000_0000, 64 * MIB),
        ];
        let l = compute(&banks, false, Some("100M")).unwrap();
        assert_eq!(
            notice_texts(&l),
            [
                "Truncating RAM at 0x60000000-0xa0000000 to -0x98c00000",
                "Ignoring RAM at 0xc0000000-0xc4000000 (!CONFIG_HIGHMEM)",
            ]
        );
        let l = compute(&banks, true, Some("100M")).unwrap();
        assert_eq!(
            l.highmem_regions(),
            [
                MemRegion::new(0x98c0_0000, 0x0740_0000),
                MemRegion::new(0xc000_0000, 64 * MIB)
            ]
        );
        assert_eq!(l.total_bytes(), 1088 * MIB);
    }

    #[test]
    fn eight_banks_fit() {
        let banks: Vec<MemRegion> = (0..8)
            .map(|i| MemRegion::new(RAM_BASE + i * 128 * MIB, 64 * MIB))
            .collect();
        let l = compute(&banks, false, None).unwrap();
        assert_eq!(l.lowmem_regions().len(), 6);
        assert_eq!(l.notices().len(), 2);
        assert_eq!(
            notice_texts(&l)[0],
            "Ignoring RAM at 0x90000000-0x94000000 (!CONFIG_HIGHMEM)"
        );
        let l = compute(&banks, true, None).unwrap();
        assert_eq!(l.lowmem_regions().len(), 6);
        assert_eq!(l.highmem_regions().len(), 2);
        // With vmalloc= clamped too, the notice list is full.
        let l = compute(&banks, false, Some("2000M")).unwrap();
        assert_eq!(l.notices().len(), MAX_NOTICES);
        assert_eq!(
            notice_texts(&l)[..3],
            [
                "vmalloc area is too big, limiting to 976MB",
                "Truncating RAM at 0x60000000-0x64000000 to -0x62000000",
                "Ignoring RAM at 0x68000000-0x6c000000 (!CONFIG_HIGHMEM)",
            ]
        );
        assert_eq!(l.total_bytes(), 32 * MIB);
    }

    #[test]
    fn errors() {
        let ok = MemRegion::new(RAM_BASE, 64 * MIB);
        assert_eq!(compute(&[], true, None), Err(LayoutError::NoRam));
        assert_eq!(
            compute(&[ok; 9], true, None),
            Err(LayoutError::TooManyBanks { count: 9 })
        );
        assert_eq!(
            compute(&[MemRegion::new(RAM_BASE, 0)], true, None),
            Err(LayoutError::EmptyRegion { base: RAM_BASE })
        );
        assert_eq!(
            compute(&[MemRegion::new(RAM_BASE + 0x800, MIB)], true, None),
            Err(LayoutError::UnalignedRegion {
                base: RAM_BASE + 0x800,
                size: MIB
            })
        );
        assert_eq!(
            compute(&[MemRegion::new(RAM_BASE, MIB + 1)], true, None),
            Err(LayoutError::UnalignedRegion {
                base: RAM_BASE,
                size: MIB + 1
            })
        );
        assert_eq!(
            compute(&[MemRegion::new(0, 64 * MIB)], true, None),
            Err(LayoutError::BelowPhysOffset { base: 0 })
        );
        let top = MemRegion::new(0xf000_0000, 256 * MIB);
        assert_eq!(
            compute(&[ok, top], true, None),
            Err(LayoutError::BeyondAddressSpace {
                base: top.base,
                size: top.size
            })
        );
        let huge = MemRegion::new(0xffff_ffff_ffff_f000, 0x1000);
        assert!(matches!(
            compute(&[huge], true, None),
            Err(LayoutError::BeyondAddressSpace { .. })
        ));
        // The last page below 4 GiB is fine.
        assert!(compute(&[ok, MemRegion::new(0xf000_0000, 0x0fff_f000)], true, None).is_ok());
        let inside = MemRegion::new(RAM_BASE + MIB, MIB);
        assert_eq!(
            compute(&[inside, ok], true, None),
            Err(LayoutError::Overlap {
                first: ok,
                second: inside
            })
        );
        assert_eq!(
            compute(&[MemRegion::new(0x9000_0000, 64 * MIB)], true, None),
            Err(LayoutError::NoLowmem {
                vmalloc_limit: 0x8f80_0000
            })
        );
        assert_eq!(
            compute(&[MemRegion::new(0x9000_0000, 64 * MIB)], false, None),
            Err(LayoutError::NoLowmem {
                vmalloc_limit: 0x8f80_0000
            })
        );
        for bad in [0, PAGE_OFFSET, 0xc1ff_ffff, 0xfe00_0001, VMALLOC_END] {
            assert_eq!(
                sanity_check_meminfo(&[ok], true, bad),
                Err(LayoutError::VmallocMinOutOfRange { vmalloc_min: bad })
            );
        }
        for good in [0xc200_0000, VMALLOC_MIN_DEFAULT, 0xfe00_0000] {
            assert!(sanity_check_meminfo(&[ok], true, good).is_ok());
        }
    }

    #[test]
    fn error_messages() {
        let cases: [(LayoutError, &str); 5] = [
            (
                LayoutError::NoRam,
                "no RAM: the boot parameters describe no memory",
            ),
            (
                LayoutError::TooManyBanks { count: 9 },
                "9 RAM banks, but at most 8 are supported",
            ),
            (
                LayoutError::BelowPhysOffset { base: 0 },
                "RAM bank at 0x00000000 starts below PHYS_OFFSET (0x60000000)",
            ),
            (
                LayoutError::Overlap {
                    first: MemRegion::new(0x6000_0000, 0x400_0000),
                    second: MemRegion::new(0x6010_0000, 0x10_0000),
                },
                "RAM banks 0x60000000-0x64000000 and 0x60100000-0x60200000 overlap",
            ),
            (
                LayoutError::Vmalloc(ParseError::Overflow),
                "bad vmalloc= argument: number does not fit in 64 bits",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
        let source = core::error::Error::source(&LayoutError::Vmalloc(ParseError::NoDigits));
        assert!(source.is_some());
    }
}

/// memblock_limit: the 3.16-4.0 rule (first unaligned boundary, rounded
/// down to 1 MiB, else arm_lowmem_limit unrounded).
mod memblock_limit {
    use super::*;

    #[test]
    fn aligned_ram_uses_the_lowmem_limit() {
        assert_eq!(vexpress(128, false).memblock_limit(), 0x6800_0000);
    }

    #[test]
    fn unaligned_end_is_rounded_down() {
        let l = compute(&[MemRegion::new(RAM_BASE, 64 * MIB + 0x1000)], false, None).unwrap();
        assert_eq!(l.arm_lowmem_limit(), 0x6400_1000);
        assert_eq!(l.high_memory(), 0xc400_1000);
        assert_eq!(l.memblock_limit(), 0x6400_0000);
        assert_eq!(l.vmalloc_start(), 0xc480_0000);
    }

    #[test]
    fn unaligned_start_of_a_later_bank() {
        let banks = [
            MemRegion::new(RAM_BASE, 64 * MIB),
            MemRegion::new(0x7008_0000, 64 * MIB),
        ];
        let l = compute(&banks, false, None).unwrap();
        assert_eq!(l.memblock_limit(), 0x7000_0000);
        assert_eq!(l.arm_lowmem_limit(), 0x7408_0000);
    }

    /// A vmalloc= size that is not a whole MiB: Linux's arithmetic is kept
    /// as is, including its unrounded limit when HIGHMEM keeps the region
    /// whole (so no unaligned block end is seen).
    #[test]
    fn unaligned_vmalloc_limit() {
        let l = vexpress_with(1024, false, Some("100000000"));
        assert_eq!(l.vmalloc_min(), 0xf90a_1f00);
        assert_eq!(l.arm_lowmem_limit(), 0x990a_1f00);
        assert_eq!(l.high_memory(), 0xf90a_1f00);
        assert_eq!(l.vmalloc_start(), 0xf980_0000);
        assert_eq!(l.memblock_limit(), 0x9900_0000);
        assert_eq!(
            notice_texts(&l),
            ["Truncating RAM at 0x60000000-0xa0000000 to -0x990a1f00"]
        );
        let l = vexpress_with(1024, true, Some("100000000"));
        assert_eq!(l.memblock_limit(), 0x990a_1f00);
    }
}

mod printing {
    use super::*;

    fn block(layout: &Layout, sections: &KernelSections) -> Vec<String> {
        layout
            .virtual_layout_lines(sections)
            .map(|l| l.to_string())
            .collect()
    }

    const SECTIONS: KernelSections = KernelSections {
        text: (0xc000_8000, 0xc050_02f0),
        init: (0xc050_1000, 0xc052_7000),
        data: (0xc052_8000, 0xc055_e1a0),
        bss: (0xc055_e1a0, 0xc058_a7e4),
    };

    /// The 3.18.10 log's machine: 192 MB, !HIGHMEM.
    #[test]
    fn block_192mb_no_highmem() {
        assert_eq!(
            block(&vexpress(192, false), &SECTIONS),
            [
                "Virtual kernel memory layout:",
                "    vector  : 0xffff0000 - 0xffff1000   (   4 kB)",
                "    fixmap  : 0xffc00000 - 0xffe00000   (2048 kB)",
                "    vmalloc : 0xcc800000 - 0xff000000   ( 808 MB)",
                "    lowmem  : 0xc0000000 - 0xcc000000   ( 192 MB)",
                "    modules : 0xbf000000 - 0xc0000000   (  16 MB)",
                "      .text : 0xc0008000 - 0xc05002f0   (5089 kB)",
                "      .init : 0xc0501000 - 0xc0527000   ( 152 kB)",
                "      .data : 0xc0528000 - 0xc055e1a0   ( 217 kB)",
                "       .bss : 0xc055e1a0 - 0xc058a7e4   ( 178 kB)",
            ]
        );
    }

    /// The 3.17 HIGHMEM log's values (lowmem capped at 760 MB).
    #[test]
    fn block_1024mb_highmem() {
        let lines = block(&vexpress(1024, true), &SECTIONS);
        assert_eq!(lines.len(), 11);
        assert_eq!(
            lines[3..7],
            [
                "    vmalloc : 0xf0000000 - 0xff000000   ( 240 MB)",
                "    lowmem  : 0xc0000000 - 0xef800000   ( 760 MB)",
                "    pkmap   : 0xbfe00000 - 0xc0000000   (   2 MB)",
                "    modules : 0xbf000000 - 0xbfe00000   (  14 MB)",
            ]
        );
    }

    #[test]
    fn iterator_is_exact_and_fused() {
        let layout = vexpress(64, true);
        let mut lines = layout.virtual_layout_lines(&SECTIONS);
        assert_eq!(lines.len(), 11);
        assert_eq!(lines.next(), Some(VirtualLayoutLine::Header));
        assert_eq!(lines.len(), 10);
        assert_eq!(lines.by_ref().count(), 10);
        assert_eq!(lines.next(), None);
        assert_eq!(
            vexpress(64, false).virtual_layout_lines(&SECTIONS).len(),
            10
        );
        // The length stays exact at every step, pkmap or not.
        for highmem in [false, true] {
            let mut lines = vexpress(64, highmem).virtual_layout_lines(&SECTIONS);
            for left in (0..=lines.len()).rev() {
                assert_eq!(lines.len(), left);
                assert_eq!(lines.next().is_some(), left > 0);
            }
        }
    }

    #[test]
    fn size_rounding() {
        // Areas truncate; sections round up.
        let area = VirtualLayoutLine::Area {
            name: "vmalloc",
            start: 0xc000_0000,
            end: 0xc00f_ffff,
            unit: SizeUnit::Megabytes,
        };
        assert_eq!(
            area.to_string(),
            "    vmalloc : 0xc0000000 - 0xc00fffff   (   0 MB)"
        );
        let section = VirtualLayoutLine::Section {
            name: ".bss",
            start: 0xc000_0000,
            end: 0xc000_0001,
        };
        assert_eq!(
            section.to_string(),
            "       .bss : 0xc0000000 - 0xc0000001   (   1 kB)"
        );
        let empty = VirtualLayoutLine::Section {
            name: ".init",
            start: 0xc000_0000,
            end: 0xc000_0000,
        };
        assert_eq!(
            empty.to_string(),
            "      .init : 0xc0000000 - 0xc0000000   (   0 kB)"
        );
        // Wider than %4d: the field grows, as in C.
        let big = VirtualLayoutLine::Section {
            name: ".text",
            start: 0xc000_8000,
            end: 0xc100_8000,
        };
        assert_eq!(
            big.to_string(),
            "      .text : 0xc0008000 - 0xc1008000   (16384 kB)"
        );
    }

    /// The names are padded by hand exactly as `{:<8}` and `{:>11}` pad
    /// them (C's `%-8s` and `%11s`): to the column, and not at all when
    /// they are wider.
    #[test]
    fn names_padded_as_core_pads_them() {
        for name in [
            "",
            "a",
            "pkmap",
            ".bss",
            "vmalloc",
            "12345678",
            "123456789ab",
            "a name wider than both",
        ] {
            let area = VirtualLayoutLine::Area {
                name,
                start: 0xbf00_0000,
                end: 0xbfe0_0000,
                unit: SizeUnit::Megabytes,
            };
            assert_eq!(
                area.to_string(),
                std::format!("    {name:<8}: 0xbf000000 - 0xbfe00000   (  14 MB)")
            );
            let section = VirtualLayoutLine::Section {
                name,
                start: 0xc000_0000,
                end: 0xc000_0400,
            };
            assert_eq!(
                section.to_string(),
                std::format!("{name:>11} : 0xc0000000 - 0xc0000400   (   1 kB)")
            );
        }
    }

    #[test]
    fn memory_line_without_highmem() {
        let line = MemoryLine {
            free_kb: 59240,
            total_kb: 65536,
            code_kb: 3912,
            rwdata_kb: 214,
            rodata_kb: 1176,
            init_kb: 155,
            bss_kb: 176,
            reserved_kb: 6296,
            highmem_kb: None,
        };
        assert_eq!(
            line.to_string(),
            "Memory: 59240K/65536K available (3912K kernel code, 214K rwdata, 1176K rodata, 155K init, 176K bss, 6296K reserved)"
        );
    }

    #[test]
    fn memory_line_from_bytes() {
        // The 3.18.10 RPi log line, from byte counts with odd remainders.
        let sizes = MemorySizes {
            free_bytes: 177_372 << 10,
            total_bytes: 196_608 << 10,
            code_bytes: (5885 << 10) + 1023,
            rwdata_bytes: (348 << 10) + 1,
            rodata_bytes: 1868 << 10,
            init_bytes: (340 << 10) + 512,
            bss_bytes: 733 << 10,
            reserved_bytes: 19_236 << 10,
            highmem_bytes: None,
        };
        assert_eq!(
            MemoryLine::from_bytes(&sizes).to_string(),
            "Memory: 177372K/196608K available (5885K kernel code, 348K rwdata, 1868K rodata, 340K init, 733K bss, 19236K reserved)"
        );
        let with_highmem = MemorySizes {
            highmem_bytes: Some(270_336 << 10),
            ..sizes
        };
        assert_eq!(
            MemoryLine::from(with_highmem).to_string(),
            "Memory: 177372K/196608K available (5885K kernel code, 348K rwdata, 1868K rodata, 340K init, 733K bss, 19236K reserved, 270336K highmem)"
        );
        let zero_highmem = MemoryLine {
            highmem_kb: Some(0),
            ..MemoryLine::default()
        };
        assert!(
            zero_highmem
                .to_string()
                .ends_with(", 0K reserved, 0K highmem)")
        );
    }

    /// `VMALLOC_START` is always a multiple of `VMALLOC_OFFSET` (8 MB), so it
    /// never lies less than 8 MB below the kernel's DEBUG_LL section at
    /// 0xf8000000 (kernel/src/mm/init.rs, `debug_ll_is_an_area`, relies on
    /// it): every RAM size, with and without highmem, every `vmalloc=`.
    #[test]
    fn vmalloc_start_never_lies_just_below_debug_ll() {
        const DEBUG_LL: u32 = 0xf800_0000;
        let mut seen_above = false;
        let mut seen_below = false;
        for mb in (4u64..=2048).step_by(4) {
            let ram = [MemRegion::new(u64::from(PHYS_OFFSET), mb << 20)];
            for highmem in [false, true] {
                for arg in [
                    None,
                    Some(16),
                    Some(100),
                    Some(120),
                    Some(128),
                    Some(240),
                    Some(976),
                ] {
                    let arg = arg.map(|m| std::format!("{m}M"));
                    let Ok(l) = compute(&ram, highmem, arg.as_deref()) else {
                        continue;
                    };
                    let start = l.vmalloc_start();
                    assert_eq!(start % VMALLOC_OFFSET, 0, "{mb} MB {arg:?}");
                    assert!(start >= DEBUG_LL || start <= DEBUG_LL - VMALLOC_OFFSET);
                    seen_above |= start >= DEBUG_LL;
                    seen_below |= start < DEBUG_LL;
                }
            }
        }
        assert!(seen_above && seen_below);
    }

    /// Counts are Linux's 32-bit `unsigned long`: the largest one fits,
    /// one more wraps to 0 (no 32-bit `phys_addr_t` machine gets there).
    #[test]
    fn memory_line_counts_are_unsigned_long() {
        let sizes = MemorySizes {
            free_bytes: u64::from(u32::MAX) << 10,
            total_bytes: 1 << 42,
            highmem_bytes: Some(((1 << 32) + 5) << 10),
            ..MemorySizes::default()
        };
        let line = MemoryLine::from_bytes(&sizes);
        assert_eq!(line.free_kb, u32::MAX);
        assert_eq!(
            line.to_string(),
            "Memory: 4294967295K/0K available (0K kernel code, 0K rwdata, 0K rodata, 0K init, 0K bss, 0K reserved, 5K highmem)"
        );
    }
}

/// Invariants over every RAM size vexpress-a9 can have, in 1 MiB steps.
mod sweeps {
    use super::*;

    fn check_common(l: &Layout, ram: u64) {
        let hm = u64::from(l.high_memory());
        let vs = u64::from(l.vmalloc_start());
        let ctx = (ram / MIB, l.highmem(), l.vmalloc_min());
        // The 8 MiB hole: VMALLOC_START is aligned and strictly above
        // high_memory, by at most VMALLOC_OFFSET.
        assert_eq!(vs % u64::from(VMALLOC_OFFSET), 0, "{ctx:?}");
        assert!(vs > hm && vs - hm <= u64::from(VMALLOC_OFFSET), "{ctx:?}");
        assert_eq!(l.vmalloc_end(), 0xff00_0000);
        // Equal only for a vmalloc= just over 16 MiB with 1 GiB of RAM:
        // Linux's arithmetic then leaves no vmalloc space at all.
        assert!(vs <= u64::from(VMALLOC_END));
        // Lowmem never passes vmalloc_min, and the linear map is consistent.
        assert!(l.high_memory() <= l.vmalloc_min(), "{ctx:?}");
        assert_eq!(
            u64::from(virt_to_phys(l.high_memory() - 1)) + 1,
            l.arm_lowmem_limit()
        );
        assert!(l.arm_lowmem_limit() <= l.vmalloc_limit());
        assert_eq!(l.memblock_limit(), l.arm_lowmem_limit(), "{ctx:?}");
        // Fixed areas, in order, never overlapping.
        assert_eq!(l.modules_vaddr(), 0xbf00_0000);
        assert_eq!(l.modules_end(), modules_end(l.highmem()));
        assert_eq!(l.pkmap().is_some(), l.highmem());
        assert_eq!(l.fixmap(), (0xffc0_0000, 0xffe0_0000));
        assert_eq!(l.vector(), (0xffff_0000, 0xffff_1000));
        assert!(l.modules_end() <= PAGE_OFFSET && PAGE_OFFSET < l.high_memory());
        // Accounting.
        assert_eq!(l.lowmem_bytes(), u64::from(l.high_memory() - PAGE_OFFSET));
        assert_eq!(l.lowmem_bytes() + l.highmem_bytes(), l.total_bytes());
        assert_eq!(l.total_bytes() + l.removed_bytes(), ram, "{ctx:?}");
        if l.highmem() {
            assert_eq!(l.removed_bytes(), 0);
        } else {
            assert_eq!(l.highmem_bytes(), 0);
            assert!(l.highmem_regions().is_empty());
        }
        // The printed sizes agree with the numbers.
        let (_, _, lowmem_mb) = area_values(l, "lowmem");
        assert_eq!(u64::from(lowmem_mb), l.lowmem_bytes() / MIB);
        let (_, _, vmalloc_mb) = area_values(l, "vmalloc");
        assert_eq!(vmalloc_mb, (VMALLOC_END - l.vmalloc_start()) >> 20);
    }

    #[test]
    fn every_ram_size_default_vmalloc() {
        for mb in 64..=1024 {
            let ram = mb * MIB;
            for highmem in [false, true] {
                let l = vexpress(mb, highmem);
                check_common(&l, ram);
                let lowmem = ram.min(760 * MIB);
                assert_eq!(l.lowmem_bytes(), lowmem, "{mb} MB");
                assert_eq!(l.high_memory(), PAGE_OFFSET + lowmem as u32);
                assert!(l.vmalloc_start() >= 0xf000_0000 || mb < 760);
                let next_8mb = (lowmem / MIB / 8 + 1) * 8 * MIB;
                assert_eq!(l.vmalloc_start(), PAGE_OFFSET + next_8mb as u32);
                let (_, _, vmalloc_mb) = area_values(&l, "vmalloc");
                assert!(vmalloc_mb >= 240);
                if highmem {
                    assert_eq!(l.lowmem_bytes() + l.highmem_bytes(), ram);
                    assert!(l.notices().is_empty());
                    if mb > 760 {
                        let expect = MemRegion::new(0x8f80_0000, ram - 760 * MIB);
                        assert_eq!(l.highmem_regions(), [expect]);
                    }
                } else {
                    assert_eq!(l.total_bytes(), lowmem);
                    assert_eq!(l.notices().len(), usize::from(mb > 760), "{mb} MB");
                }
                assert_eq!(
                    area(&l, "modules").unwrap().size(),
                    if highmem { 14 } else { 16 }
                );
            }
        }
    }

    /// Every vmalloc= size from 16 to 976 MiB (in 8 MiB steps, plus the
    /// ends), against RAM sizes from 64 MiB to 1 GiB (in 24 MiB steps).
    #[test]
    fn every_vmalloc_size() {
        let reserves = (16..=976).step_by(8).chain([17, 975, 976]);
        for reserve_mb in reserves {
            let arg = std::format!("{reserve_mb}M");
            for mb in (64..=1024).step_by(24).chain([1024]) {
                for highmem in [false, true] {
                    let l = vexpress_with(mb, highmem, Some(&arg));
                    check_common(&l, mb * MIB);
                    assert_eq!(l.vmalloc_min(), VMALLOC_END - (reserve_mb << 20) as u32);
                    // At least the 32 MiB early_vmalloc promises, and never
                    // more than the limit allows.
                    let limit = u64::from(l.vmalloc_min() - PAGE_OFFSET);
                    assert_eq!(l.lowmem_bytes(), (mb * MIB).min(limit));
                    assert!(l.lowmem_bytes() >= 32 * MIB);
                    // With RAM up to the limit, vmalloc starts at the 8 MiB
                    // boundary above vmalloc_min. For a multiple of 8 MiB
                    // that is the request minus the guard hole; with less
                    // RAM the area is larger.
                    let size = u64::from(VMALLOC_END - l.vmalloc_start());
                    let hole = u64::from(VMALLOC_OFFSET);
                    if mb * MIB >= limit {
                        let start = (l.vmalloc_min() + VMALLOC_OFFSET) & !(VMALLOC_OFFSET - 1);
                        assert_eq!(l.vmalloc_start(), start);
                        if reserve_mb % 8 == 0 {
                            assert_eq!(size + hole, reserve_mb * MIB);
                        }
                    } else if reserve_mb % 8 == 0 {
                        assert!(size + hole > reserve_mb * MIB);
                    }
                    assert!(l.vmalloc_warning().is_none());
                }
            }
        }
    }
}
