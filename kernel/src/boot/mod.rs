//! What the boot loader hands over, parsed into one [`BootInfo`].
//!
//! # The protocol
//!
//! Linux's ARM boot protocol (Documentation/arm/Booting) enters the kernel
//! with the MMU and caches off, `r0` = 0, `r1` = the machine type and `r2` =
//! the physical address of the boot parameters. Those come in one of two
//! forms, and the kernel tells them apart by the first word:
//!
//! * a **tagged list (ATAGs)**, the original protocol: a chain of
//!   `{size, tag, payload}` records starting with `ATAG_CORE`
//!   (arch/arm/include/uapi/asm/setup.h; see [`parse_atags`]);
//! * a **flattened device tree (DTB)**, which starts with the big-endian
//!   magic 0xd00dfeed (see [`parse_dtb`]).
//!
//! # What QEMU's vexpress-a9 passes
//!
//! For a Linux image (a raw `Image`/zImage or a Linux uImage), QEMU's
//! hw/arm/boot.c writes a four-instruction stub at 0x60000000 that loads
//! `r1` = 0x8e0 (the vexpress board id) and `r2` and jumps to the kernel:
//!
//! * without `-dtb`, `set_kernel_args` writes ATAGs at loader_start + 0x100
//!   = **0x60000100**: CORE, MEM (the whole RAM), INITRD2 (with `-initrd`),
//!   CMDLINE (with a non-empty `-append`) and the terminator. `r2` points at
//!   them. This is the default way Kobold boots.
//! * with `-dtb FILE`, QEMU writes *no* ATAGs. It loads FILE after the initrd
//!   (`r2` = align_up(initrd_start + initrd_size, 4 KiB)), first replacing
//!   every /memory node with /memory@60000000 holding the real RAM size and
//!   setting /chosen/bootargs and linux,initrd-start/-end (`arm_load_dtb`).
//!
//! Both forms are supported because both are how QEMU boots Linux, and a
//! Linux 3.18 vexpress kernel itself only boots from a DTB (mach-vexpress is
//! DT-only) while older kernels and most bare-metal loaders use ATAGs.
//! Either way the kernel needs the same few facts, the RAM banks, the
//! command line and the initrd, so both parsers fill the same [`BootInfo`].
//!
//! # Trust
//!
//! Nothing here trusts its input: `r2` may point at anything, so every
//! length and offset is bounds-checked and a malformed list or tree gives a
//! typed [`BootError`], never a panic. The structure has a fixed capacity (no
//! allocator exists this early) and owns its data, so it outlives the
//! memory the parameters sit in. The module has no `unsafe`: the caller maps
//! the parameters and hands them in as a byte slice.
#![forbid(unsafe_code)]

mod atags;
mod dtb;

pub use atags::parse_atags;
pub use dtb::{DtbError, dtb_total_size, looks_like_dtb, parse_dtb};

use core::fmt;

/// Most RAM banks recorded. Linux 3.18 ARM's `NR_BANKS` was 8 too; it warned
/// and ignored the rest, Kobold refuses the list instead.
pub const MAX_MEM_BANKS: usize = 8;
/// The size of Linux ARM's command-line buffer (`COMMAND_LINE_SIZE`), NUL
/// included, so the longest command line kept is one byte shorter.
pub const COMMAND_LINE_SIZE: usize = 1024;
/// The longest machine model kept (vexpress-a9's is "V2P-CA9").
const MODEL_SIZE: usize = 128;

/// One bank of RAM: a physical start address and a size in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemBank {
    pub start: u64,
    pub size: u64,
}

/// Which protocol the boot parameters came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootSource {
    /// An ATAG list (QEMU without `-dtb`).
    Atags,
    /// A flattened device tree (QEMU with `-dtb`).
    Dtb,
}

/// The boot parameters, parsed and owned.
///
/// Built only by [`parse_atags`] and [`parse_dtb`], so it always holds at
/// least one RAM bank of non-zero size whose end does not wrap, a command
/// line of valid UTF-8 shorter than [`COMMAND_LINE_SIZE`], and an initrd, if
/// any, of non-zero size.
#[derive(Clone)]
pub struct BootInfo {
    source: BootSource,
    banks: [MemBank; MAX_MEM_BANKS],
    nbanks: usize,
    cmdline: [u8; COMMAND_LINE_SIZE],
    cmdline_len: usize,
    initrd: Option<(u64, u64)>,
    model: [u8; MODEL_SIZE],
    model_len: usize,
    dtb: Option<(u64, u64)>,
}

impl BootInfo {
    fn new(source: BootSource) -> Self {
        BootInfo {
            source,
            banks: [MemBank::default(); MAX_MEM_BANKS],
            nbanks: 0,
            cmdline: [0; COMMAND_LINE_SIZE],
            cmdline_len: 0,
            initrd: None,
            model: [0; MODEL_SIZE],
            model_len: 0,
            dtb: None,
        }
    }

