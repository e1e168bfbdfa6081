//! The ATAG list, Linux ARM's original boot-parameter format.
//!
//! # Format
//!
//! arch/arm/include/uapi/asm/setup.h: the list is a chain of
//! `struct tag { u32 size; u32 tag; payload }` records in the CPU's byte
//! order (little-endian here). `size` counts 32-bit words *including* the
//! two-word header, so the next tag starts `size * 4` bytes on. The list
//! must start with ATAG_CORE and ends at a header whose size is 0
//! (ATAG_NONE). Linux's `parse_tags` walks exactly that way and skips tags
//! it does not know, and so does [`parse_atags`].
//!
//! | tag           | value      | words | payload                              |
//! |---------------|------------|-------|--------------------------------------|
//! | ATAG_NONE     | 0x00000000 | 0     | — (end of list)                      |
//! | ATAG_CORE     | 0x54410001 | 5 (2) | flags, pagesize, rootdev (optional)  |
//! | ATAG_MEM      | 0x54410002 | 4     | size, start (physical)               |
//! | ATAG_INITRD   | 0x54410005 | 4     | start (*virtual*), size — deprecated |
//! | ATAG_INITRD2  | 0x54420005 | 4     | start (physical), size               |
//! | ATAG_CMDLINE  | 0x54410009 | 2 + n | NUL-terminated string, word-padded   |
//!
//! # What QEMU writes
//!
//! hw/arm/boot.c `set_kernel_args`, at loader_start + 0x100 = 0x60000100 on
//! vexpress-a9, on every reset:
//!
//! ```text
//! CORE    5 0x54410001  flags=1 pagesize=0x1000 rootdev=0
//! MEM     4 0x54410002  size=ram_size start=0x60000000
//! INITRD2 4 0x54420005  start=initrd_start size=initrd_size   (only with -initrd)
//! CMDLINE n 0x54410009  "-append text\0"                      (only if non-empty)
//! NONE    0 0
//! ```
//!
//! where `initrd_start` = 0x60000000 + min(ram_size / 2, 128 MiB) (raised
//! past the kernel image if need be) and the CMDLINE size is
//! `strlen / 4 + 1 + 2` words. QEMU writes only `strlen + 1` bytes of the
//! string, so the padding after the NUL is whatever the RAM held.
//!
//! # Where Kobold is stricter than Linux
//!
//! Linux believes the list. Here `r2` may point at anything, so a size 0
//! ends the list only with the ATAG_NONE tag (0) beside it, every tag must
//! fit inside the data, and the tags Kobold reads must be long enough for
//! their payload; any of these failing is a [`BootError`].

use super::{BootError, BootInfo, BootSource};

/// Ends the list (with a size of 0).
pub const ATAG_NONE: u32 = 0x0000_0000;
/// Starts the list.
pub const ATAG_CORE: u32 = 0x5441_0001;
/// One bank of RAM: size, then physical start.
pub const ATAG_MEM: u32 = 0x5441_0002;
/// The initrd by *virtual* start address (deprecated by ATAG_INITRD2).
pub const ATAG_INITRD: u32 = 0x5441_0005;
/// The initrd by physical start address.
pub const ATAG_INITRD2: u32 = 0x5442_0005;
/// The kernel command line.
pub const ATAG_CMDLINE: u32 = 0x5441_0009;

/// Words in a tag header (`size`, `tag`).
const HEADER_WORDS: u32 = 2;
/// Words in a full ATAG_CORE (header, flags, pagesize, rootdev).
const CORE_WORDS: u32 = 5;

/// The two little-endian words at byte `at` of `bytes` (a tag's header,
/// or the first two words of its payload), if they are all there.
///
/// One read for both: the header and every payload Kobold reads come in
/// pairs, and one checked read per word was code QEMU translated four
/// times over (docs/BENCHMARKS.md).
fn le32_pair(bytes: &[u8], at: usize) -> Option<(u32, u32)> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    Some((word(0), word(4)))
}

