//! Checks on the built images, without QEMU: the linker script, the layout
//! crate and the image packing must agree.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use kobold_layout::{KERNEL_RAM_PADDR, KERNEL_RAM_VADDR, SWAPPER_PG_DIR};

use crate::config::{Build, Variant};
use crate::image::{self, IH_ARCH_ARM, IH_OS_LINUX, IH_TYPE_KERNEL, UImageHeader};
use crate::kallsyms::{self, RawSymbol};

/// The highmem build's files, read once.
pub struct Images {
    pub elf: Vec<u8>,
    pub symbols: Vec<RawSymbol>,
    pub image: Vec<u8>,
    pub uimage: Vec<u8>,
}

impl Images {
    /// Reads `target/kobold/highmem/`.
    pub fn load(root: &Path) -> Result<Images> {
        let build = Build::release(Variant::Highmem);
        let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
        let elf = read(&build.elf(root))?;
        let symbols = kallsyms::read_symbols(&elf)?;
        Ok(Images {
            symbols,
            image: read(&build.image(root))?,
            uimage: read(&build.uimage(root))?,
            elf,
        })
    }

    fn symbol(&self, name: &str) -> Result<u32> {
        kallsyms::symbol_value(&self.symbols, name)
            .with_context(|| format!("no symbol `{name}` in kobold.elf: define it in linker.ld"))
    }
}

/// One named check.
pub struct ImageCheck {
    pub name: &'static str,
    pub check: fn(&Images) -> Result<()>,
}

/// Every image check.
pub const CHECKS: &[ImageCheck] = &[
    ImageCheck {
        name: "image_swapper_pg_dir",
        check: swapper_pg_dir,
    },
    ImageCheck {
        name: "image_text_stext",
        check: text_stext,
    },
    ImageCheck {
        name: "image_entry_paddr",
        check: entry_paddr,
    },
    ImageCheck {
        name: "image_kallsyms_patched",
        check: kallsyms_patched,
    },
    ImageCheck {
        name: "image_uimage_header",
        check: uimage_header,
    },
    ImageCheck {
        name: "image_uimage_data",
        check: uimage_data,
    },
];

/// The checks whose name contains `filter`.
pub fn select(filter: Option<&str>) -> Vec<&'static ImageCheck> {
    CHECKS
        .iter()
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .collect()
}

fn swapper_pg_dir(img: &Images) -> Result<()> {
    let addr = img.symbol("swapper_pg_dir")?;
    ensure!(
        SWAPPER_PG_DIR == 0xc000_4000,
        "kobold_layout::SWAPPER_PG_DIR is {SWAPPER_PG_DIR:#010x}, Linux's is 0xc0004000"
    );
    ensure!(
        addr == SWAPPER_PG_DIR,
        "swapper_pg_dir is at {addr:#010x} in the ELF but kobold_layout::SWAPPER_PG_DIR is \
         {SWAPPER_PG_DIR:#010x}: make linker.ld agree with the layout crate"
    );
    Ok(())
}

fn text_stext(img: &Images) -> Result<()> {
    ensure!(
        KERNEL_RAM_VADDR == 0xc000_8000,
        "kobold_layout::KERNEL_RAM_VADDR is {KERNEL_RAM_VADDR:#010x}, Linux's is 0xc0008000"
    );
    // As in Linux's vmlinux.lds.S: `_text` is the image's first byte (the
    // head code, boot.S), `_stext` the start of ordinary text right after it.
    let text = img.symbol("_text")?;
    ensure!(
        text == KERNEL_RAM_VADDR,
        "_text is at {text:#010x} but KERNEL_RAM_VADDR is {KERNEL_RAM_VADDR:#010x}: fix linker.ld"
    );
    let stext = img.symbol("_stext")?;
    ensure!(
        (text..text + 0x1000).contains(&stext),
        "_stext is at {stext:#010x}, not within the head text after _text {text:#010x}"
    );
    Ok(())
}

fn entry_paddr(img: &Images) -> Result<()> {
    ensure!(
        KERNEL_RAM_PADDR == 0x6000_8000,
        "kobold_layout::KERNEL_RAM_PADDR is {KERNEL_RAM_PADDR:#010x}, expected 0x60008000"
    );
    let paddr = image::entry_paddr(&img.elf)?;
    ensure!(
        paddr == KERNEL_RAM_PADDR,
        "the ELF entry point loads at physical {paddr:#010x}, not KERNEL_RAM_PADDR \
         {KERNEL_RAM_PADDR:#010x}: the entry must be the first instruction of the image"
    );
    Ok(())
}

fn kallsyms_patched(img: &Images) -> Result<()> {
    let place = kallsyms::find_section(&img.elf, kallsyms::SECTION)?
        .context("kobold.elf has no .kallsyms section")?;
    let bytes = &img.elf[place.offset..place.offset + place.size];
    ensure!(
        bytes.get(..4) == Some(&kallsyms::MAGIC.to_le_bytes()[..]),
        ".kallsyms does not start with the KSYM magic: `cargo xtask build` did not patch it"
    );
    let table = kallsyms::decode(bytes).context(".kallsyms has the magic but does not decode")?;
    ensure!(
        table.windows(2).all(|w| w[0].0 <= w[1].0),
        ".kallsyms entries are not sorted by address"
    );
    ensure!(
        table
            .iter()
            .any(|(addr, _, name)| *addr == KERNEL_RAM_VADDR && name == "T_text"),
        ".kallsyms lacks `_text` at {KERNEL_RAM_VADDR:#010x}"
    );
    // The Image must carry the patched table too, at the section's offset.
    let at = (place.addr - KERNEL_RAM_VADDR) as usize;
    ensure!(
        img.image.get(at..at + bytes.len()) == Some(bytes),
        "the Image's copy of .kallsyms differs from kobold.elf's: rebuild with `cargo xtask build`"
    );
    Ok(())
}

fn uimage_header(img: &Images) -> Result<()> {
    let (h, _) = UImageHeader::verify(&img.uimage)?;
    ensure!(
        h.load == KERNEL_RAM_PADDR && h.ep == KERNEL_RAM_PADDR,
        "uImage load {:#010x} / entry {:#010x}, expected {KERNEL_RAM_PADDR:#010x} for both",
        h.load,
        h.ep
    );
    ensure!(
        (h.os, h.arch, h.image_type, h.comp) == (IH_OS_LINUX, IH_ARCH_ARM, IH_TYPE_KERNEL, 0),
        "uImage is not an uncompressed Linux/ARM kernel image (os {}, arch {}, type {}, comp {})",
        h.os,
        h.arch,
        h.image_type,
        h.comp
    );
    Ok(())
}

fn uimage_data(img: &Images) -> Result<()> {
    let (h, data) = UImageHeader::verify(&img.uimage)?;
    ensure!(
        h.size as usize == img.image.len(),
        "uImage data is {} bytes, Image is {}",
        h.size,
        img.image.len()
    );
    ensure!(data == &img.image[..], "uImage data differs from Image");
    Ok(())
}
