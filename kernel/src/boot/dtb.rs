//! Flattened device trees (the Devicetree Specification v0.4, chapter 5
//! "Flattened Devicetree (DTB) Format"), read with the `fdt` crate.
//!
//! `fdt` assumes a well-formed blob and panics (asserts, `expect`) on some
//! broken ones, so [`parse_dtb`] first walks the header and the whole
//! structure block itself — every token, name, property length and string
//! offset bounds-checked — and only hands a blob that passed to `fdt`.
//!
//! Read: `/memory*` nodes' `reg` (with the root's #address-cells and
//! #size-cells), `/chosen/bootargs`, `/chosen/linux,initrd-start` and
//! `linux,initrd-end`, and `/model`.

use super::{BootError, BootInfo, BootSource};

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
const HEADER_LEN: usize = 40;

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Whether `bytes` starts with the FDT magic.
pub fn looks_like_dtb(bytes: &[u8]) -> bool {
    be32(bytes, 0) == Some(FDT_MAGIC)
}

/// The blob's `totalsize` from its header.
pub fn dtb_total_size(header: &[u8]) -> Option<usize> {
    if !looks_like_dtb(header) {
        return None;
    }
    be32(header, 4).map(|s| s as usize)
}

fn malformed(offset: usize, what: &'static str) -> BootError {
    BootError::DtbMalformed { offset, what }
}

/// A NUL-terminated, UTF-8 string starting at `at`; returns its length.
fn cstr_len(bytes: &[u8], at: usize) -> Option<usize> {
    let rest = bytes.get(at..)?;
    let n = rest.iter().position(|&b| b == 0)?;
    core::str::from_utf8(&rest[..n]).ok()?;
    Some(n)
}

/// Checks the header and every token of the structure block.
fn validate(blob: &[u8]) -> Result<(), BootError> {
    if !looks_like_dtb(blob) {
        return Err(BootError::DtbBadMagic);
    }
    let h = |i: usize| be32(blob, i * 4).ok_or(BootError::Truncated { offset: i * 4 });
    if blob.len() < HEADER_LEN {
        return Err(BootError::Truncated { offset: blob.len() });
    }
    let total = h(1)? as usize;
    let (off_struct, off_strings, off_rsv) = (h(2)? as usize, h(3)? as usize, h(4)? as usize);
    let (version, last_comp) = (h(5)?, h(6)?);
    let (size_strings, size_struct) = (h(8)? as usize, h(9)? as usize);
    if total > blob.len() {
        return Err(BootError::Truncated { offset: blob.len() });
    }
    if version < 17 || last_comp > 17 {
        return Err(BootError::DtbVersion { version });
    }
    let in_blob = |off: usize, len: usize| off.checked_add(len).is_some_and(|e| e <= total);
    if !in_blob(off_struct, size_struct) || off_struct % 4 != 0 {
        return Err(malformed(8, "structure block outside the blob"));
    }
    if !in_blob(off_strings, size_strings) {
        return Err(malformed(12, "strings block outside the blob"));
    }
    // The memory reservation map: (u64, u64) pairs ending with two zeros.
    let mut at = off_rsv;
    loop {
        if !in_blob(at, 16) {
            return Err(malformed(at, "memory reservation map runs off the blob"));
        }
        if blob[at..at + 16].iter().all(|&b| b == 0) {
            break;
        }
        at += 16;
    }
    let strings = &blob[off_strings..off_strings + size_strings];
    let block = &blob[off_struct..off_struct + size_struct];
    let mut at = 0usize;
    let mut depth = 0usize;
    loop {
        let abs = off_struct + at;
        let token =
            be32(block, at).ok_or(malformed(abs, "structure block ends without FDT_END"))?;
        at += 4;
        match token {
            FDT_BEGIN_NODE => {
                let n = cstr_len(block, at).ok_or(malformed(abs, "bad node name"))?;
                at = (at + n + 1).next_multiple_of(4);
                depth += 1;
                if depth > 64 {
                    return Err(malformed(abs, "nodes nested too deeply"));
                }
            }
            FDT_END_NODE => {
                depth = depth
                    .checked_sub(1)
                    .ok_or(malformed(abs, "unbalanced FDT_END_NODE"))?;
            }
            FDT_PROP => {
                if depth == 0 {
                    return Err(malformed(abs, "property outside any node"));
                }
                let len = be32(block, at).ok_or(malformed(abs, "truncated property"))? as usize;
                let nameoff =
                    be32(block, at + 4).ok_or(malformed(abs, "truncated property"))? as usize;
                cstr_len(strings, nameoff).ok_or(malformed(abs, "bad property name offset"))?;
                let value_end = (at + 8)
                    .checked_add(len)
                    .ok_or(malformed(abs, "huge property"))?;
                if value_end > block.len() {
                    return Err(malformed(
                        abs,
                        "property value runs off the structure block",
                    ));
                }
                at = value_end.next_multiple_of(4);
            }
            FDT_NOP => {}
            FDT_END => {
                return if depth == 0 {
                    Ok(())
                } else {
                    Err(malformed(abs, "unclosed node"))
                };
            }
            _ => return Err(malformed(abs, "unknown token")),
        }
    }
}

