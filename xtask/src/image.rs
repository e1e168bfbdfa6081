//! The boot images made from the kernel ELF: a raw `Image` and a legacy
//! U-Boot `uImage`, as Linux's `arch/arm/boot` makes them.
//!
//! QEMU's `-kernel` loads an ELF as a bare-metal program (no boot protocol:
//! no ATAGs, no DTB pointer). A uImage or raw Image is booted as Linux
//! instead: QEMU puts ATAGs (or the DTB) in RAM and enters with r0 = 0,
//! r1 = machine id, r2 = their address. The uImage is loaded at its header's
//! load address; a raw Image always at RAM base + 0x10000 (0x60010000), so a
//! kernel booted that way must run position-independent until it has moved
//! itself to 0x60008000.
//!
//! The legacy uImage header (U-Boot `include/image.h`) is 64 big-endian
//! bytes; both CRCs are CRC-32 (IEEE), the header's computed with its own
//! CRC field zeroed.

use anyhow::{Context, Result, bail, ensure};
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};

type Header = elf::FileHeader32<object::Endianness>;

/// `IH_MAGIC`.
pub const UIMAGE_MAGIC: u32 = 0x2705_1956;
/// The header's size.
pub const UIMAGE_HEADER_LEN: usize = 64;
/// `IH_OS_LINUX`: QEMU boots only Linux uImages with the Linux protocol.
pub const IH_OS_LINUX: u8 = 5;
/// `IH_ARCH_ARM`.
pub const IH_ARCH_ARM: u8 = 2;
/// `IH_TYPE_KERNEL`.
pub const IH_TYPE_KERNEL: u8 = 2;
/// `IH_COMP_NONE`.
pub const IH_COMP_NONE: u8 = 0;

/// Largest image accepted: a bigger one means a stray segment (e.g. a
/// section linked at a virtual address only), not a bigger kernel.
const MAX_IMAGE_BYTES: u64 = 64 << 20;

/// A `PT_LOAD` segment with file contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub paddr: u32,
    pub vaddr: u32,
    pub offset: u32,
    pub filesz: u32,
    pub memsz: u32,
}

/// The ELF's loadable segments (all of them, including empty ones).
pub fn load_segments(data: &[u8]) -> Result<Vec<Segment>> {
    let header = Header::parse(data).context("parsing the ELF header")?;
    let endian = header.endian().context("reading the ELF byte order")?;
    let phdrs = header
        .program_headers(endian, data)
        .context("reading the ELF program headers")?;
    Ok(phdrs
        .iter()
        .filter(|ph| ph.p_type(endian) == elf::PT_LOAD)
        .map(|ph| Segment {
            paddr: ph.p_paddr(endian),
            vaddr: ph.p_vaddr(endian),
            offset: ph.p_offset(endian),
            filesz: ph.p_filesz(endian),
            memsz: ph.p_memsz(endian),
        })
        .collect())
}

/// The ELF's entry point, virtual.
pub fn entry(data: &[u8]) -> Result<u32> {
    let header = Header::parse(data).context("parsing the ELF header")?;
    let endian = header.endian().context("reading the ELF byte order")?;
    Ok(header.e_entry(endian))
}

/// The entry point translated to its physical (load) address through the
/// segment containing it.
pub fn entry_paddr(data: &[u8]) -> Result<u32> {
    let entry = entry(data)?;
    load_segments(data)?
        .iter()
        .find(|s| entry >= s.vaddr && entry - s.vaddr < s.memsz.max(s.filesz))
        .map(|s| entry - s.vaddr + s.paddr)
        .with_context(|| format!("the ELF entry point {entry:#010x} is in no loadable segment"))
}

/// The file ranges of the allocated sections that have contents.
fn section_file_ranges(data: &[u8]) -> Result<Vec<std::ops::Range<u64>>> {
    let header = Header::parse(data).context("parsing the ELF header")?;
    let endian = header.endian().context("reading the ELF byte order")?;
    let sections = header
        .sections(endian, data)
        .context("reading the ELF section headers")?;
    Ok(sections
        .iter()
        .filter(|sh| {
            sh.sh_flags(endian).contains(elf::SHF_ALLOC)
                && sh.sh_type(endian) != elf::SHT_NOBITS
                && sh.sh_size(endian) > 0
        })
        .map(|sh| {
            let start = u64::from(sh.sh_offset(endian));
            start..start + u64::from(sh.sh_size(endian))
        })
        .collect())
}

