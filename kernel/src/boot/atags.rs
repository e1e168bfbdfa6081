//! The ATAG list (arch/arm/include/uapi/asm/setup.h): a sequence of
//! `{u32 size_in_words, u32 tag, payload}` records, little-endian, starting
//! with ATAG_CORE and ending with a record of size 0 (ATAG_NONE). QEMU writes
//! CORE, MEM, INITRD2 (with -initrd), CMDLINE (with -append) and NONE.

use super::{BootError, BootInfo, BootSource};

#[cfg(test)]
pub const ATAG_NONE: u32 = 0x0000_0000;
pub const ATAG_CORE: u32 = 0x5441_0001;
pub const ATAG_MEM: u32 = 0x5441_0002;
pub const ATAG_INITRD: u32 = 0x5441_0005;
pub const ATAG_INITRD2: u32 = 0x5442_0005;
pub const ATAG_CMDLINE: u32 = 0x5441_0009;

fn word(bytes: &[u8], at: usize) -> Result<u32, BootError> {
    let b = at
        .checked_add(4)
        .and_then(|end| bytes.get(at..end))
        .ok_or(BootError::Truncated { offset: at })?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Parses the ATAG list at the start of `bytes`.
pub fn parse_atags(bytes: &[u8]) -> Result<BootInfo, BootError> {
    let mut info = BootInfo::new(BootSource::Atags);
    let mut at = 0usize;
    let mut first = true;
    loop {
        let size = word(bytes, at)?;
        if size == 0 {
            break; // ATAG_NONE
        }
        let tag = word(bytes, at + 4)?;
        if first && tag != ATAG_CORE {
            return Err(BootError::NoAtagCore);
        }
        first = false;
        let len = (size as usize)
            .checked_mul(4)
            .ok_or(BootError::BadTagSize { offset: at, size })?;
        if size < 2 {
            return Err(BootError::BadTagSize { offset: at, size });
        }
        let end = at
            .checked_add(len)
            .ok_or(BootError::BadTagSize { offset: at, size })?;
        let payload = bytes
            .get(at + 8..end)
            .ok_or(BootError::Truncated { offset: at })?;
        let p =
            |i: usize| word(payload, i * 4).map_err(|_| BootError::BadTagSize { offset: at, size });
        match tag {
            // ATAG_CORE is size 2 (no payload) or 5 (flags, pagesize, rootdev).
            ATAG_CORE if size != 2 && size != 5 => {
                return Err(BootError::BadTagSize { offset: at, size });
            }
            ATAG_CORE => {}
            ATAG_MEM => info.add_bank(p(1)? as u64, p(0)? as u64)?,
            ATAG_INITRD2 => info.initrd = Some((p(0)? as u64, p(1)? as u64)),
            ATAG_INITRD => {
                // A virtual address, as Linux's parse_tag_initrd converts it.
                let virt = p(0)?;
                let phys = kobold_layout::virt_to_phys(virt);
                info.initrd = Some((phys as u64, p(1)? as u64));
            }
            ATAG_CMDLINE => info.set_cmdline(payload),
            _ => {} // unknown tags are skipped, as Linux does
        }
        at = end;
    }
    if first {
        return Err(BootError::NoAtagCore);
    }
    if info.mem_banks().is_empty() {
        return Err(BootError::NoMemory);
    }
    Ok(info)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The words QEMU's `set_kernel_args` writes (hw/arm/boot.c).
    pub(crate) fn qemu_atags(ram: u32, initrd: Option<(u32, u32)>, cmdline: &str) -> Vec<u8> {
        let mut w: Vec<u32> = vec![5, ATAG_CORE, 1, 0x1000, 0, 4, ATAG_MEM, ram, 0x6000_0000];
        if let Some((start, size)) = initrd {
            w.extend([4, ATAG_INITRD2, start, size]);
        }
        if !cmdline.is_empty() {
            let mut bytes = cmdline.as_bytes().to_vec();
            bytes.push(0);
            while !bytes.len().is_multiple_of(4) {
                bytes.push(0);
            }
            w.extend([2 + bytes.len() as u32 / 4, ATAG_CMDLINE]);
            w.extend(
                bytes
                    .chunks(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
        }
        w.extend([0, ATAG_NONE]);
        w.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn parses_what_qemu_writes() {
        for (mb, initrd_start) in [
            (64u32, 0x6200_0000u32),
            (256, 0x6800_0000),
            (1024, 0x6800_0000),
        ] {
            let ram = mb << 20;
            let bytes = qemu_atags(
                ram,
                Some((initrd_start, 0x1234)),
                "console=ttyAMA0 vmalloc=256M",
            );
            let info = parse_atags(&bytes).unwrap();
            assert_eq!(info.source(), BootSource::Atags);
            assert_eq!(
                info.mem_banks(),
                &[super::super::MemBank {
                    start: 0x6000_0000,
                    size: ram as u64
                }]
            );
            assert_eq!(info.cmdline(), "console=ttyAMA0 vmalloc=256M");
            assert_eq!(info.initrd(), Some((initrd_start as u64, 0x1234)));
            assert_eq!(info.machine_model(), None);
        }
        let info = parse_atags(&qemu_atags(128 << 20, None, "")).unwrap();
        assert_eq!(info.cmdline(), "");
        assert_eq!(info.initrd(), None);
    }

    #[test]
    fn long_command_lines_are_cut_like_linux() {
        let long = "x".repeat(2000);
        let info = parse_atags(&qemu_atags(64 << 20, None, &long)).unwrap();
        assert_eq!(info.cmdline().len(), super::super::COMMAND_LINE_SIZE - 1);
    }

    #[test]
    fn malformed_lists_give_their_own_errors() {
        let good = qemu_atags(64 << 20, None, "a");
        // Every truncation is an error, never a panic.
        for n in 0..good.len() - 4 {
            assert!(parse_atags(&good[..n]).is_err(), "truncated at {n}");
        }
        assert_eq!(
            parse_atags(&[]).unwrap_err(),
            BootError::Truncated { offset: 0 }
        );
        let mut no_core = good.clone();
        no_core[4..8].copy_from_slice(&ATAG_MEM.to_le_bytes());
        assert_eq!(parse_atags(&no_core).unwrap_err(), BootError::NoAtagCore);
        let mut tiny = good.clone();
        tiny[20..24].copy_from_slice(&1u32.to_le_bytes()); // MEM with size 1
        assert_eq!(
            parse_atags(&tiny).unwrap_err(),
            BootError::BadTagSize {
                offset: 20,
                size: 1
            }
        );
        let mut huge = good.clone();
        huge[20..24].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        assert!(matches!(
            parse_atags(&huge).unwrap_err(),
            BootError::Truncated { offset: 20 }
        ));
        let mut short_mem = good.clone();
        short_mem[20..24].copy_from_slice(&3u32.to_le_bytes()); // MEM without start
        assert!(parse_atags(&short_mem).is_err());
        let only_core: Vec<u8> = [5u32, ATAG_CORE, 1, 0x1000, 0, 0, 0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(parse_atags(&only_core).unwrap_err(), BootError::NoMemory);
        let mut nine: Vec<u32> = vec![2, ATAG_CORE];
        for i in 0..9 {
            nine.extend([4, ATAG_MEM, 0x100_0000, 0x6000_0000 + i * 0x100_0000]);
        }
        nine.extend([0, 0]);
        let nine: Vec<u8> = nine.iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(parse_atags(&nine).unwrap_err(), BootError::TooManyBanks);
        let garbage: Vec<u8> = (0..512u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        assert!(parse_atags(&garbage).is_err());
    }
}
