//! Flattened device trees, read with the `fdt` crate behind a validator.
//!
//! # Format
//!
//! A DTB (the Devicetree Specification v0.4, chapter 5) is a 40-byte
//! big-endian header (magic 0xd00dfeed, `totalsize`, the offsets and sizes of
//! its blocks, version 17) followed by three blocks: the memory reservation
//! map, the structure block (a stream of 32-bit tokens: FDT_BEGIN_NODE +
//! name, FDT_PROP + length + name offset + value, FDT_END_NODE, FDT_NOP,
//! FDT_END) and the strings block holding the property names.
//!
//! # What QEMU leaves, and what Kobold reads
//!
//! vexpress-a9 builds no tree of its own: with `-dtb FILE`, hw/arm/boot.c
//! `arm_load_dtb` loads FILE with 10000 bytes of room to grow, turns every
//! root /memory node into FDT_NOP tokens, adds /memory@60000000 with
//! `reg = <0x60000000 ram_size>` (in the root's #address-cells and
//! #size-cells, which it therefore requires), and sets /chosen's
//! `bootargs` (from `-append`) and `linux,initrd-start`/`-end` (one cell
//! each). The kernel reads what Linux 3.18's early scan reads
//! (drivers/of/fdt.c):
//!
//! * the root's `#address-cells`/`#size-cells` (`early_init_dt_scan_root`;
//!   Linux's defaults of 1 and 1 when absent), and its `model`;
//! * every node with `device_type = "memory"`, its `linux,usable-memory`
//!   or else its `reg` (`early_init_dt_scan_memory`);
//! * the root's child `chosen` (or `chosen@0`): `bootargs`,
//!   `linux,initrd-start` and `linux,initrd-end` of one or two cells
//!   (`early_init_dt_scan_chosen`).
//!
//! The memory reservation map is checked but not reported (QEMU adds
//! nothing to it and Kobold's memblock reserves the whole blob).
//!
//! # Why a validator in front of `fdt`
//!
//! `fdt` 0.1.5 trusts its input. On a broken blob it indexes out of range or
//! asserts; it recurses through /aliases when a path is missing (a crafted
//! alias loops until the stack overflows); it walks nodes deeper than 63
//! into a fixed array; and it only follows FDT_NOP tokens in some places.
//! So [`parse_dtb`] first walks the header and every token itself, with
//! every offset and length checked, and hands `fdt` only blobs inside the
//! subset it handles:
//!
//! * all blocks inside `totalsize`, version 17 layout;
//! * names NUL-terminated UTF-8, property names inside the strings block,
//!   values inside the structure block;
//! * one root node, named "", nesting at most [`MAX_DEPTH`] deep;
//! * in each node, properties before child nodes (as the spec requires);
//! * FDT_NOP only outside the root or directly among the root's children,
//!   which is where QEMU's nopped /memory nodes are.
//!
//! It then uses only `fdt`'s calls that are safe on such a blob:
//! `find_node("/")`, `all_nodes`, `children` and `property`.

use core::fmt;

use super::{BootError, BootInfo, BootSource};

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 0x1;
const FDT_END_NODE: u32 = 0x2;
const FDT_PROP: u32 = 0x3;
const FDT_NOP: u32 = 0x4;
const FDT_END: u32 = 0x9;
/// The size of a version 17 header.
const HEADER_SIZE: usize = 40;
/// The version whose layout Kobold (and `fdt`) read; dtc writes it, and
/// QEMU's libfdt converts older blobs to it when it opens them.
const FDT_VERSION: u32 = 17;
/// The deepest nesting accepted (the root is depth 1). `fdt` keeps a
/// 64-entry array of parents; real trees are a handful of levels deep.
pub const MAX_DEPTH: usize = 32;
/// Linux's `OF_ROOT_NODE_ADDR_CELLS_DEFAULT` and `..._SIZE_CELLS_DEFAULT`.
const ROOT_CELLS_DEFAULT: u32 = 1;

/// Why a device tree was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtbError {
    /// The first word is not the FDT magic 0xd00dfeed.
    BadMagic,
    /// Fewer bytes than the 40-byte header were given.
    TruncatedHeader { len: usize },
    /// `totalsize` is smaller than the header itself.
    TotalSizeTooSmall { total_size: usize },
    /// `totalsize` claims more bytes than were given.
    TotalSizeTooLarge { total_size: usize, available: usize },
    /// Not a version 17 compatible blob.
    UnsupportedVersion { version: u32, last_compatible: u32 },
    /// A block (`"structure block"`, `"strings block"`, `"memory
    /// reservation map"`) lies outside `totalsize` or is misaligned.
    BadBlock { block: &'static str },
    /// The structure block (or the reservation map) is broken at byte
    /// `offset` of the blob.
    Malformed { offset: usize, what: &'static str },
    /// The root's `#address-cells`/`#size-cells` are not 1 or 2.
    UnsupportedCells { address: u32, size: u32 },
    /// A property Kobold reads has a length its meaning forbids.
    BadProperty { name: &'static str, len: usize },
    /// /chosen's `linux,initrd-end` lies below `linux,initrd-start`.
    InitrdEndBeforeStart { start: u64, end: u64 },
}

impl fmt::Display for DtbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DtbError::BadMagic => write!(f, "bad magic (not 0xd00dfeed)"),
            DtbError::TruncatedHeader { len } => {
                write!(
                    f,
                    "only {len} bytes, less than the {HEADER_SIZE}-byte header"
                )
            }
            DtbError::TotalSizeTooSmall { total_size } => {
                write!(f, "totalsize {total_size:#x} is smaller than the header")
            }
            DtbError::TotalSizeTooLarge {
                total_size,
                available,
            } => write!(
                f,
                "totalsize {total_size:#x} is larger than the {available:#x} bytes available"
            ),
            DtbError::UnsupportedVersion {
                version,
                last_compatible,
            } => write!(
                f,
                "version {version} (compatible with {last_compatible}) is not readable as version {FDT_VERSION}"
            ),
            DtbError::BadBlock { block } => {
                write!(f, "the {block} lies outside totalsize or is misaligned")
            }
            DtbError::Malformed { offset, what } => write!(f, "at offset {offset:#x}: {what}"),
            DtbError::UnsupportedCells { address, size } => write!(
                f,
                "unsupported root #address-cells = {address}, #size-cells = {size} (need 1 or 2)"
            ),
            DtbError::BadProperty { name, len } => {
                write!(f, "property {name} has an impossible length of {len} bytes")
            }
            DtbError::InitrdEndBeforeStart { start, end } => write!(
                f,
                "linux,initrd-end {end:#x} lies below linux,initrd-start {start:#x}"
            ),
        }
    }
}