/// The loadable part of each `PT_LOAD` segment: the segment trimmed to the
/// file range its allocated sections cover. Segments holding no section are
/// dropped.
///
/// The trimming matters because lld puts the ELF and program headers into
/// the first `PT_LOAD` when the script leaves room below the first section
/// (linker.ld starts at 0xc0008000, so the headers land at 0xc0000000,
/// physical 0x60000000). They are no part of the kernel; `objcopy -O
/// binary`, which works from sections, leaves them out too.
pub fn loadable_segments(data: &[u8]) -> Result<Vec<Segment>> {
    let sections = section_file_ranges(data)?;
    let mut out = Vec::new();
    for s in load_segments(data)? {
        let seg = u64::from(s.offset)..u64::from(s.offset) + u64::from(s.filesz);
        let inside = sections
            .iter()
            .filter(|r| seg.start <= r.start && r.end <= seg.end);
        let (Some(start), Some(end)) = (
            inside.clone().map(|r| r.start).min(),
            inside.map(|r| r.end).max(),
        ) else {
            continue;
        };
        let skip = (start - seg.start) as u32;
        out.push(Segment {
            paddr: s.paddr + skip,
            vaddr: s.vaddr + skip,
            offset: s.offset + skip,
            filesz: (end - start) as u32,
            memsz: s.memsz - skip,
        });
    }
    Ok(out)
}

/// The raw `Image`: the loadable part of every `PT_LOAD` segment (see
/// [`loadable_segments`]) placed at its physical address, gaps
/// zero-filled, starting at the lowest one, which must be `load_addr`.
pub fn raw_image(data: &[u8], load_addr: u32) -> Result<Vec<u8>> {
    let mut segments = loadable_segments(data)?;
    segments.sort_by_key(|s| s.paddr);
    let first = segments
        .first()
        .context("the kernel ELF has no loadable segment with contents")?;
    ensure!(
        first.paddr == load_addr,
        "the kernel's lowest load address is {:#010x}, not KERNEL_RAM_PADDR {load_addr:#010x}: \
         fix the AT() addresses in linker.ld",
        first.paddr
    );
    let end = segments
        .iter()
        .map(|s| u64::from(s.paddr) + u64::from(s.filesz))
        .max()
        .unwrap_or(0);
    let len = end - u64::from(load_addr);
    ensure!(
        len <= MAX_IMAGE_BYTES,
        "the kernel image would be {len} bytes from {load_addr:#010x}: a segment is loaded far \
         from the rest (check the AT() addresses in linker.ld)"
    );
    let mut image = vec![0u8; len as usize];
    let mut covered_to = load_addr;
    for s in &segments {
        if s.paddr < covered_to {
            bail!(
                "loadable segments overlap at physical {:#010x}: fix the AT() addresses in linker.ld",
                s.paddr
            );
        }
        let src = data
            .get(s.offset as usize..s.offset as usize + s.filesz as usize)
            .with_context(|| format!("segment at {:#010x} lies outside the ELF file", s.paddr))?;
        let at = (s.paddr - load_addr) as usize;
        image[at..at + src.len()].copy_from_slice(src);
        covered_to = s.paddr + s.filesz;
    }
    Ok(image)
}

/// A legacy U-Boot image header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UImageHeader {
    pub magic: u32,
    pub hcrc: u32,
    pub time: u32,
    pub size: u32,
    pub load: u32,
    pub ep: u32,
    pub dcrc: u32,
    pub os: u8,
    pub arch: u8,
    pub image_type: u8,
    pub comp: u8,
    pub name: [u8; 32],
}

impl UImageHeader {
    /// A Linux/ARM kernel header for `data`, with both CRCs filled in.
    pub fn for_kernel(data: &[u8], load: u32, ep: u32, time: u32, name: &str) -> UImageHeader {
        let mut name_field = [0u8; 32];
        // At most 31 bytes, so the name stays NUL-terminated.
        let n = name.len().min(31);
        name_field[..n].copy_from_slice(&name.as_bytes()[..n]);
        let mut header = UImageHeader {
            magic: UIMAGE_MAGIC,
            hcrc: 0,
            time,
            size: data.len() as u32,
            load,
            ep,
            dcrc: crc32fast::hash(data),
            os: IH_OS_LINUX,
            arch: IH_ARCH_ARM,
            image_type: IH_TYPE_KERNEL,
            comp: IH_COMP_NONE,
            name: name_field,
        };
        header.hcrc = crc32fast::hash(&header.to_bytes());
        header
    }

