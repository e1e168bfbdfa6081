//! Self-tests run from the shell (`selftest NAME [ARGS]`), one file each.
//! Each prints what it measured and returns `Err` when a check failed, so
//! the shell prints `selftest NAME: FAIL (errno)`; the QEMU cases in
//! `xtask/src/cases.rs` type them and read the lines.
//!
//! (The older self-tests still live in `init.rs`; new ones start here.)

#[cfg(target_arch = "arm")]
pub mod faultinject;
pub mod soak;

#[cfg(target_arch = "arm")]
use crate::errno::Errno;

/// Runs `f` on the bytes of the initramfs file at `path`.
#[cfg(target_arch = "arm")]
pub fn read_module<R>(path: &str, f: impl FnOnce(&[u8]) -> Result<R, Errno>) -> Result<R, Errno> {
    crate::fs::with_file(path, f)?
}

/// The memory counters a leak would move: free pages (buddy), heap bytes
/// in use (what `/proc/meminfo` shows as `Slab:`), `VmallocUsed` and the
/// number of vm areas (vmalloc and module windows).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub free_pages: u64,
    pub slab_bytes: usize,
    pub vmalloc_used: u64,
    pub areas: usize,
}

impl Counters {
    /// The counters now, after the heap returned its spare empty region
    /// (Linux's `kmem_cache_shrink` before a leak check): a spare made or
    /// used in between is not a leak.
    #[cfg(target_arch = "arm")]
    pub fn now() -> Self {
        use crate::mm;
        mm::heap::shrink();
        Counters {
            free_pages: mm::page_alloc::counters().free,
            slab_bytes: mm::heap::stats().used,
            vmalloc_used: mm::vmalloc::vmalloc_info().0,
            areas: mm::vmalloc::area_count(),
        }
    }
}

impl core::fmt::Display for Counters {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "free pages {}, Slab {} bytes, VmallocUsed {}, areas {}",
            self.free_pages, self.slab_bytes, self.vmalloc_used, self.areas
        )
    }
}
