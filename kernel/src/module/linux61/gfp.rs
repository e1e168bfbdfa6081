//! Linux 6.1's GFP bits (include/linux/gfp_types.h of v6.1, with
//! `CONFIG_KASAN_HW_TAGS` and `CONFIG_LOCKDEP` off, as in Debian's armmp
//! build) and their translation to Kobold's [`Gfp`], which keeps Linux
//! 3.18's values (include/linux/gfp.h of v3.18).
//!
//! The two kernels moved bits around between 3.18 and 6.1: `__GFP_ZERO` was
//! 0x8000 and is 0x100, `__GFP_WAIT` (0x10) became `__GFP_DIRECT_RECLAIM`
//! (0x400), `GFP_KERNEL` went from 0xd0 to 0xcc0. A 6.1 module passes 6.1's
//! bits, so every allocation entry of the 6.1 personality translates them
//! first ([`to_kobold`]); Kobold's allocators then read them as they always
//! did. A bit 3.18 had no equivalent for (`__GFP_ATOMIC`, `__GFP_ACCOUNT`,
//! `__GFP_ZEROTAGS`) is dropped: it asks for accounting or tagging Kobold
//! does not have, never for different memory.

use crate::mm::buddy::Gfp;

pub const DMA: u32 = 0x01;
pub const HIGHMEM: u32 = 0x02;
pub const DMA32: u32 = 0x04;
pub const MOVABLE: u32 = 0x08;
pub const RECLAIMABLE: u32 = 0x10;
pub const HIGH: u32 = 0x20;
pub const IO: u32 = 0x40;
pub const FS: u32 = 0x80;
pub const ZERO: u32 = 0x100;
pub const ATOMIC: u32 = 0x200;
pub const DIRECT_RECLAIM: u32 = 0x400;
pub const KSWAPD_RECLAIM: u32 = 0x800;
pub const WRITE: u32 = 0x1000;
pub const NOWARN: u32 = 0x2000;
pub const RETRY_MAYFAIL: u32 = 0x4000;
pub const NOFAIL: u32 = 0x8000;
pub const NORETRY: u32 = 0x10000;
pub const MEMALLOC: u32 = 0x20000;
pub const COMP: u32 = 0x40000;
pub const NOMEMALLOC: u32 = 0x80000;
pub const HARDWALL: u32 = 0x100000;
pub const THISNODE: u32 = 0x200000;
pub const ACCOUNT: u32 = 0x400000;
pub const ZEROTAGS: u32 = 0x800000;
/// `__GFP_BITS_SHIFT` (26 without lockdep): bits above are invalid.
pub const BITS_MASK: u32 = (1 << 26) - 1;

/// `__GFP_RECLAIM`.
pub const RECLAIM: u32 = DIRECT_RECLAIM | KSWAPD_RECLAIM;
/// `GFP_KERNEL` (0xcc0).
pub const GFP_KERNEL: u32 = RECLAIM | IO | FS;
/// `GFP_ATOMIC` (0xa20).
pub const GFP_ATOMIC: u32 = HIGH | ATOMIC | KSWAPD_RECLAIM;
/// `GFP_NOWAIT`.
pub const GFP_NOWAIT: u32 = KSWAPD_RECLAIM;
/// `GFP_KERNEL_ACCOUNT`.
pub const GFP_KERNEL_ACCOUNT: u32 = GFP_KERNEL | ACCOUNT;
/// `GFP_SLAB_BUG_MASK` (mm/internal.h): what kmalloc must not be given.
pub const SLAB_BUG_MASK: u32 = DMA32 | HIGHMEM | !BITS_MASK;

/// 3.18's bits, as Kobold's [`Gfp`] holds them.
mod v318 {
    pub const WAIT: u32 = 0x10;
    pub const NOWARN: u32 = 0x200;
    pub const REPEAT: u32 = 0x400;
    pub const NOFAIL: u32 = 0x800;
    pub const NORETRY: u32 = 0x1000;
    pub const MEMALLOC: u32 = 0x2000;
    pub const COMP: u32 = 0x4000;
    pub const ZERO: u32 = 0x8000;
    pub const NOMEMALLOC: u32 = 0x10000;
    pub const HARDWALL: u32 = 0x20000;
    pub const THISNODE: u32 = 0x40000;
    pub const RECLAIMABLE: u32 = 0x80000;
    pub const NO_KSWAPD: u32 = 0x400000;
    pub const WRITE: u32 = 0x1000000;
}

