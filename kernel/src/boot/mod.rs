//! What the boot loader hands over, parsed into one [`BootInfo`].
//!
//! Linux's ARM boot protocol (Documentation/arm/Booting) passes the kernel
//! `r1` = machine type and `r2` = the physical address of either an ATAG list
//! (the original protocol) or a flattened device tree (DTB). QEMU uses both:
//! for `-kernel` with a Linux image it writes ATAGs at 0x60000100
//! (hw/arm/boot.c `set_kernel_args`), and with `-dtb FILE` it loads the DTB
//! after the initrd instead, editing its /memory and /chosen nodes. Either
//! way the kernel needs the same three facts — the RAM banks, the command
//! line and the initrd — so both parsers fill the same structure.
//!
//! Nothing here trusts its input: every length and offset is checked, and a
//! malformed list gives a typed [`BootError`], never a panic. The structure
//! has fixed capacity (no allocator exists this early) and owns its data, so
//! it outlives the boot parameters' memory.
#![forbid(unsafe_code)]

mod atags;
mod dtb;

pub use atags::parse_atags;
pub use dtb::{dtb_total_size, looks_like_dtb, parse_dtb};

use core::fmt;

/// Most RAM banks recorded (Linux's NR_BANKS was 8).
pub const MAX_MEM_BANKS: usize = 8;
/// Linux ARM's COMMAND_LINE_SIZE.
pub const COMMAND_LINE_SIZE: usize = 1024;
const MODEL_LEN: usize = 64;

/// One bank of RAM, physical.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemBank {
    pub start: u64,
    pub size: u64,
}

/// Which protocol the parameters came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootSource {
    Atags,
    Dtb,
}

/// The boot parameters, owned.
#[derive(Clone, Debug)]
pub struct BootInfo {
    source: BootSource,
    banks: [MemBank; MAX_MEM_BANKS],
    nbanks: usize,
    cmdline: [u8; COMMAND_LINE_SIZE],
    cmdline_len: usize,
    initrd: Option<(u64, u64)>,
    model: [u8; MODEL_LEN],
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
            model: [0; MODEL_LEN],
            model_len: 0,
            dtb: None,
        }
    }

    pub fn source(&self) -> BootSource {
        self.source
    }

    pub fn mem_banks(&self) -> &[MemBank] {
        &self.banks[..self.nbanks]
    }

    /// The kernel command line; "" when there is none.
    pub fn cmdline(&self) -> &str {
        core::str::from_utf8(&self.cmdline[..self.cmdline_len]).unwrap_or("")
    }

    /// The initrd's physical start and size.
    pub fn initrd(&self) -> Option<(u64, u64)> {
        self.initrd
    }

    /// The device tree's `/model` (e.g. "V2P-CA9"); None with ATAGs.
    pub fn machine_model(&self) -> Option<&str> {
        core::str::from_utf8(&self.model[..self.model_len])
            .ok()
            .filter(|s| !s.is_empty())
    }

    /// Where the DTB itself lies (physical start, size), to reserve it.
    pub fn dtb_phys_range(&self) -> Option<(u64, u64)> {
        self.dtb
    }

    fn add_bank(&mut self, start: u64, size: u64) -> Result<(), BootError> {
        if self.nbanks == MAX_MEM_BANKS {
            return Err(BootError::TooManyBanks);
        }
        self.banks[self.nbanks] = MemBank { start, size };
        self.nbanks += 1;
        Ok(())
    }

    /// Stores a command line: up to the first NUL, at most
    /// COMMAND_LINE_SIZE - 1 bytes (as Linux's strlcpy), invalid UTF-8
    /// replaced by '?'.
    fn set_cmdline(&mut self, bytes: &[u8]) {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        let n = end.min(COMMAND_LINE_SIZE - 1);
        for (dst, &b) in self.cmdline.iter_mut().zip(&bytes[..n]) {
            *dst = if b.is_ascii() { b } else { b'?' };
        }
        self.cmdline_len = n;
    }

    fn set_model(&mut self, model: &str) {
        let mut n = model.len().min(MODEL_LEN);
        while !model.is_char_boundary(n) {
            n -= 1;
        }
        self.model[..n].copy_from_slice(&model.as_bytes()[..n]);
        self.model_len = n;
    }
}

/// Why the boot parameters were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootError {
    /// The list does not start with ATAG_CORE (0x54410001).
    NoAtagCore,
    /// A tag or structure runs past the end of the data.
    Truncated { offset: usize },
    /// A tag's size field is impossible.
    BadTagSize { offset: usize, size: u32 },
    /// More than MAX_MEM_BANKS RAM banks.
    TooManyBanks,
    /// No RAM described at all.
    NoMemory,
    /// Not a device tree (bad magic).
    DtbBadMagic,
    /// A device-tree version Kobold cannot read.
    DtbVersion { version: u32 },
    /// The device tree's structure is broken at `offset`.
    DtbMalformed { offset: usize, what: &'static str },
    /// `#address-cells` / `#size-cells` other than 1 or 2.
    DtbCells { address: u32, size: u32 },
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::NoAtagCore => write!(f, "ATAG list does not start with ATAG_CORE"),
            BootError::Truncated { offset } => {
                write!(f, "boot parameters truncated at offset {offset:#x}")
            }
            BootError::BadTagSize { offset, size } => {
                write!(
                    f,
                    "ATAG at offset {offset:#x} has impossible size {size} words"
                )
            }
            BootError::TooManyBanks => write!(f, "more than {MAX_MEM_BANKS} RAM banks"),
            BootError::NoMemory => write!(f, "no RAM described"),
            BootError::DtbBadMagic => write!(f, "not a device tree (bad magic)"),
            BootError::DtbVersion { version } => {
                write!(f, "unsupported device tree version {version}")
            }
            BootError::DtbMalformed { offset, what } => {
                write!(f, "malformed device tree at offset {offset:#x}: {what}")
            }
            BootError::DtbCells { address, size } => {
                write!(
                    f,
                    "unsupported #address-cells={address} / #size-cells={size}"
                )
            }
        }
    }
}

impl core::error::Error for BootError {}