    /// The header's 64 bytes, as stored.
    pub fn to_bytes(&self) -> [u8; UIMAGE_HEADER_LEN] {
        let mut b = [0u8; UIMAGE_HEADER_LEN];
        let words = [
            self.magic, self.hcrc, self.time, self.size, self.load, self.ep, self.dcrc,
        ];
        for (i, w) in words.iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
        b[28] = self.os;
        b[29] = self.arch;
        b[30] = self.image_type;
        b[31] = self.comp;
        b[32..].copy_from_slice(&self.name);
        b
    }

    /// Reads a header without checking it.
    pub fn parse(bytes: &[u8]) -> Result<UImageHeader> {
        ensure!(
            bytes.len() >= UIMAGE_HEADER_LEN,
            "a uImage is at least 64 bytes, got {}",
            bytes.len()
        );
        let w = |i: usize| u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        Ok(UImageHeader {
            magic: w(0),
            hcrc: w(1),
            time: w(2),
            size: w(3),
            load: w(4),
            ep: w(5),
            dcrc: w(6),
            os: bytes[28],
            arch: bytes[29],
            image_type: bytes[30],
            comp: bytes[31],
            name: bytes[32..64].try_into().expect("32 bytes"),
        })
    }

    /// Parses a whole uImage and checks its magic, both CRCs and its size.
    /// Returns the header and the data.
    pub fn verify(bytes: &[u8]) -> Result<(UImageHeader, &[u8])> {
        let header = UImageHeader::parse(bytes)?;
        ensure!(
            header.magic == UIMAGE_MAGIC,
            "bad uImage magic {:#010x}",
            header.magic
        );
        let hcrc = crc32fast::hash(
            &UImageHeader {
                hcrc: 0,
                ..header.clone()
            }
            .to_bytes(),
        );
        ensure!(
            hcrc == header.hcrc,
            "uImage header CRC {:#010x}, computed {hcrc:#010x}",
            header.hcrc
        );
        let data = &bytes[UIMAGE_HEADER_LEN..];
        ensure!(
            data.len() == header.size as usize,
            "uImage header says {} data bytes, file has {}",
            header.size,
            data.len()
        );
        let dcrc = crc32fast::hash(data);
        ensure!(
            dcrc == header.dcrc,
            "uImage data CRC {:#010x}, computed {dcrc:#010x}",
            header.dcrc
        );
        Ok((header, data))
    }
}

/// Header + data.
pub fn uimage(data: &[u8], load: u32, ep: u32, time: u32, name: &str) -> Vec<u8> {
    let mut out = UImageHeader::for_kernel(data, load, ep, time, name)
        .to_bytes()
        .to_vec();
    out.extend_from_slice(data);
    out
}