impl core::error::Error for DtbError {}

/// The big-endian word at byte `at` of `bytes`, if it is all there.
fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Whether `bytes` starts with the FDT magic (big-endian 0xd00dfeed), i.e.
/// whether `r2` points at a device tree rather than ATAGs.
pub fn looks_like_dtb(bytes: &[u8]) -> bool {
    be32(bytes, 0) == Some(FDT_MAGIC)
}

/// The blob's `totalsize` from its header, so that the caller can map or
/// slice the whole blob before parsing it.
///
/// Needs the first 40 bytes (the whole header); None when they are not all
/// there, the magic is wrong, or `totalsize` is smaller than the header.
pub fn dtb_total_size(header: &[u8]) -> Option<usize> {
    if header.len() < HEADER_SIZE || !looks_like_dtb(header) {
        return None;
    }
    let total_size = be32(header, 4)? as usize;
    (total_size >= HEADER_SIZE).then_some(total_size)
}

/// The header fields Kobold uses, as byte counts and offsets.
struct Header {
    total_size: usize,
    off_struct: usize,
    off_strings: usize,
    off_rsvmap: usize,
    size_strings: usize,
    size_struct: usize,
}

/// Reads and checks the header: magic, sizes, version, block bounds.
fn read_header(bytes: &[u8]) -> Result<Header, DtbError> {
    if bytes.len() >= 4 && !looks_like_dtb(bytes) {
        return Err(DtbError::BadMagic);
    }
    if bytes.len() < HEADER_SIZE {
        return Err(DtbError::TruncatedHeader { len: bytes.len() });
    }
    // In range: the header is all there.
    let field = |i: usize| be32(bytes, i * 4).unwrap_or(0);
    let h = Header {
        total_size: field(1) as usize,
        off_struct: field(2) as usize,
        off_strings: field(3) as usize,
        off_rsvmap: field(4) as usize,
        size_strings: field(8) as usize,
        size_struct: field(9) as usize,
    };
    let (version, last_compatible) = (field(5), field(6));
    if h.total_size < HEADER_SIZE {
        return Err(DtbError::TotalSizeTooSmall {
            total_size: h.total_size,
        });
    }
    if h.total_size > bytes.len() {
        return Err(DtbError::TotalSizeTooLarge {
            total_size: h.total_size,
            available: bytes.len(),
        });
    }
    if version < FDT_VERSION || last_compatible > FDT_VERSION {
        return Err(DtbError::UnsupportedVersion {
            version,
            last_compatible,
        });
    }
    let inside = |off: usize, size: usize| {
        off >= HEADER_SIZE && off.checked_add(size).is_some_and(|end| end <= h.total_size)
    };
    if !inside(h.off_struct, h.size_struct) || !h.off_struct.is_multiple_of(4) {
        return Err(DtbError::BadBlock {
            block: "structure block",
        });
    }
    if !inside(h.off_strings, h.size_strings) {
        return Err(DtbError::BadBlock {
            block: "strings block",
        });
    }
    if !inside(h.off_rsvmap, 16) || !h.off_rsvmap.is_multiple_of(8) {
        return Err(DtbError::BadBlock {
            block: "memory reservation map",
        });
    }
    Ok(h)
}

/// Checks that the memory reservation map, pairs of big-endian u64 address
/// and size, ends with a (0, 0) entry inside the blob.
fn check_reservations(blob: &[u8], h: &Header) -> Result<(), DtbError> {
    let mut at = h.off_rsvmap;
    loop {
        let entry = blob.get(at..at + 16).ok_or(DtbError::Malformed {
            offset: at,
            what: "the memory reservation map has no end entry",
        })?;
        if entry.iter().all(|&b| b == 0) {
            return Ok(());
        }
        at += 16;
    }
}

