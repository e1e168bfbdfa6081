//! Fixmap: compile-time virtual pages at the top of the address space for
//! short-lived mappings (Linux 3.18 arch/arm/include/asm/fixmap.h:
//! `FIXADDR_START` 0xffc00000 .. `FIXADDR_TOP` 0xffe00000, 512 slots,
//! `__fix_to_virt(x) = FIXADDR_START + (x << PAGE_SHIFT)`).
//!
//! Linux uses the slots for kmap_atomic; Kobold's highmem work will too. The
//! last slot is `devmem`'s window onto a physical page, as busybox devmem's
//! mmap of /dev/mem would be. (Device registers are not here: the drivers
//! `ioremap` them, as Linux's do.)

use kobold_layout::{FIXADDR_START, FIXADDR_TOP, PAGE_SHIFT};

/// Number of slots.
pub const FIX_SLOTS: usize = ((FIXADDR_TOP - FIXADDR_START) >> PAGE_SHIFT) as usize;

/// The first kmap_atomic slot (Linux's FIX_KMAP_BEGIN); KM_TYPE_NR follow.
pub const FIX_KMAP_BEGIN: usize = 0;

/// Named slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedAddress {
    /// The page `devmem` is reading or writing.
    Devmem,
}

impl FixedAddress {
    pub const fn index(self) -> usize {
        match self {
            FixedAddress::Devmem => FIX_SLOTS - 1,
        }
    }

    /// The slot's virtual address.
    pub const fn virt(self) -> u32 {
        fix_to_virt(self.index())
    }
}

/// `__fix_to_virt`.
pub const fn fix_to_virt(index: usize) -> u32 {
    FIXADDR_START + ((index as u32) << PAGE_SHIFT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_cover_the_fixmap() {
        assert_eq!(FIX_SLOTS, 512);
        assert_eq!(fix_to_virt(0), 0xffc0_0000);
        assert_eq!(FixedAddress::Devmem.virt(), 0xffdf_f000);
    }
}