    /// Whether the parameters were ATAGs or a device tree.
    pub fn source(&self) -> BootSource {
        self.source
    }

    /// The RAM banks, in the order the boot loader listed them.
    pub fn mem_banks(&self) -> &[MemBank] {
        &self.banks[..self.nbanks]
    }

    /// The kernel command line; "" when there is none.
    ///
    /// Like Linux's `strlcpy` into `boot_command_line`, it stops at the
    /// first NUL and keeps at most [`COMMAND_LINE_SIZE`] - 1 bytes. Bytes
    /// that are not UTF-8 (including a character cut by that limit) read as
    /// '?'.
    pub fn cmdline(&self) -> &str {
        // Always valid: `copy_text` only stores UTF-8.
        core::str::from_utf8(&self.cmdline[..self.cmdline_len]).unwrap_or("")
    }

    /// The initrd's physical start and size in bytes, if there is one.
    pub fn initrd(&self) -> Option<(u64, u64)> {
        self.initrd
    }

    /// The device tree's `/model` (e.g. "V2P-CA9"); None with ATAGs or when
    /// the tree has none.
    pub fn machine_model(&self) -> Option<&str> {
        core::str::from_utf8(&self.model[..self.model_len])
            .ok()
            .filter(|s| !s.is_empty())
    }

    /// Where the device tree itself lies (physical start, `totalsize`), so
    /// that memblock can reserve it; None with ATAGs. The start is the
    /// `dtb_phys` the caller passed to [`parse_dtb`].
    pub fn dtb_phys_range(&self) -> Option<(u64, u64)> {
        self.dtb
    }

    /// Records a RAM bank. Zero-sized banks are skipped, as Linux's
    /// `arm_add_memory` and `early_init_dt_scan_memory` skip them.
    fn add_bank(&mut self, start: u64, size: u64) -> Result<(), BootError> {
        if size == 0 {
            return Ok(());
        }
        if start.checked_add(size).is_none() {
            return Err(BootError::BadMemBank { start, size });
        }
        let slot = self
            .banks
            .get_mut(self.nbanks)
            .ok_or(BootError::TooManyBanks)?;
        *slot = MemBank { start, size };
        self.nbanks += 1;
        Ok(())
    }

    /// Records the initrd; a zero-sized one is no initrd (Linux tests
    /// `phys_initrd_size` the same way).
    fn set_initrd(&mut self, start: u64, size: u64) {
        self.initrd = (size != 0).then_some((start, size));
    }

    fn set_cmdline(&mut self, bytes: &[u8]) {
        self.cmdline_len = copy_text(&mut self.cmdline[..COMMAND_LINE_SIZE - 1], bytes);
    }

    fn set_model(&mut self, bytes: &[u8]) {
        self.model_len = copy_text(&mut self.model, bytes);
    }
}

impl fmt::Debug for BootInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootInfo")
            .field("source", &self.source)
            .field("mem_banks", &self.mem_banks())
            .field("cmdline", &self.cmdline())
            .field("initrd", &self.initrd)
            .field("machine_model", &self.machine_model())
            .field("dtb_phys_range", &self.dtb)
            .finish()
    }
}

/// Copies the text in `src` up to its first NUL into `dst`, cut to
/// `dst.len()` bytes, with each invalid UTF-8 sequence replaced by one '?'.
/// Returns the length written, which is never more than the bytes read, so
/// the result always fits.
fn copy_text(dst: &mut [u8], src: &[u8]) -> usize {
    let end = src.iter().position(|&b| b == 0).unwrap_or(src.len());
    let src = &src[..end.min(dst.len())];
    // Valid text, what boot loaders write, is copied as it is. `from_utf8`
    // runs at boot anyway (`BootInfo::cmdline`), while the chunk loop below
    // was code QEMU translated only for this (docs/BENCHMARKS.md).
    if core::str::from_utf8(src).is_ok() {
        dst[..src.len()].copy_from_slice(src);
        return src.len();
    }
    copy_lossy(dst, src)
}

/// The general case of [`copy_text`]: `src`, already cut to `dst.len()`
/// bytes, with each invalid UTF-8 sequence replaced by one '?'.
fn copy_lossy(dst: &mut [u8], src: &[u8]) -> usize {
    let mut len = 0;
    for chunk in src.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        dst[len..len + valid.len()].copy_from_slice(valid);
        len += valid.len();
        if !chunk.invalid().is_empty() {
            dst[len] = b'?';
            len += 1;
        }
    }
    len
}