/// The length of the NUL-terminated UTF-8 string at `at` in `bytes`.
fn cstr_len(bytes: &[u8], at: usize) -> Option<usize> {
    let rest = bytes.get(at..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    core::str::from_utf8(&rest[..len]).ok()?;
    Some(len)
}

/// Checks every token of the structure block against the subset `fdt`
/// handles (see the module documentation).
fn check_structure(blob: &[u8], h: &Header) -> Result<(), DtbError> {
    let block = &blob[h.off_struct..h.off_struct + h.size_struct];
    let strings = &blob[h.off_strings..h.off_strings + h.size_strings];
    let mut at = 0usize;
    let mut depth = 0usize;
    let mut root_seen = false;
    // Whether the innermost open node may still take properties.
    let mut in_properties = false;
    loop {
        let offset = h.off_struct + at;
        let malformed = |what| DtbError::Malformed { offset, what };
        let token = be32(block, at).ok_or(malformed("the structure block ends without FDT_END"))?;
        at += 4;
        match token {
            FDT_BEGIN_NODE => {
                if depth == 0 && root_seen {
                    return Err(malformed("a second root node"));
                }
                let name_len = cstr_len(block, at)
                    .ok_or(malformed("a node name that is not NUL-terminated UTF-8"))?;
                if depth == 0 && name_len != 0 {
                    return Err(malformed("the root node has a name"));
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(malformed("nodes nested too deeply"));
                }
                root_seen = true;
                in_properties = true;
                at = (at + name_len + 1).next_multiple_of(4);
            }
            FDT_END_NODE => {
                depth = depth
                    .checked_sub(1)
                    .ok_or(malformed("FDT_END_NODE outside any node"))?;
                in_properties = false;
            }
            FDT_PROP => {
                if depth == 0 {
                    return Err(malformed("a property outside any node"));
                }
                if !in_properties {
                    return Err(malformed("a property after a child node or a NOP"));
                }
                let (Some(len), Some(name_offset)) = (be32(block, at), be32(block, at + 4)) else {
                    return Err(malformed("a property header runs off the structure block"));
                };
                cstr_len(strings, name_offset as usize).ok_or(malformed(
                    "a property name not NUL-terminated UTF-8 in the strings block",
                ))?;
                let value_end = (at + 8)
                    .checked_add(len as usize)
                    .filter(|&end| end <= block.len())
                    .ok_or(malformed("a property value runs off the structure block"))?;
                at = value_end.next_multiple_of(4);
            }
            FDT_NOP => match depth {
                0 => {}
                1 => in_properties = false,
                _ => return Err(malformed("FDT_NOP inside a node below the root")),
            },
            FDT_END => {
                if depth != 0 {
                    return Err(malformed("FDT_END inside a node"));
                }
                if !root_seen {
                    return Err(malformed("no root node"));
                }
                return Ok(());
            }
            _ => return Err(malformed("an unknown token")),
        }
    }
}

/// The bytes of a string property up to its NUL.
fn text(value: &[u8]) -> &[u8] {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    &value[..end]
}

/// A number of one or two big-endian cells (`of_read_number`).
fn cells_value(bytes: &[u8]) -> Option<u64> {
    match bytes.len() {
        4 => be32(bytes, 0).map(u64::from),
        8 => Some((u64::from(be32(bytes, 0)?) << 32) | u64::from(be32(bytes, 4)?)),
        _ => None,
    }
}

/// A one-cell property of the root, or `default` when absent.
fn root_cells(root: fdt::node::FdtNode<'_, '_>, name: &'static str) -> Result<u32, DtbError> {
    match root.property(name) {
        None => Ok(ROOT_CELLS_DEFAULT),
        Some(p) => match p.value.len() {
            4 => Ok(be32(p.value, 0).unwrap_or(0)),
            len => Err(DtbError::BadProperty { name, len }),
        },
    }
}

/// Parses the device tree at the start of `bytes`, found at physical
/// address `dtb_phys` (recorded as [`BootInfo::dtb_phys_range`] with the
/// blob's `totalsize`).
///
/// `bytes` must hold at least `totalsize` bytes and may hold more. Fails on
/// anything malformed (see [`DtbError`]), on more than
/// [`MAX_MEM_BANKS`](super::MAX_MEM_BANKS) banks, and when the tree
/// describes no RAM.
pub fn parse_dtb(bytes: &[u8], dtb_phys: u64) -> Result<BootInfo, BootError> {
    let h = read_header(bytes)?;
    let blob = &bytes[..h.total_size];
    check_reservations(blob, &h)?;
    check_structure(blob, &h)?;
    let refused = DtbError::Malformed {
        offset: 0,
        what: "refused by the fdt parser",
    };
    let fdt = fdt::Fdt::new(blob).map_err(|_| refused)?;
    let root = fdt.find_node("/").ok_or(refused)?;

    let mut info = BootInfo::new(BootSource::Dtb);
    info.dtb = Some((dtb_phys, h.total_size as u64));
    if let Some(model) = root.property("model") {
        info.set_model(model.value);
    }

    let address_cells = root_cells(root, "#address-cells")?;
    let size_cells = root_cells(root, "#size-cells")?;
    if !(1..=2).contains(&address_cells) || !(1..=2).contains(&size_cells) {
        return Err(DtbError::UnsupportedCells {
            address: address_cells,
            size: size_cells,
        }
        .into());
    }
    let (address_len, size_len) = (4 * address_cells as usize, 4 * size_cells as usize);
    for node in fdt.all_nodes() {
        let is_memory = node
            .property("device_type")
            .is_some_and(|p| text(p.value) == b"memory");
        if !is_memory {
            continue;
        }
        let (name, reg) = match node.property("linux,usable-memory") {
            Some(p) => ("linux,usable-memory", p),
            None => match node.property("reg") {
                Some(p) => ("reg", p),
                None => continue,
            },
        };
        if reg.value.len() % (address_len + size_len) != 0 {
            let len = reg.value.len();
            return Err(DtbError::BadProperty { name, len }.into());
        }
        for entry in reg.value.chunks_exact(address_len + size_len) {
            let (start, size) = entry.split_at(address_len);
            // Both 4 or 8 bytes long: cannot fail.
            let (start, size) = (cells_value(start), cells_value(size));
            info.add_bank(start.unwrap_or(0), size.unwrap_or(0))?;
        }
    }
    if info.mem_banks().is_empty() {
        return Err(BootError::NoMemory);
    }

    let chosen = root
        .children()
        .find(|n| n.name == "chosen" || n.name == "chosen@0");
    if let Some(chosen) = chosen {
        if let Some(bootargs) = chosen.property("bootargs") {
            info.set_cmdline(bootargs.value);
        }
        let number = |name: &'static str| -> Result<Option<u64>, DtbError> {
            chosen
                .property(name)
                .map(|p| {
                    let len = p.value.len();
                    cells_value(p.value).ok_or(DtbError::BadProperty { name, len })
                })
                .transpose()
        };
        let start = number("linux,initrd-start")?;
        let end = number("linux,initrd-end")?;
        // Like Linux, an initrd needs both properties.
        if let (Some(start), Some(end)) = (start, end) {
            if end < start {
                return Err(DtbError::InitrdEndBeforeStart { start, end }.into());
            }
            info.set_initrd(start, end - start);
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::super::{COMMAND_LINE_SIZE, MAX_MEM_BANKS, MemBank};
    use super::*;
    use vm_fdt::FdtWriter;

    const MIB: u32 = 1 << 20;

    fn ram_bank(size: u32) -> MemBank {
        MemBank {
            start: 0x6000_0000,
            size: u64::from(size),
        }
    }

    /// The root's properties as QEMU requires them and vexpress-a9 has.
    fn vexpress_root(w: &mut FdtWriter) {
        w.property_string("model", "V2P-CA9").unwrap();
        w.property_string_list(
            "compatible",
            vec!["arm,vexpress,v2p-ca9".into(), "arm,vexpress".into()],
        )
        .unwrap();
        w.property_u32("#address-cells", 1).unwrap();
        w.property_u32("#size-cells", 1).unwrap();
    }

    fn memory_node(w: &mut FdtWriter, name: &str, reg: &[u32]) {
        let node = w.begin_node(name).unwrap();
        w.property_string("device_type", "memory").unwrap();
        w.property_array_u32("reg", reg).unwrap();
        w.end_node(node).unwrap();
    }

    /// Replaces the `nth` node called `name`, from its FDT_BEGIN_NODE to its
    /// FDT_END_NODE, with FDT_NOP tokens, as libfdt's `fdt_nop_node` (and so
    /// QEMU's `qemu_fdt_nop_node`) does.
    fn nop_node(blob: &mut [u8], name: &str, nth: usize) {
        let word = |b: &[u8], at: usize| be32(b, at).unwrap();
        let off_struct = word(blob, 8) as usize;
        let mut at = off_struct;
        let mut seen = 0;
        let mut start = None;
        let mut depth = 0;
        loop {
            let token = word(blob, at);
            at += 4;
            match token {
                FDT_BEGIN_NODE => {
                    let len = blob[at..].iter().position(|&b| b == 0).unwrap();
                    if start.is_none() && &blob[at..at + len] == name.as_bytes() {
                        if seen == nth {
                            start = Some((at - 4, depth));
                        }
                        seen += 1;
                    }
                    at = (at + len + 1).next_multiple_of(4);
                    depth += 1;
                }
                FDT_END_NODE => {
                    depth -= 1;
                    if let Some((begin, d)) = start
                        && d == depth
                    {
                        for w in blob[begin..at].chunks_mut(4) {
                            w.copy_from_slice(&FDT_NOP.to_be_bytes());
                        }
                        return;
                    }
                }
                FDT_PROP => {
                    let len = word(blob, at) as usize;
                    at = (at + 8 + len).next_multiple_of(4);
                }
                FDT_NOP => {}
                _ => panic!("node {name} #{nth} not found"),
            }
        }
    }

    /// Grows `totalsize` by `slack` free bytes at the end, as QEMU's
    /// `load_device_tree` (`fdt_open_into` with 10000 bytes more) does.
    fn add_slack(blob: &mut Vec<u8>, slack: usize) {
        let total = (blob.len() + slack) as u32;
        blob[4..8].copy_from_slice(&total.to_be_bytes());
        blob.resize(blob.len() + slack, 0);
    }

    /// A tree as QEMU hands it to the kernel after `arm_load_dtb` edited
    /// xtask's vexpress-a9 tree: the new /memory@60000000 added after the
    /// root's properties, /chosen filled in, the file's own memory node
    /// turned into NOPs, 10000 bytes of slack.
    fn qemu_dtb(ram_size: u32, bootargs: Option<&str>, initrd: Option<(u32, u32)>) -> Vec<u8> {
        let mut w = FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        vexpress_root(&mut w);
        memory_node(&mut w, "memory@60000000", &[0x6000_0000, ram_size]);
        let chosen = w.begin_node("chosen").unwrap();
        if let Some(args) = bootargs {
            w.property_string("bootargs", args).unwrap();
        }
        if let Some((start, end)) = initrd {
            w.property_u32("linux,initrd-start", start).unwrap();
            w.property_u32("linux,initrd-end", end).unwrap();
        }
        w.end_node(chosen).unwrap();
        // The file's placeholder, nopped below.
        memory_node(&mut w, "memory@60000000", &[0x6000_0000, 0x0800_0000]);
        let cpus = w.begin_node("cpus").unwrap();
        w.property_u32("#address-cells", 1).unwrap();
        w.property_u32("#size-cells", 0).unwrap();
        let cpu = w.begin_node("cpu@0").unwrap();
        w.property_string("device_type", "cpu").unwrap();
        w.property_string("compatible", "arm,cortex-a9").unwrap();
        w.property_u32("reg", 0).unwrap();
        w.end_node(cpu).unwrap();
        w.end_node(cpus).unwrap();
        let uart = w.begin_node("uart@10009000").unwrap();
        w.property_string_list(
            "compatible",
            vec!["arm,pl011".into(), "arm,primecell".into()],
        )
        .unwrap();
        w.property_array_u32("reg", &[0x1000_9000, 0x1000]).unwrap();
        w.end_node(uart).unwrap();
        w.end_node(root).unwrap();
        let mut blob = w.finish().unwrap();
        nop_node(&mut blob, "memory@60000000", 1);
        add_slack(&mut blob, 10000);
        blob
    }

    /// A tree built by `body` inside a vexpress root.
    fn tree(body: impl FnOnce(&mut FdtWriter)) -> Vec<u8> {
        let mut w = FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        vexpress_root(&mut w);
        body(&mut w);
        w.end_node(root).unwrap();
        w.finish().unwrap()
    }

    fn dtb_err(bytes: &[u8]) -> DtbError {
        match parse_dtb(bytes, 0) {
            Err(BootError::Dtb(e)) => e,
            other => panic!("expected a DtbError, got {other:?}"),
        }
    }

    #[test]
    fn parses_what_qemu_leaves() {
        for mb in [64, 128, 256, 512, 1024] {
            let ram_size = mb * MIB;
            let initrd_start = 0x6000_0000 + (ram_size / 2).min(128 * MIB);
            for bootargs in [None, Some(""), Some("console=ttyAMA0 dtbtest")] {
                for initrd in [None, Some((initrd_start, initrd_start + 0x12_3457))] {
                    let blob = qemu_dtb(ram_size, bootargs, initrd);
                    let case = format!("-m {mb} {bootargs:?} {initrd:x?}");
                    assert!(looks_like_dtb(&blob));
                    assert_eq!(dtb_total_size(&blob), Some(blob.len()));
                    let dtb_phys = 0x6800_0000 + 0x13_3000;
                    let info = parse_dtb(&blob, dtb_phys).expect(&case);
                    assert_eq!(info.source(), BootSource::Dtb, "{case}");
                    assert_eq!(info.mem_banks(), &[ram_bank(ram_size)], "{case}");
                    assert_eq!(info.cmdline(), bootargs.unwrap_or(""), "{case}");
                    let expected = initrd.map(|(s, e)| (u64::from(s), u64::from(e - s)));
                    assert_eq!(info.initrd(), expected, "{case}");
                    assert_eq!(info.machine_model(), Some("V2P-CA9"), "{case}");
                    assert_eq!(
                        info.dtb_phys_range(),
                        Some((dtb_phys, blob.len() as u64)),
                        "{case}"
                    );
                }
            }
        }
    }

    #[test]
    fn bytes_past_totalsize_are_ignored() {
        let mut blob = qemu_dtb(256 * MIB, Some("x"), None);
        let total = blob.len() as u64;
        blob.extend([0xff; 100]);
        let info = parse_dtb(&blob, 0x100).unwrap();
        assert_eq!(info.dtb_phys_range(), Some((0x100, total)));
        assert_eq!(info.cmdline(), "x");
    }

    #[test]
    fn nopped_nodes_anywhere_among_the_roots_children() {
        // The nopped memory node first, between, and last; and before
        // /chosen, which `fdt`'s own path lookup would then not find.
        for nopped in 0..5 {
            let mut blob = tree(|w| {
                let names = ["memory@0", "chosen", "memory@60000000", "cpus"];
                for (i, name) in names.into_iter().enumerate() {
                    if i == nopped {
                        memory_node(w, "memory@8", &[0x8000_0000, 0x1000_0000]);
                    }
                    match name {
                        "chosen" => {
                            let n = w.begin_node(name).unwrap();
                            w.property_string("bootargs", "found").unwrap();
                            w.end_node(n).unwrap();
                        }
                        "memory@60000000" => memory_node(w, name, &[0x6000_0000, 64 * MIB]),
                        _ => {
                            let n = w.begin_node(name).unwrap();
                            w.end_node(n).unwrap();
                        }
                    }
                }
                if nopped == 4 {
                    memory_node(w, "memory@8", &[0x8000_0000, 0x1000_0000]);
                }
            });
            nop_node(&mut blob, "memory@8", 0);
            let info = parse_dtb(&blob, 0).unwrap();
            assert_eq!(
                info.mem_banks(),
                &[ram_bank(64 * MIB)],
                "nopped at {nopped}"
            );
            assert_eq!(info.cmdline(), "found", "nopped at {nopped}");
        }
    }

    #[test]
    fn two_cell_addresses_and_several_banks() {
        let mut w = FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        w.property_u32("#size-cells", 2).unwrap();
        let mem = w.begin_node("memory@60000000").unwrap();
        w.property_string("device_type", "memory").unwrap();
        w.property_array_u64(
            "reg",
            &[0x6000_0000, 0x1000_0000, 0x1_0000_0000, 0x2000_0000],
        )
        .unwrap();
        w.end_node(mem).unwrap();
        // Found by device_type, not by name or depth.
        let soc = w.begin_node("soc").unwrap();
        let sram = w.begin_node("sram@48000000").unwrap();
        w.property_string("device_type", "memory").unwrap();
        w.property_array_u64("reg", &[0x4800_0000, 0x0200_0000])
            .unwrap();
        w.end_node(sram).unwrap();
        w.end_node(soc).unwrap();
        // A node named memory without device_type is not RAM (as in Linux).
        let fake = w.begin_node("memory@70000000").unwrap();
        w.property_array_u64("reg", &[0x7000_0000, 0x1000]).unwrap();
        w.end_node(fake).unwrap();
        // linux,usable-memory wins over reg.
        let usable = w.begin_node("memory@90000000").unwrap();
        w.property_string("device_type", "memory").unwrap();
        w.property_array_u64("reg", &[0x9000_0000, 0x1000_0000])
            .unwrap();
        w.property_array_u64("linux,usable-memory", &[0x9000_0000, 0x0800_0000])
            .unwrap();
        w.end_node(usable).unwrap();
        let chosen = w.begin_node("chosen@0").unwrap();
        w.property_u64("linux,initrd-start", 0x6100_0000).unwrap();
        w.property_u64("linux,initrd-end", 0x6100_8000).unwrap();
        w.end_node(chosen).unwrap();
        w.end_node(root).unwrap();
        let info = parse_dtb(&w.finish().unwrap(), 0).unwrap();
        let bank = |start, size| MemBank { start, size };
        assert_eq!(
            info.mem_banks(),
            &[
                bank(0x6000_0000, 0x1000_0000),
                bank(0x1_0000_0000, 0x2000_0000),
                bank(0x4800_0000, 0x0200_0000),
                bank(0x9000_0000, 0x0800_0000),
            ]
        );
        assert_eq!(info.initrd(), Some((0x6100_0000, 0x8000)));
        assert_eq!(info.machine_model(), None);
        assert_eq!(info.cmdline(), "");
    }

    #[test]
    fn only_the_roots_chosen_counts() {
        let blob = tree(|w| {
            memory_node(w, "memory@60000000", &[0x6000_0000, 64 * MIB]);
            let soc = w.begin_node("soc").unwrap();
            let deep = w.begin_node("chosen").unwrap();
            w.property_string("bootargs", "deep").unwrap();
            w.end_node(deep).unwrap();
            w.end_node(soc).unwrap();
            let chosen = w.begin_node("chosen").unwrap();
            w.property_string("bootargs", "root").unwrap();
            w.end_node(chosen).unwrap();
        });
        assert_eq!(parse_dtb(&blob, 0).unwrap().cmdline(), "root");
    }

    #[test]
    fn a_self_referring_alias_does_not_recurse() {
        // No /chosen, and /aliases maps "/chosen" to itself: `fdt`'s
        // find_node("/chosen") would recurse until the stack overflows.
        let mut blob = tree(|w| {
            memory_node(w, "memory@60000000", &[0x6000_0000, 64 * MIB]);
            let aliases = w.begin_node("aliases").unwrap();
            w.property_string("Xchosen", "/chosen").unwrap();
            w.end_node(aliases).unwrap();
        });
        let at = blob.windows(8).position(|w| w == b"Xchosen\0").unwrap();
        blob[at] = b'/';
        let info = parse_dtb(&blob, 0).unwrap();
        assert_eq!(info.cmdline(), "");
        assert_eq!(info.initrd(), None);
    }

    #[test]
    fn command_line_and_model_are_cut_and_kept_utf8() {
        let long = "y".repeat(3000);
        let blob = tree(|w| {
            memory_node(w, "memory@60000000", &[0x6000_0000, 64 * MIB]);
            let chosen = w.begin_node("chosen").unwrap();
            w.property_string("bootargs", &long).unwrap();
            w.end_node(chosen).unwrap();
        });
        let info = parse_dtb(&blob, 0).unwrap();
        assert_eq!(info.cmdline(), &long[..COMMAND_LINE_SIZE - 1]);

        let blob = tree(|w| {
            memory_node(w, "memory@60000000", &[0x6000_0000, 64 * MIB]);
            let chosen = w.begin_node("chosen").unwrap();
            w.property("bootargs", b"a\xffb\0").unwrap();
            w.end_node(chosen).unwrap();
        });
        assert_eq!(parse_dtb(&blob, 0).unwrap().cmdline(), "a?b");
    }

    #[test]
    fn bad_properties_are_refused() {
        let with_chosen = |props: &[(&str, &[u8])]| {
            tree(|w| {
                memory_node(w, "memory@60000000", &[0x6000_0000, 64 * MIB]);
                let chosen = w.begin_node("chosen").unwrap();
                for (name, value) in props {
                    w.property(name, value).unwrap();
                }
                w.end_node(chosen).unwrap();
            })
        };
        let blob = with_chosen(&[
            ("linux,initrd-start", &[0, 0, 0x10, 0x68]),
            ("linux,initrd-end", &[0, 0, 0, 0x68]),
        ]);
        assert_eq!(
            dtb_err(&blob),
            DtbError::InitrdEndBeforeStart {
                start: 0x0000_1068,
                end: 0x68
            }
        );
        let blob = with_chosen(&[
            ("linux,initrd-start", &[0, 0, 0x10]),
            ("linux,initrd-end", &[0, 0, 0x20, 0]),
        ]);
        assert_eq!(
            dtb_err(&blob),
            DtbError::BadProperty {
                name: "linux,initrd-start",
                len: 3
            }
        );
        // Only one of the two: no initrd, as in Linux.
        let blob = with_chosen(&[("linux,initrd-start", &[0x68, 0, 0, 0])]);
        assert_eq!(parse_dtb(&blob, 0).unwrap().initrd(), None);

        let blob =
            tree(|w| memory_node(w, "memory@60000000", &[0x6000_0000, 64 * MIB, 0x7000_0000]));
        assert_eq!(
            dtb_err(&blob),
            DtbError::BadProperty {
                name: "reg",
                len: 12
            }
        );

        let mut w = FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 3).unwrap();
        w.property_u32("#size-cells", 1).unwrap();
        w.end_node(root).unwrap();
        assert_eq!(
            dtb_err(&w.finish().unwrap()),
            DtbError::UnsupportedCells {
                address: 3,
                size: 1
            }
        );
        let mut w = FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property("#size-cells", &[0, 1]).unwrap();
        w.end_node(root).unwrap();
        assert_eq!(
            dtb_err(&w.finish().unwrap()),
            DtbError::BadProperty {
                name: "#size-cells",
                len: 2
            }
        );
    }

    #[test]
    fn memory_is_required_and_bounded() {
        // No memory node, or only an empty bank.
        assert_eq!(
            parse_dtb(&tree(|_| {}), 0).unwrap_err(),
            BootError::NoMemory
        );
        let blob = tree(|w| memory_node(w, "memory@60000000", &[0x6000_0000, 0]));
        assert_eq!(parse_dtb(&blob, 0).unwrap_err(), BootError::NoMemory);
        let too_many: Vec<u32> = (0..=MAX_MEM_BANKS as u32)
            .flat_map(|i| [0x6000_0000 + i * MIB, MIB])
            .collect();
        let blob = tree(|w| memory_node(w, "memory@60000000", &too_many));
        assert_eq!(parse_dtb(&blob, 0).unwrap_err(), BootError::TooManyBanks);
    }

    #[test]
    fn header_errors() {
        let blob = qemu_dtb(256 * MIB, Some("x"), None);
        let with_word = |at: usize, w: u32| {
            let mut b = blob.clone();
            b[at..at + 4].copy_from_slice(&w.to_be_bytes());
            b
        };
        assert_eq!(dtb_err(&with_word(0, 0xedfe_0dd0)), DtbError::BadMagic);
        assert!(!looks_like_dtb(&with_word(0, 0xedfe_0dd0)));
        assert_eq!(dtb_err(&[]), DtbError::TruncatedHeader { len: 0 });
        assert_eq!(dtb_err(&blob[..39]), DtbError::TruncatedHeader { len: 39 });
        assert_eq!(dtb_total_size(&blob[..39]), None);
        assert_eq!(dtb_total_size(&blob[..40]), Some(blob.len()));
        assert_eq!(
            dtb_err(&with_word(4, 39)),
            DtbError::TotalSizeTooSmall { total_size: 39 }
        );
        assert_eq!(dtb_total_size(&with_word(4, 39)), None);
        let n = blob.len() - 1;
        assert_eq!(
            dtb_err(&blob[..n]),
            DtbError::TotalSizeTooLarge {
                total_size: blob.len(),
                available: n
            }
        );
        assert_eq!(
            dtb_err(&with_word(20, 16)),
            DtbError::UnsupportedVersion {
                version: 16,
                last_compatible: 16
            }
        );
        assert_eq!(
            dtb_err(&with_word(8, 0x7fff_fffc)),
            DtbError::BadBlock {
                block: "structure block"
            }
        );
        assert_eq!(
            dtb_err(&with_word(8, 42)),
            DtbError::BadBlock {
                block: "structure block"
            }
        );
        assert_eq!(
            dtb_err(&with_word(36, u32::MAX)),
            DtbError::BadBlock {
                block: "structure block"
            }
        );
        assert_eq!(
            dtb_err(&with_word(32, u32::MAX)),
            DtbError::BadBlock {
                block: "strings block"
            }
        );
        assert_eq!(
            dtb_err(&with_word(16, 8)),
            DtbError::BadBlock {
                block: "memory reservation map"
            }
        );
    }

    #[test]
    fn structure_errors() {
        let blob = tree(|w| memory_node(w, "memory@60000000", &[0x6000_0000, 64 * MIB]));
        let off_struct = be32(&blob, 8).unwrap() as usize;
        let with_word = |at: usize, w: u32| {
            let mut b = blob.clone();
            b[at..at + 4].copy_from_slice(&w.to_be_bytes());
            b
        };
        let what = |e: DtbError| match e {
            DtbError::Malformed { what, .. } => what,
            other => panic!("expected Malformed, got {other:?}"),
        };
        // The first token (the root's FDT_BEGIN_NODE) replaced.
        assert_eq!(what(dtb_err(&with_word(off_struct, 7))), "an unknown token");
        assert_eq!(
            what(dtb_err(&with_word(off_struct, FDT_END))),
            "no root node"
        );
        assert_eq!(
            what(dtb_err(&with_word(off_struct, FDT_PROP))),
            "a property outside any node"
        );
        assert_eq!(
            what(dtb_err(&with_word(off_struct, FDT_END_NODE))),
            "FDT_END_NODE outside any node"
        );
        // The root's first property's name offset out of the strings block.
        assert_eq!(
            what(dtb_err(&with_word(off_struct + 16, 0xffff))),
            "a property name not NUL-terminated UTF-8 in the strings block"
        );
        // Its length past the structure block.
        assert_eq!(
            what(dtb_err(&with_word(off_struct + 12, 0xffff))),
            "a property value runs off the structure block"
        );
        // The final FDT_END removed (the structure block cut by a word).
        let size_struct = be32(&blob, 36).unwrap();
        assert_eq!(
            what(dtb_err(&with_word(36, size_struct - 4))),
            "the structure block ends without FDT_END"
        );
        // The final FDT_END turned into a NOP, or into an END_NODE.
        let end = off_struct + size_struct as usize - 4;
        assert_eq!(
            what(dtb_err(&with_word(end, FDT_NOP))),
            "the structure block ends without FDT_END"
        );
        assert_eq!(
            what(dtb_err(&with_word(end, FDT_END_NODE))),
            "FDT_END_NODE outside any node"
        );
        // The root's FDT_END_NODE turned into FDT_END.
        assert_eq!(
            what(dtb_err(&with_word(end - 4, FDT_END))),
            "FDT_END inside a node"
        );
        // A second root after the first.
        let mut two_roots = with_word(end, FDT_BEGIN_NODE);
        two_roots.splice(end + 4..end + 4, [0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 9]);
        let grown = be32(&two_roots, 36).unwrap() + 12;
        two_roots[36..40].copy_from_slice(&grown.to_be_bytes());
        let offs = be32(&two_roots, 12).unwrap() + 12;
        two_roots[12..16].copy_from_slice(&offs.to_be_bytes());
        let total = two_roots.len() as u32;
        two_roots[4..8].copy_from_slice(&total.to_be_bytes());
        assert_eq!(what(dtb_err(&two_roots)), "a second root node");

        // A NOP inside a node below the root, and a property after it.
        let mut nop_below = tree(|w| {
            memory_node(w, "memory@60000000", &[0x6000_0000, 64 * MIB]);
            let cpus = w.begin_node("cpus").unwrap();
            memory_node(w, "inner", &[0, 1]);
            w.end_node(cpus).unwrap();
        });
        nop_node(&mut nop_below, "inner", 0);
        assert_eq!(
            what(dtb_err(&nop_below)),
            "FDT_NOP inside a node below the root"
        );
        // A NOP between the root's properties (its first one nopped).
        let mut prop_after_nop = blob.clone();
        let model = off_struct + 8; // FDT_PROP, 8, name, "V2P-CA9\0"
        for w in prop_after_nop[model..model + 20].chunks_mut(4) {
            w.copy_from_slice(&FDT_NOP.to_be_bytes());
        }
        assert_eq!(
            what(dtb_err(&prop_after_nop)),
            "a property after a child node or a NOP"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |levels: usize| {
            tree(|w| {
                memory_node(w, "memory@60000000", &[0x6000_0000, 64 * MIB]);
                let mut open = vec![];
                for _ in 1..levels {
                    open.push(w.begin_node("n").unwrap());
                }
                while let Some(node) = open.pop() {
                    w.end_node(node).unwrap();
                }
            })
        };
        parse_dtb(&nested(MAX_DEPTH), 0).unwrap();
        for levels in [MAX_DEPTH + 1, 63, 64] {
            match dtb_err(&nested(levels)) {
                DtbError::Malformed { what, .. } => assert_eq!(what, "nodes nested too deeply"),
                other => panic!("{levels} levels: {other:?}"),
            }
        }
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
        let blob = qemu_dtb(
            256 * MIB,
            Some("console=ttyAMA0"),
            Some((0x6800_0000, 0x6800_1000)),
        );
        let used = blob.len() - 10000;
        // Every truncation.
        for n in 0..blob.len() {
            assert!(parse_dtb(&blob[..n], 0).is_err(), "cut at {n}");
        }
        // Every byte flipped.
        for i in 0..used {
            for x in [0x01, 0x02, 0x04, 0x08, 0x80, 0xff] {
                let mut b = blob.clone();
                b[i] ^= x;
                let _ = parse_dtb(&b, 0);
            }
        }
        // Every word replaced by every token and by awkward numbers.
        let awkward = [
            0,
            1,
            2,
            3,
            4,
            5,
            8,
            9,
            10,
            40,
            0x7f,
            0xff,
            0x100,
            0x7fff_ffff,
            0x8000_0000,
            u32::MAX,
            used as u32,
            blob.len() as u32,
        ];
        for at in (0..used).step_by(4) {
            for &w in &awkward {
                let mut b = blob.clone();
                b[at..at + 4].copy_from_slice(&w.to_be_bytes());
                let _ = parse_dtb(&b, 0);
            }
        }
        // Random words in the structure block.
        let off_struct = be32(&blob, 8).unwrap() as usize;
        let size_struct = be32(&blob, 36).unwrap() as usize;
        let mut seed = 0x9e37_79b9;
        for _ in 0..5_000 {
            let mut b = blob.clone();
            for _ in 0..1 + xorshift(&mut seed) % 4 {
                let at = off_struct + 4 * (xorshift(&mut seed) as usize % (size_struct / 4));
                let r = xorshift(&mut seed);
                let w = if r & 1 == 0 { r >> 28 } else { r };
                b[at..at + 4].copy_from_slice(&w.to_be_bytes());
            }
            let _ = parse_dtb(&b, 0);
        }
        // Random bytes behind a good header.
        let mut noise = blob.clone();
        for byte in &mut noise[40..] {
            *byte = xorshift(&mut seed) as u8;
        }
        let _ = parse_dtb(&noise, 0);
    }
}
