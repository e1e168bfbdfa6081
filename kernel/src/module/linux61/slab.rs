//! The shape of 6.1's kmalloc for Debian's armmp build (SLUB, 4 KB pages,
//! `ARCH_DMA_MINALIGN` = `L1_CACHE_BYTES` = 64, `CONFIG_ZONE_DMA`,
//! `CONFIG_MEMCG_KMEM`), from include/linux/slab.h of v6.1.
//!
//! A 6.1 module does not call `kmalloc`: `kmalloc()` is an inline that, for
//! a size known at compile time, computes the size class itself
//! (`kmalloc_index`), reads `kmalloc_caches[kmalloc_type(flags)][index]`
//! and calls `kmalloc_trace(cache, flags, size)`; other sizes call
//! `__kmalloc(size, flags)`. So the export `kmalloc_caches` must have this
//! build's dimensions, `struct kmem_cache *[NR_KMALLOC_TYPES]
//! [KMALLOC_SHIFT_HIGH + 1]` = 4 × 14 pointers, and a non-NULL cache at
//! every index `kmalloc_index` can return. slhc.ko, for example, does
//! `ldr r0, [kmalloc_caches, #24]` for a 64-byte `kzalloc` (type 0, index
//! 6). Which entries exist follows `create_kmalloc_caches`: indices
//! `KMALLOC_SHIFT_LOW..=KMALLOC_SHIFT_HIGH` (64 B … 8 KB) and 2 (192 B,
//! since `KMALLOC_MIN_SIZE` <= 64), in every type.
//!
//! Alignment, as 6.1 documents it (Documentation/core-api/
//! memory-allocation.rst): at least `ARCH_KMALLOC_MINALIGN` (64 here), and
//! for a power-of-two size at least the size ([`align_for`]).

/// `KMALLOC_SHIFT_LOW`: log2 of `KMALLOC_MIN_SIZE` (= `ARCH_DMA_MINALIGN`).
pub const SHIFT_LOW: usize = 6;
/// `KMALLOC_SHIFT_HIGH` for SLUB: `PAGE_SHIFT + 1`.
pub const SHIFT_HIGH: usize = 13;
/// `KMALLOC_MAX_CACHE_SIZE`: above it, `kmalloc_large` (whole pages).
pub const MAX_CACHE_SIZE: usize = 1 << SHIFT_HIGH;
/// `ARCH_KMALLOC_MINALIGN` (= `ARCH_DMA_MINALIGN` = 64 on ARM in 6.1).
pub const MINALIGN: usize = 64;
/// `NR_KMALLOC_TYPES`: `KMALLOC_NORMAL`, `KMALLOC_CGROUP` (MEMCG_KMEM),
/// `KMALLOC_RECLAIM`, `KMALLOC_DMA` (ZONE_DMA).
pub const NR_TYPES: usize = 4;
/// Entries per type: `KMALLOC_SHIFT_HIGH + 1`.
pub const PER_TYPE: usize = SHIFT_HIGH + 1;

/// `enum kmalloc_cache_type` of this build.
pub const KMALLOC_NORMAL: usize = 0;
pub const KMALLOC_CGROUP: usize = 1;
pub const KMALLOC_RECLAIM: usize = 2;
pub const KMALLOC_DMA: usize = 3;

/// `kmalloc_type(flags)`.
pub const fn kmalloc_type(flags: u32) -> usize {
    use super::gfp::{ACCOUNT, DMA, RECLAIMABLE};
    if flags & (DMA | RECLAIMABLE | ACCOUNT) == 0 {
        KMALLOC_NORMAL
    } else if flags & DMA != 0 {
        KMALLOC_DMA
    } else if flags & RECLAIMABLE != 0 {
        KMALLOC_RECLAIM
    } else {
        KMALLOC_CGROUP
    }
}

/// `kmalloc_index(size)`: the size class of `size` (0 for 0), or `None`
/// above `KMALLOC_MAX_CACHE_SIZE`.
pub const fn kmalloc_index(size: usize) -> Option<usize> {
    if size == 0 {
        return Some(0);
    }
    if size <= 1 << SHIFT_LOW {
        return Some(SHIFT_LOW);
    }
    if size > 128 && size <= 192 {
        return Some(2);
    }
    if size > MAX_CACHE_SIZE {
        return None;
    }
    Some(size.next_power_of_two().trailing_zeros() as usize)
}

/// Whether `create_kmalloc_caches` makes a cache at `index`.
pub const fn has_cache(index: usize) -> bool {
    index == 2 || (index >= SHIFT_LOW && index <= SHIFT_HIGH)
}

/// The object size of the cache at `index` (`kmalloc_size`).
pub const fn class_size(index: usize) -> usize {
    if index == 2 { 192 } else { 1 << index }
}

/// The alignment 6.1 guarantees for `kmalloc(size)`.
pub const fn align_for(size: usize) -> usize {
    if size.is_power_of_two() && size > MINALIGN {
        size
    } else {
        MINALIGN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::linux61::gfp;

    #[test]
    fn the_array_is_4_by_14() {
        assert_eq!(NR_TYPES * PER_TYPE * 4, 224);
        assert_eq!(MAX_CACHE_SIZE, 8192);
    }

    #[test]
    fn indices_as_slab_h() {
        // slhc.ko: a 64-byte kzalloc reads kmalloc_caches[0][6] (+24).
        assert_eq!(kmalloc_index(64), Some(6));
        assert_eq!(kmalloc_index(1), Some(6));
        assert_eq!(kmalloc_index(65), Some(7));
        assert_eq!(kmalloc_index(96), Some(7));
        assert_eq!(kmalloc_index(129), Some(2));
        assert_eq!(kmalloc_index(192), Some(2));
        assert_eq!(kmalloc_index(193), Some(8));
        assert_eq!(kmalloc_index(8192), Some(13));
        assert_eq!(kmalloc_index(8193), None);
        assert_eq!(kmalloc_index(0), Some(0));
        for size in 1..=MAX_CACHE_SIZE {
            let i = kmalloc_index(size).unwrap_or(0);
            assert!(has_cache(i), "{size}");
            assert!(class_size(i) >= size, "{size}");
        }
        assert!(!has_cache(0) && !has_cache(1) && !has_cache(5) && !has_cache(14));
    }

    #[test]
    fn types_as_slab_h() {
        assert_eq!(kmalloc_type(gfp::GFP_KERNEL), KMALLOC_NORMAL);
        assert_eq!(kmalloc_type(gfp::GFP_KERNEL | gfp::ZERO), KMALLOC_NORMAL);
        assert_eq!(kmalloc_type(gfp::GFP_KERNEL_ACCOUNT), KMALLOC_CGROUP);
        assert_eq!(
            kmalloc_type(gfp::GFP_KERNEL | gfp::RECLAIMABLE | gfp::ACCOUNT),
            KMALLOC_RECLAIM
        );
        assert_eq!(kmalloc_type(gfp::GFP_ATOMIC | gfp::DMA), KMALLOC_DMA);
    }

    #[test]
    fn alignment_is_minalign_or_the_power_of_two() {
        assert_eq!(align_for(1), 64);
        assert_eq!(align_for(100), 64);
        assert_eq!(align_for(128), 128);
        assert_eq!(align_for(4096), 4096);
        assert_eq!(align_for(192), 64);
    }
}