/// Parses the ATAG list at the start of `bytes`.
///
/// `bytes` may run on past the list (the caller cannot know its length
/// before parsing it); everything after ATAG_NONE is ignored. Fails if the
/// list does not start with ATAG_CORE, if a tag is malformed or runs past
/// `bytes`, or if it describes no RAM or more than
/// [`MAX_MEM_BANKS`](super::MAX_MEM_BANKS) banks.
///
/// ATAG_INITRD's virtual start is turned into a physical address with the
/// kernel's linear map (`__virt_to_phys`, as Linux's `parse_tag_initrd`
/// does); ATAG_INITRD2, which QEMU writes, is physical already. When the
/// list has several initrd or command-line tags the last one counts, as in
/// Linux.
pub fn parse_atags(bytes: &[u8]) -> Result<BootInfo, BootError> {
    let mut info = BootInfo::new(BootSource::Atags);
    let mut offset = 0usize;
    loop {
        let truncated = BootError::Truncated { offset };
        let (size, tag) = le32_pair(bytes, offset).ok_or(truncated)?;
        if offset == 0 && tag != ATAG_CORE {
            return Err(BootError::NoAtagCore);
        }
        let bad_size = BootError::BadTagSize { offset, size };
        if size == 0 {
            if tag == ATAG_NONE {
                break;
            }
            return Err(bad_size);
        }
        if size < HEADER_WORDS {
            return Err(bad_size);
        }
        // In u64 so that a huge size reads the same on the 32-bit target as
        // on a 64-bit host: as running past the end.
        let len = u64::from(size) * 4;
        let remaining = (bytes.len() - offset) as u64;
        if len > remaining {
            return Err(truncated);
        }
        let end = offset + len as usize;
        let payload = &bytes[offset + 8..end];
        // The two words every tag Kobold reads starts with.
        let args = || le32_pair(payload, 0).ok_or(bad_size);
        match tag {
            // Linux reads flags, pagesize and rootdev when size > 2.
            ATAG_CORE if size != HEADER_WORDS && size < CORE_WORDS => return Err(bad_size),
            ATAG_MEM => {
                let (bank_size, start) = args()?;
                info.add_bank(u64::from(start), u64::from(bank_size))?;
            }
            ATAG_INITRD2 => {
                let (start, initrd_size) = args()?;
                info.set_initrd(u64::from(start), u64::from(initrd_size));
            }
            ATAG_INITRD => {
                let (virt, initrd_size) = args()?;
                let phys = kobold_layout::virt_to_phys(virt);
                info.set_initrd(u64::from(phys), u64::from(initrd_size));
            }
            ATAG_CMDLINE => info.set_cmdline(payload),
            _ => {} // Linux: "Ignoring unrecognised tag"
        }
        offset = end;
    }
    if info.mem_banks().is_empty() {
        return Err(BootError::NoMemory);
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::super::{COMMAND_LINE_SIZE, MAX_MEM_BANKS, MemBank};
    use super::*;

    const LOADER_START: u32 = 0x6000_0000;
    const MIB: u32 = 1 << 20;

    /// What QEMU's `set_kernel_args` (hw/arm/boot.c) leaves in the RAM at
    /// loader_start + 0x100, transcribed statement by statement, in a
    /// 4 KiB window whose other bytes hold `fill` (what the RAM held).
    fn qemu_set_kernel_args(
        ram_size: u32,
        initrd: Option<(u32, u32)>,
        cmdline: &str,
        fill: u8,
    ) -> Vec<u8> {
        let mut ram = vec![fill; 4096];
        let mut p = 0usize;
        let write_word = |ram: &mut Vec<u8>, p: &mut usize, w: u32| {
            ram[*p..*p + 4].copy_from_slice(&w.to_le_bytes());
            *p += 4;
        };
        // ATAG_CORE
        for w in [5, 0x5441_0001, 1, 0x1000, 0] {
            write_word(&mut ram, &mut p, w);
        }
        // ATAG_MEM
        for w in [4, 0x5441_0002, ram_size, LOADER_START] {
            write_word(&mut ram, &mut p, w);
        }
        if let Some((initrd_start, initrd_size)) = initrd
            && initrd_size != 0
        {
            // ATAG_INITRD2
            for w in [4, 0x5442_0005, initrd_start, initrd_size] {
                write_word(&mut ram, &mut p, w);
            }
        }
        if !cmdline.is_empty() {
            // ATAG_CMDLINE
            let len = cmdline.len();
            ram[p + 8..p + 8 + len].copy_from_slice(cmdline.as_bytes());
            ram[p + 8 + len] = 0;
            let words = (len >> 2) + 1;
            write_word(&mut ram, &mut p, words as u32 + 2);
            write_word(&mut ram, &mut p, 0x5441_0009);
            p += words * 4;
        }
        // ATAG_END
        write_word(&mut ram, &mut p, 0);
        write_word(&mut ram, &mut p, 0);
        ram
    }

    /// QEMU's initrd placement: loader_start + min(ram / 2, 128 MiB).
    fn qemu_initrd_start(ram_size: u32) -> u32 {
        LOADER_START + (ram_size / 2).min(128 * MIB)
    }

    /// Little-endian bytes of `words`.
    fn bytes_of(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn qemu_transcription_is_byte_exact() {
        // qemu-system-arm -M vexpress-a9 -m 256 -initrd <0x1234 bytes>
        //   -append console=ttyAMA0
        #[rustfmt::skip]
        let expected: [u8; 84] = [
            0x05, 0, 0, 0,  0x01, 0x00, 0x41, 0x54,  1, 0, 0, 0,  0x00, 0x10, 0, 0,  0, 0, 0, 0,
            0x04, 0, 0, 0,  0x02, 0x00, 0x41, 0x54,  0, 0, 0, 0x10,  0, 0, 0, 0x60,
            0x04, 0, 0, 0,  0x05, 0x00, 0x42, 0x54,  0, 0, 0, 0x68,  0x34, 0x12, 0, 0,
            0x06, 0, 0, 0,  0x09, 0x00, 0x41, 0x54,
            b'c', b'o', b'n', b's', b'o', b'l', b'e', b'=', b't', b't', b'y', b'A', b'M', b'A', b'0', 0,
            0, 0, 0, 0,  0, 0, 0, 0,
        ];
        let ram =
            qemu_set_kernel_args(256 * MIB, Some((0x6800_0000, 0x1234)), "console=ttyAMA0", 0);
        assert_eq!(&ram[..expected.len()], &expected);
        assert!(ram[expected.len()..].iter().all(|&b| b == 0));
        assert_eq!(qemu_initrd_start(256 * MIB), 0x6800_0000);
    }

    #[test]
    fn parses_what_qemu_writes() {
        let initrd_size = 0x0012_3457; // a file size, not page-aligned
        for mb in [64, 128, 256, 1024] {
            let ram_size = mb * MIB;
            let initrd_start = qemu_initrd_start(ram_size);
            for initrd in [None, Some((initrd_start, initrd_size))] {
                // Lengths 0 to 4 mod 4 exercise every CMDLINE padding.
                for cmdline in [
                    "",
                    "root",
                    "quiet",
                    "console=ttyAMA0",
                    "console=ttyAMA0 vmalloc=256M",
                ] {
                    // The padding after the NUL is stale RAM, not zeros.
                    for fill in [0x00, 0xa5] {
                        let ram = qemu_set_kernel_args(ram_size, initrd, cmdline, fill);
                        let case = format!("-m {mb} {initrd:x?} {cmdline:?} fill {fill:#x}");
                        let info = parse_atags(&ram).expect(&case);
                        assert_eq!(info.source(), BootSource::Atags, "{case}");
                        let ram_bank = MemBank {
                            start: 0x6000_0000,
                            size: u64::from(ram_size),
                        };
                        assert_eq!(info.mem_banks(), &[ram_bank], "{case}");
                        assert_eq!(info.cmdline(), cmdline, "{case}");
                        let expected = initrd.map(|(s, n)| (u64::from(s), u64::from(n)));
                        assert_eq!(info.initrd(), expected, "{case}");
                        assert_eq!(info.machine_model(), None, "{case}");
                        assert_eq!(info.dtb_phys_range(), None, "{case}");
                    }
                }
            }
        }
        assert_eq!(qemu_initrd_start(64 * MIB), 0x6200_0000);
        assert_eq!(qemu_initrd_start(1024 * MIB), 0x6800_0000);
    }

    #[test]
    fn long_command_lines_are_cut_like_linux() {
        let long = "x".repeat(2000);
        let ram = {
            let mut words = vec![
                5,
                ATAG_CORE,
                1,
                0x1000,
                0,
                4,
                ATAG_MEM,
                64 * MIB,
                LOADER_START,
            ];
            words.extend([2 + 2004 / 4, ATAG_CMDLINE]);
            let mut bytes = bytes_of(&words);
            bytes.extend(long.as_bytes());
            bytes.extend([0; 4]);
            bytes.extend(bytes_of(&[0, 0]));
            bytes
        };
        let info = parse_atags(&ram).unwrap();
        assert_eq!(info.cmdline(), &long[..COMMAND_LINE_SIZE - 1]);

        // A payload without a NUL ends with its tag; bad UTF-8 reads as '?'.
        let mut bytes = bytes_of(&[
            2,
            ATAG_CORE,
            4,
            ATAG_MEM,
            MIB,
            LOADER_START,
            3,
            ATAG_CMDLINE,
        ]);
        bytes.extend(b"a\xffbc");
        bytes.extend(bytes_of(&[0, 0]));
        assert_eq!(parse_atags(&bytes).unwrap().cmdline(), "a?bc");
    }

    #[test]
    fn other_tags_linux_knows() {
        let words = [
            2,
            ATAG_CORE, // the short form of CORE
            4,
            ATAG_MEM,
            32 * MIB,
            0x6000_0000,
            3,
            0x5441_0007,
            0x1234, // ATAG_REVISION: skipped
            4,
            ATAG_MEM,
            0,
            0x6200_0000, // an empty bank: skipped
            4,
            ATAG_MEM,
            32 * MIB,
            0x6400_0000,
            4,
            ATAG_INITRD,
            0xc080_0000,
            0x1000, // virtual: 0x60800000
            6,
            0x4142_4344,
            1,
            2,
            3,
            4, // unknown: skipped
            0,
            ATAG_NONE,
            0xdead_beef,
            0xdead_beef, // past the end: ignored
        ];
        let info = parse_atags(&bytes_of(&words)).unwrap();
        assert_eq!(
            info.mem_banks(),
            &[
                MemBank {
                    start: 0x6000_0000,
                    size: 32 << 20
                },
                MemBank {
                    start: 0x6400_0000,
                    size: 32 << 20
                },
            ]
        );
        assert_eq!(info.initrd(), Some((0x6080_0000, 0x1000)));
        assert_eq!(info.cmdline(), "");

        // An INITRD2 of size 0 is no initrd; a later initrd tag wins.
        let mut words = vec![2, ATAG_CORE, 4, ATAG_MEM, MIB, LOADER_START];
        words.extend([4, ATAG_INITRD2, 0x6010_0000, 0]);
        words.extend([0, 0]);
        assert_eq!(parse_atags(&bytes_of(&words)).unwrap().initrd(), None);
        words.truncate(words.len() - 2);
        words.extend([4, ATAG_INITRD2, 0x6020_0000, 0x10, 0, 0]);
        assert_eq!(
            parse_atags(&bytes_of(&words)).unwrap().initrd(),
            Some((0x6020_0000, 0x10))
        );
    }

    #[test]
    fn malformed_lists_give_their_own_errors() {
        let good =
            qemu_set_kernel_args(64 * MIB, Some((0x6200_0000, 0x1000)), "console=ttyAMA0", 0);
        // CORE at 0, MEM at 20, INITRD2 at 36, CMDLINE at 52, NONE at 76.
        let len = 84;
        let with_word = |at: usize, w: u32| {
            let mut b = good.clone();
            b[at..at + 4].copy_from_slice(&w.to_le_bytes());
            b
        };

        // Every truncation of the list is an error, at the tag it cuts.
        assert_eq!(
            parse_atags(&[]).unwrap_err(),
            BootError::Truncated { offset: 0 }
        );
        for n in 0..len {
            let err = parse_atags(&good[..n]).unwrap_err();
            assert!(
                matches!(err, BootError::Truncated { .. }),
                "cut at {n}: {err:?}"
            );
        }
        assert_eq!(
            parse_atags(&good[..40]).unwrap_err(),
            BootError::Truncated { offset: 36 }
        );
        parse_atags(&good[..len]).unwrap();

        // Not starting with CORE: a MEM first, or all zeros (no list at all).
        assert_eq!(
            parse_atags(&with_word(4, ATAG_MEM)).unwrap_err(),
            BootError::NoAtagCore
        );
        assert_eq!(parse_atags(&[0; 64]).unwrap_err(), BootError::NoAtagCore);

        // A zero-size tag in the middle that is not ATAG_NONE.
        assert_eq!(
            parse_atags(&with_word(36, 0)).unwrap_err(),
            BootError::BadTagSize {
                offset: 36,
                size: 0
            }
        );
        // Sizes below the header, or too small for the tag's payload.
        assert_eq!(
            parse_atags(&with_word(20, 1)).unwrap_err(),
            BootError::BadTagSize {
                offset: 20,
                size: 1
            }
        );
        assert_eq!(
            parse_atags(&with_word(20, 3)).unwrap_err(),
            BootError::BadTagSize {
                offset: 20,
                size: 3
            }
        );
        assert_eq!(
            parse_atags(&with_word(0, 3)).unwrap_err(),
            BootError::BadTagSize { offset: 0, size: 3 }
        );
        // A size running past the end of the data, however large.
        for size in [(4096 - 36) / 4 + 1, 0x4000_0000, 0x8000_0000, u32::MAX] {
            assert_eq!(
                parse_atags(&with_word(36, size)).unwrap_err(),
                BootError::Truncated { offset: 36 },
                "size {size:#x}"
            );
        }

        // CORE and NONE only: no RAM.
        let core_only = bytes_of(&[5, ATAG_CORE, 1, 0x1000, 0, 0, 0]);
        assert_eq!(parse_atags(&core_only).unwrap_err(), BootError::NoMemory);

        // More MEM tags than MAX_MEM_BANKS.
        let mut words = vec![2, ATAG_CORE];
        for i in 0..=MAX_MEM_BANKS as u32 {
            words.extend([4, ATAG_MEM, MIB, LOADER_START + i * MIB]);
        }
        words.extend([0, 0]);
        assert_eq!(
            parse_atags(&bytes_of(&words)).unwrap_err(),
            BootError::TooManyBanks
        );
        let eight = [&words[..2 + 4 * MAX_MEM_BANKS], &[0, 0]].concat();
        assert_eq!(
            parse_atags(&bytes_of(&eight)).unwrap().mem_banks().len(),
            MAX_MEM_BANKS
        );
    }

    /// A small deterministic generator (xorshift32) for the fuzz tests.
    fn xorshift(state: &mut u32) -> u32 {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        *state
    }

    #[test]
    fn garbage_never_panics() {
        let good =
            qemu_set_kernel_args(256 * MIB, Some((0x6800_0000, 0x1000)), "console=ttyAMA0", 0);
        // Every word of the list replaced by every awkward value.
        let awkward = [
            0,
            1,
            2,
            3,
            4,
            5,
            6,
            0x3ff,
            0x400,
            0x7fff_ffff,
            0x8000_0000,
            u32::MAX,
            ATAG_CORE,
            ATAG_MEM,
            ATAG_INITRD,
            ATAG_INITRD2,
            ATAG_CMDLINE,
        ];
        for at in (0..84).step_by(4) {
            for &w in &awkward {
                let mut b = good.clone();
                b[at..at + 4].copy_from_slice(&w.to_le_bytes());
                for n in [84, 80, 4096] {
                    let _ = parse_atags(&b[..n]);
                }
            }
        }
        // Random lists made of plausible tags with random sizes and words.
        let tags = [
            ATAG_CORE,
            ATAG_MEM,
            ATAG_INITRD,
            ATAG_INITRD2,
            ATAG_CMDLINE,
            0,
            7,
        ];
        let mut seed = 0x1234_5678;
        for _ in 0..2000 {
            let mut words = vec![];
            for _ in 0..xorshift(&mut seed) % 12 {
                let r = xorshift(&mut seed);
                words.push(r % 8);
                words.push(tags[(r >> 8) as usize % tags.len()]);
                for _ in 0..r % 5 {
                    words.push(xorshift(&mut seed));
                }
            }
            let bytes = bytes_of(&words);
            let cut = xorshift(&mut seed) as usize % (bytes.len() + 1);
            let _ = parse_atags(&bytes);
            let _ = parse_atags(&bytes[..cut]);
        }
        // Random bytes.
        let noise: Vec<u8> = (0..4096).map(|_| xorshift(&mut seed) as u8).collect();
        for start in 0..64 {
            let _ = parse_atags(&noise[start..]);
        }
    }
}
