//! The self-tests on the running kernel (target only): `run`, which finds a
//! test's entry point in `tests!`'s list, and what the tests share — the
//! sample module most load, reading a module file, the memory counters now.

use super::{
    Counters, Run, SelftestError, faultinject, heap, highmem, jiffies, linux61, modbench, modcycle,
    modules, nls, soak, vmalloc,
};
use crate::errno::Errno;
use crate::module::ModName;
use core::fmt;

/// Builds `entry` from `tests!`'s list.
macro_rules! entry_points {
    ($($name:literal $args:literal => $run:path),* $(,)?) => {
        /// The entry point of the test called `name`.
        fn entry(name: &str) -> Option<Run> {
            match name {
                $($name => Some($run),)*
                _ => None,
            }
        }
    };
}

tests!(entry_points);

/// Runs self-test `name` with its arguments.
pub fn run(name: &str, args: &[&str], out: &mut dyn fmt::Write) -> Result<(), SelftestError> {
    entry(name).ok_or(SelftestError::UnknownTest)?(args, out)
}

/// The sample module most tests load.
pub const HELLO: &str = "/lib/modules/hello.ko";

/// Runs `f` on the bytes of the initramfs file at `path`; a file that
/// cannot be read and `f`'s own errno are both an `Errno` (what the
/// fault-injection loops compare with ENOMEM).
pub fn read_module<R>(path: &str, f: impl FnOnce(&[u8]) -> Result<R, Errno>) -> Result<R, Errno> {
    crate::fs::with_file(path, f)?
}

/// Runs `f` on the bytes of module file `path`; a file that cannot be read
/// is [`SelftestError::File`], reported as such (not as an unknown test).
pub fn with_module<R>(
    path: &str,
    f: impl FnOnce(&[u8]) -> Result<R, SelftestError>,
) -> Result<R, SelftestError> {
    crate::fs::with_file(path, f).map_err(|errno| match ModName::from_path(path) {
        Some(module) => SelftestError::File { module, errno },
        None => SelftestError::Errno(errno),
    })?
}

impl Counters {
    /// The counters now, after the heap returned its spare empty region
    /// (Linux's `kmem_cache_shrink` before a leak check): a spare made or
    /// used in between is not a leak.
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