/// Why the boot parameters were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootError {
    /// `r2` does not point into the first 1 GB of RAM, where boot.S maps
    /// the boot parameters: there are neither ATAGs nor a DTB to read.
    NotInRam { r2: u32 },
    /// The ATAG list does not start with ATAG_CORE (0x54410001): `r2` does
    /// not point at ATAGs at all.
    NoAtagCore,
    /// The ATAG at byte `offset` runs past the end of the data given (its
    /// header, or its payload as its size field claims it).
    Truncated { offset: usize },
    /// The ATAG at byte `offset` has a size (in 32-bit words, header
    /// included) that its tag cannot have: less than the 2-word header, too
    /// small for the tag's payload, or 0 with a tag other than ATAG_NONE.
    BadTagSize { offset: usize, size: u32 },
    /// More than [`MAX_MEM_BANKS`] RAM banks.
    TooManyBanks,
    /// A RAM bank whose end lies beyond the 64-bit address space.
    BadMemBank { start: u64, size: u64 },
    /// The parameters describe no RAM at all.
    NoMemory,
    /// The device tree is malformed or unsupported.
    Dtb(DtbError),
}

impl From<DtbError> for BootError {
    fn from(e: DtbError) -> Self {
        BootError::Dtb(e)
    }
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BootError::NotInRam { r2 } => {
                write!(
                    f,
                    "no ATAGs or DTB: r2 ({r2:#010x}) does not point into RAM"
                )
            }
            BootError::NoAtagCore => {
                write!(f, "ATAG list does not start with ATAG_CORE (0x54410001)")
            }
            BootError::Truncated { offset } => {
                write!(
                    f,
                    "ATAG at offset {offset:#x} runs past the end of the data"
                )
            }
            BootError::BadTagSize { offset, size } => write!(
                f,
                "ATAG at offset {offset:#x} has an impossible size of {size} words"
            ),
            BootError::TooManyBanks => write!(f, "more than {MAX_MEM_BANKS} RAM banks"),
            BootError::BadMemBank { start, size } => write!(
                f,
                "RAM bank at {start:#x} of {size:#x} bytes wraps around the address space"
            ),
            BootError::NoMemory => write!(f, "the boot parameters describe no RAM"),
            BootError::Dtb(e) => write!(f, "device tree: {e}"),
        }
    }
}

impl core::error::Error for BootError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_at_nul_and_limit_and_kept_utf8() {
        let mut buf = [0u8; 8];
        assert_eq!(copy_text(&mut buf, b"ab\0cd"), 2);
        assert_eq!(&buf[..2], b"ab");
        assert_eq!(copy_text(&mut buf, b"0123456789"), 8);
        assert_eq!(&buf, b"01234567");
        let n = copy_text(&mut buf, "é\u{ff}x".as_bytes());
        assert_eq!(core::str::from_utf8(&buf[..n]), Ok("é\u{ff}x"));
        let n = copy_text(&mut buf, b"a\xffb\xc3");
        assert_eq!(&buf[..n], b"a?b?");
        // A character cut by the limit becomes '?', never half a character.
        let n = copy_text(&mut buf, "1234567é".as_bytes());
        assert_eq!(&buf[..n], b"1234567?");
        assert_eq!(copy_text(&mut buf, b""), 0);
        assert_eq!(copy_text(&mut [], b"abc"), 0);
    }

    /// The shortcut for valid text gives what the chunk loop gives.
    #[test]
    fn valid_text_shortcut_matches_the_lossy_copy() {
        let texts: [&[u8]; 7] = [
            b"console=ttyAMA0 vmalloc=256M",
            "é\u{ff}x".as_bytes(),
            "1234567é".as_bytes(),
            b"a\xffb\xc3",
            b"\xe2\x82",
            b"",
            b"01234567",
        ];
        for text in texts {
            for cut in 0..=8 {
                let src = &text[..text.len().min(cut)];
                let (mut a, mut b) = ([0u8; 8], [0u8; 8]);
                let n = copy_text(&mut a, src);
                assert_eq!(n, copy_lossy(&mut b, src), "{src:?}");
                assert_eq!(a[..n], b[..n], "{src:?}");
            }
        }
    }

    #[test]
    fn banks_are_bounded_and_checked() {
        let mut info = BootInfo::new(BootSource::Atags);
        info.add_bank(0x6000_0000, 0).unwrap();
        assert!(info.mem_banks().is_empty());
        assert_eq!(
            info.add_bank(u64::MAX, 2),
            Err(BootError::BadMemBank {
                start: u64::MAX,
                size: 2
            })
        );
        for i in 0..MAX_MEM_BANKS as u64 {
            info.add_bank(i << 20, 1 << 20).unwrap();
        }
        assert_eq!(info.add_bank(0, 1), Err(BootError::TooManyBanks));
        assert_eq!(info.mem_banks().len(), MAX_MEM_BANKS);
    }

    #[test]
    fn errors_read_well() {
        assert_eq!(
            BootError::BadTagSize {
                offset: 0x14,
                size: 1
            }
            .to_string(),
            "ATAG at offset 0x14 has an impossible size of 1 words"
        );
        assert_eq!(
            BootError::Dtb(DtbError::BadMagic).to_string(),
            "device tree: bad magic (not 0xd00dfeed)"
        );
    }
}