/// The uImage timestamp: `SOURCE_DATE_EPOCH` when set (reproducible
/// builds), otherwise now.
pub fn build_time() -> u32 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as u32)
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A little ARM ELF shaped like the kernel: `.text` and `.kallsyms` in
    /// one segment at 0xc0008000 (physical 0x60008000) that also maps the
    /// ELF headers just below, `.data` in a second one at 0xc000a000 after a
    /// gap, then `.bss`.
    pub(crate) fn fixture_elf(kallsyms_size: usize) -> Vec<u8> {
        assert!(kallsyms_size <= 0x1e00);
        let text_off = 0x100usize;
        let ksym_off = 0x200usize;
        let data_off = (ksym_off + kallsyms_size + 3) & !3;
        let mut f = vec![0u8; data_off + 0x10];
        f[text_off..text_off + 0x100].fill(0xe1);
        f[data_off..data_off + 0x10].fill(0xda);

        // Symbols: (name, value, size, info, shndx). Locals first.
        let section = |bind: elf::SymbolBind, typ: elf::SymbolType| (bind.0 << 4) | typ.0;
        let symbols: [(&str, u32, u32, u8, u16); 9] = [
            ("", 0, 0, 0, 0),
            (
                "$a",
                0xc000_8000,
                0,
                section(elf::STB_LOCAL, elf::STT_NOTYPE),
                1,
            ),
            (
                "local_data",
                0xc000_a000,
                4,
                section(elf::STB_LOCAL, elf::STT_OBJECT),
                3,
            ),
            (
                "swapper_pg_dir",
                0xc000_4000,
                0,
                section(elf::STB_GLOBAL, elf::STT_NOTYPE),
                elf::SHN_ABS.0,
            ),
            (
                "_text",
                0xc000_8000,
                0,
                section(elf::STB_GLOBAL, elf::STT_NOTYPE),
                1,
            ),
            (
                "_stext",
                0xc000_8000,
                0,
                section(elf::STB_GLOBAL, elf::STT_NOTYPE),
                1,
            ),
            (
                "_ZN6kernel5start17h0011223344556677E",
                0xc000_8000,
                0x80,
                section(elf::STB_GLOBAL, elf::STT_FUNC),
                1,
            ),
            (
                "__bss_start",
                0xc000_a010,
                0,
                section(elf::STB_GLOBAL, elf::STT_NOTYPE),
                4,
            ),
            (
                "_end",
                0xc000_a110,
                0,
                section(elf::STB_GLOBAL, elf::STT_NOTYPE),
                4,
            ),
        ];
        let mut strtab = vec![0u8];
        let mut symtab = Vec::new();
        for (name, value, size, info, shndx) in symbols {
            let name_off = if name.is_empty() {
                0
            } else {
                strtab.len() as u32
            };
            if !name.is_empty() {
                strtab.extend_from_slice(name.as_bytes());
                strtab.push(0);
            }
            for w in [name_off, value, size] {
                symtab.extend_from_slice(&w.to_le_bytes());
            }
            symtab.extend_from_slice(&[info, 0]);
            symtab.extend_from_slice(&shndx.to_le_bytes());
        }
        let names = [
            "",
            ".text",
            ".kallsyms",
            ".data",
            ".bss",
            ".symtab",
            ".strtab",
            ".shstrtab",
        ];
        let mut shstrtab = vec![0u8];
        let mut name_offs = vec![0u32];
        for n in &names[1..] {
            name_offs.push(shstrtab.len() as u32);
            shstrtab.extend_from_slice(n.as_bytes());
            shstrtab.push(0);
        }
        let symtab_off = f.len();
        f.extend_from_slice(&symtab);
        let strtab_off = f.len();
        f.extend_from_slice(&strtab);
        let shstrtab_off = f.len();
        f.extend_from_slice(&shstrtab);
        while !f.len().is_multiple_of(4) {
            f.push(0);
        }
        let shoff = f.len();
        let ax = (elf::SHF_ALLOC | elf::SHF_EXECINSTR).0 as u32;
        let wa = (elf::SHF_ALLOC | elf::SHF_WRITE).0 as u32;
        let a = elf::SHF_ALLOC.0 as u32;
        // (type, flags, addr, offset, size, link, info, entsize)
        type Shdr = (u32, u32, u32, usize, usize, u32, u32, u32);
        let shdrs: [Shdr; 8] = [
            (0, 0, 0, 0, 0, 0, 0, 0),
            (
                elf::SHT_PROGBITS.0,
                ax,
                0xc000_8000,
                text_off,
                0x100,
                0,
                0,
                0,
            ),
            (
                elf::SHT_PROGBITS.0,
                a,
                0xc000_8100,
                ksym_off,
                kallsyms_size,
                0,
                0,
                0,
            ),
            (
                elf::SHT_PROGBITS.0,
                wa,
                0xc000_a000,
                data_off,
                0x10,
                0,
                0,
                0,
            ),
            (
                elf::SHT_NOBITS.0,
                wa,
                0xc000_a010,
                data_off + 0x10,
                0x100,
                0,
                0,
                0,
            ),
            (elf::SHT_SYMTAB.0, 0, 0, symtab_off, symtab.len(), 6, 3, 16),
            (elf::SHT_STRTAB.0, 0, 0, strtab_off, strtab.len(), 0, 0, 0),
            (
                elf::SHT_STRTAB.0,
                0,
                0,
                shstrtab_off,
                shstrtab.len(),
                0,
                0,
                0,
            ),
        ];
        for (i, (typ, flags, addr, off, size, link, info, entsize)) in shdrs.into_iter().enumerate()
        {
            for w in [
                name_offs[i],
                typ,
                flags,
                addr,
                off as u32,
                size as u32,
                link,
                info,
                4,
                entsize,
            ] {
                f.extend_from_slice(&w.to_le_bytes());
            }
        }
        // Program headers, right after the ELF header. As lld does, the
        // first segment also maps the headers, from file offset 0.
        let phdrs: [[u32; 8]; 2] = [
            [
                elf::PT_LOAD.0,
                0,
                0xc000_8000 - text_off as u32,
                0x6000_8000 - text_off as u32,
                (text_off + 0x100 + kallsyms_size) as u32,
                (text_off + 0x100 + kallsyms_size) as u32,
                5,
                4,
            ],
            [
                elf::PT_LOAD.0,
                data_off as u32,
                0xc000_a000,
                0x6000_a000,
                0x10,
                0x110,
                6,
                4,
            ],
        ];
        let mut at = 52;
        for ph in phdrs {
            for w in ph {
                f[at..at + 4].copy_from_slice(&w.to_le_bytes());
                at += 4;
            }
        }
        // The ELF header.
        f[..16].copy_from_slice(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
        let mut h = Vec::new();
        h.extend_from_slice(&elf::ET_EXEC.0.to_le_bytes());
        h.extend_from_slice(&elf::EM_ARM.0.to_le_bytes());
        for w in [1u32, 0xc000_8000, 52, shoff as u32, 0x0500_0200] {
            h.extend_from_slice(&w.to_le_bytes());
        }
        for half in [52u16, 32, 2, 40, 8, 7] {
            h.extend_from_slice(&half.to_le_bytes());
        }
        f[16..52].copy_from_slice(&h);
        f
    }

    #[test]
    fn raw_image_places_segments_by_physical_address() {
        let elf = fixture_elf(0x40);
        let image = raw_image(&elf, 0x6000_8000).unwrap();
        assert_eq!(image.len(), 0x2010);
        assert!(image[..0x100].iter().all(|&b| b == 0xe1));
        assert!(
            image[0x140..0x2000].iter().all(|&b| b == 0),
            "gap is zero-filled"
        );
        assert!(image[0x2000..].iter().all(|&b| b == 0xda));
        assert_eq!(entry_paddr(&elf).unwrap(), 0x6000_8000);

        let err = format!("{:#}", raw_image(&elf, 0x6001_0000).unwrap_err());
        assert!(
            err.contains("0x60008000") && err.contains("linker.ld"),
            "{err}"
        );
    }

    #[test]
    fn uimage_header_round_trip() {
        let data = b"kernel bytes".to_vec();
        let img = uimage(&data, 0x6000_8000, 0x6000_8000, 1_700_000_000, "Kobold");
        assert_eq!(img.len(), 64 + data.len());
        assert_eq!(&img[..4], &[0x27, 0x05, 0x19, 0x56]);
        assert_eq!(&img[28..32], &[5, 2, 2, 0]);
        assert_eq!(&img[32..39], b"Kobold\0");
        let (h, body) = UImageHeader::verify(&img).unwrap();
        assert_eq!(
            (h.load, h.ep, h.size),
            (0x6000_8000, 0x6000_8000, data.len() as u32)
        );
        assert_eq!(body, &data[..]);

        let mut bad = img.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(format!("{:#}", UImageHeader::verify(&bad).unwrap_err()).contains("data CRC"));
        let mut bad = img;
        bad[8] ^= 1;
        assert!(format!("{:#}", UImageHeader::verify(&bad).unwrap_err()).contains("header CRC"));
    }

    #[test]
    fn uimage_header_crc_matches_u_boot() {
        // The header CRC covers the header with ih_hcrc zeroed: recompute it
        // by hand from the raw bytes.
        let img = uimage(&[], 0x6000_8000, 0x6000_8000, 0, "Kobold");
        let mut zeroed = img[..64].to_vec();
        zeroed[4..8].fill(0);
        assert_eq!(
            u32::from_be_bytes(img[4..8].try_into().unwrap()),
            crc32fast::hash(&zeroed)
        );
        // CRC-32 of no data is 0.
        assert_eq!(&img[24..28], &[0, 0, 0, 0]);
    }
}