fn cells_value(bytes: &[u8], cells: u32) -> Option<u64> {
    match cells {
        1 => be32(bytes, 0).map(u64::from),
        2 => Some((u64::from(be32(bytes, 0)?) << 32) | u64::from(be32(bytes, 4)?)),
        _ => None,
    }
}

/// Parses a DTB found at physical address `dtb_phys`.
pub fn parse_dtb(bytes: &[u8], dtb_phys: u64) -> Result<BootInfo, BootError> {
    validate(bytes)?;
    let total = dtb_total_size(bytes).ok_or(BootError::DtbBadMagic)?;
    let fdt =
        fdt::Fdt::new(&bytes[..total]).map_err(|_| malformed(0, "rejected by the fdt parser"))?;
    let mut info = BootInfo::new(BootSource::Dtb);
    info.dtb = Some((dtb_phys, total as u64));

    let root = fdt.find_node("/").ok_or(malformed(0, "no root node"))?;
    let cell = |name: &str, default: u32| {
        root.property(name)
            .and_then(|p| be32(p.value, 0))
            .unwrap_or(default)
    };
    let (acells, scells) = (cell("#address-cells", 2), cell("#size-cells", 1));
    if !(1..=2).contains(&acells) || !(1..=2).contains(&scells) {
        return Err(BootError::DtbCells {
            address: acells,
            size: scells,
        });
    }
    if let Some(model) = root.property("model").and_then(|p| p.as_str()) {
        info.set_model(model);
    }

    for node in fdt.all_nodes() {
        let is_memory = node.name == "memory" || node.name.starts_with("memory@");
        if !is_memory {
            continue;
        }
        let Some(reg) = node.property("reg") else {
            continue;
        };
        let entry = 4 * (acells + scells) as usize;
        for chunk in reg.value.chunks(entry) {
            if chunk.len() != entry {
                return Err(malformed(0, "memory reg is not a whole number of entries"));
            }
            let base = cells_value(chunk, acells).ok_or(malformed(0, "bad memory reg"))?;
            let size = cells_value(&chunk[4 * acells as usize..], scells)
                .ok_or(malformed(0, "bad memory reg"))?;
            if size > 0 {
                info.add_bank(base, size)?;
            }
        }
    }
    if info.mem_banks().is_empty() {
        return Err(BootError::NoMemory);
    }

    if let Some(chosen) = fdt.find_node("/chosen") {
        if let Some(args) = chosen.property("bootargs") {
            info.set_cmdline(args.value);
        }
        let prop = |name: &str| {
            chosen.property(name).and_then(|p| match p.value.len() {
                4 => cells_value(p.value, 1),
                8 => cells_value(p.value, 2),
                _ => None,
            })
        };
        if let (Some(start), Some(end)) = (prop("linux,initrd-start"), prop("linux,initrd-end"))
            && end > start
        {
            info.initrd = Some((start, end - start));
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_fdt::FdtWriter;

    /// A DTB as QEMU leaves it for the kernel (hw/arm/boot.c arm_load_dtb).
    fn qemu_dtb(ram: u64, bootargs: Option<&str>, initrd: Option<(u32, u32)>) -> Vec<u8> {
        let mut w = FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_string("model", "V2P-CA9").unwrap();
        w.property_string_list(
            "compatible",
            vec!["arm,vexpress,v2p-ca9".into(), "arm,vexpress".into()],
        )
        .unwrap();
        w.property_u32("#address-cells", 1).unwrap();
        w.property_u32("#size-cells", 1).unwrap();
        let chosen = w.begin_node("chosen").unwrap();
        if let Some(args) = bootargs {
            w.property_string("bootargs", args).unwrap();
        }
        if let Some((start, end)) = initrd {
            w.property_u32("linux,initrd-start", start).unwrap();
            w.property_u32("linux,initrd-end", end).unwrap();
        }
        w.end_node(chosen).unwrap();
        let mem = w.begin_node("memory@60000000").unwrap();
        w.property_string("device_type", "memory").unwrap();
        w.property_array_u32("reg", &[0x6000_0000, ram as u32])
            .unwrap();
        w.end_node(mem).unwrap();
        w.end_node(root).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn parses_what_qemu_leaves() {
        let blob = qemu_dtb(
            512 << 20,
            Some("console=ttyAMA0 dtbtest"),
            Some((0x6800_0000, 0x6800_2000)),
        );
        assert!(looks_like_dtb(&blob));
        assert_eq!(dtb_total_size(&blob), Some(blob.len()));
        let info = parse_dtb(&blob, 0x6800_3000).unwrap();
        assert_eq!(info.source(), BootSource::Dtb);
        assert_eq!(
            info.mem_banks(),
            &[super::super::MemBank {
                start: 0x6000_0000,
                size: 512 << 20
            }]
        );
        assert_eq!(info.cmdline(), "console=ttyAMA0 dtbtest");
        assert_eq!(info.initrd(), Some((0x6800_0000, 0x2000)));
        assert_eq!(info.machine_model(), Some("V2P-CA9"));
        assert_eq!(
            info.dtb_phys_range(),
            Some((0x6800_3000, blob.len() as u64))
        );

        let bare = parse_dtb(&qemu_dtb(64 << 20, None, None), 0).unwrap();
        assert_eq!(bare.cmdline(), "");
        assert_eq!(bare.initrd(), None);
    }

    #[test]
    fn malformed_blobs_are_errors_not_panics() {
        let blob = qemu_dtb(256 << 20, Some("x"), None);
        assert_eq!(
            parse_dtb(&blob[..blob.len() - 1], 0).unwrap_err(),
            BootError::Truncated {
                offset: blob.len() - 1
            }
        );
        for n in 0..blob.len() {
            assert!(parse_dtb(&blob[..n], 0).is_err(), "truncated at {n}");
        }
        let mut bad_magic = blob.clone();
        bad_magic[0] = 0;
        assert_eq!(
            parse_dtb(&bad_magic, 0).unwrap_err(),
            BootError::DtbBadMagic
        );
        // Flip every byte of the structure and strings blocks in turn: the
        // parser may accept or refuse, but must never panic.
        for i in 40..blob.len() {
            for x in [0xff, 0x01, 0x80] {
                let mut b = blob.clone();
                b[i] ^= x;
                let _ = parse_dtb(&b, 0);
            }
        }
        let no_mem = qemu_dtb(0, None, None);
        // A zero-sized bank is skipped, leaving no RAM.
        assert_eq!(parse_dtb(&no_mem, 0).unwrap_err(), BootError::NoMemory);
    }
}