/// 6.1 bit → 3.18 bit, for the bits that moved.
const MOVED: [(u32, u32); 13] = [
    (RECLAIMABLE, v318::RECLAIMABLE),
    (ZERO, v318::ZERO),
    (DIRECT_RECLAIM, v318::WAIT),
    (WRITE, v318::WRITE),
    (NOWARN, v318::NOWARN),
    (RETRY_MAYFAIL, v318::REPEAT),
    (NOFAIL, v318::NOFAIL),
    (NORETRY, v318::NORETRY),
    (MEMALLOC, v318::MEMALLOC),
    (COMP, v318::COMP),
    (NOMEMALLOC, v318::NOMEMALLOC),
    (HARDWALL, v318::HARDWALL),
    (THISNODE, v318::THISNODE),
];

/// Kobold's [`Gfp`] (3.18's bits) for a 6.1 `gfp_t`: the zone bits and
/// `__GFP_HIGH`/`__GFP_IO`/`__GFP_FS` keep their values, the moved bits
/// move, no `__GFP_KSWAPD_RECLAIM` becomes 3.18's `__GFP_NO_KSWAPD`, and
/// `__GFP_ATOMIC`, `__GFP_ACCOUNT`, `__GFP_ZEROTAGS` are dropped.
pub const fn to_kobold(flags: u32) -> Gfp {
    let mut out = flags & (DMA | HIGHMEM | DMA32 | MOVABLE | HIGH | IO | FS);
    let mut i = 0;
    while i < MOVED.len() {
        if flags & MOVED[i].0 != 0 {
            out |= MOVED[i].1;
        }
        i += 1;
    }
    if flags & KSWAPD_RECLAIM == 0 {
        out |= v318::NO_KSWAPD;
    }
    Gfp(out)
}

/// Whether a 6.1 `gfp_t` asks for zeroed memory (`__GFP_ZERO`).
pub const fn wants_zero(flags: u32) -> bool {
    flags & ZERO != 0
}

/// Whether a failure must be reported (no `__GFP_NOWARN`).
pub const fn warns(flags: u32) -> bool {
    flags & NOWARN == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_masks_have_6_1_values() {
        assert_eq!(GFP_KERNEL, 0xcc0);
        assert_eq!(GFP_KERNEL | ZERO, 0xdc0);
        assert_eq!(GFP_ATOMIC, 0xa20);
        assert_eq!(GFP_KERNEL_ACCOUNT, 0x400cc0);
    }

    #[test]
    fn gfp_kernel_is_3_18s_gfp_kernel() {
        assert_eq!(to_kobold(GFP_KERNEL), Gfp::KERNEL);
        assert_eq!(to_kobold(GFP_KERNEL_ACCOUNT), Gfp::KERNEL);
    }

    #[test]
    fn zero_moves_to_3_18s_bit() {
        let g = to_kobold(GFP_KERNEL | ZERO);
        assert!(g.contains(Gfp::ZERO));
        assert!(g.contains(Gfp::KERNEL));
        assert!(!to_kobold(GFP_KERNEL).contains(Gfp::ZERO));
        // 6.1's __GFP_ZERO is 3.18's __GFP_COLD: it must not stay.
        assert_eq!(to_kobold(ZERO).0 & 0x100, 0);
        assert!(wants_zero(0xdc0) && !wants_zero(0xcc0));
    }

    #[test]
    fn atomic_is_high_without_wait() {
        assert_eq!(to_kobold(GFP_ATOMIC), Gfp(0x20));
        assert_eq!(to_kobold(GFP_NOWAIT), Gfp(0));
        // No kswapd wake-up asked: 3.18's __GFP_NO_KSWAPD.
        assert_eq!(to_kobold(0), Gfp(v318::NO_KSWAPD));
    }

    #[test]
    fn zone_bits_and_nowarn() {
        assert!(to_kobold(GFP_KERNEL | HIGHMEM).contains(Gfp::HIGHMEM));
        assert_eq!(
            to_kobold(GFP_KERNEL | NOWARN).0 & v318::NOWARN,
            v318::NOWARN
        );
        assert!(!warns(GFP_KERNEL | NOWARN) && warns(GFP_KERNEL));
        assert_eq!(SLAB_BUG_MASK & HIGHMEM, HIGHMEM);
        assert_eq!(SLAB_BUG_MASK & GFP_KERNEL, 0);
        assert_ne!(SLAB_BUG_MASK & (1 << 26), 0);
    }
}
