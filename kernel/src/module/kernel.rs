//! `insmod` and `rmmod` on the running kernel: the module sequence of
//! `super` run with the real [`KernelBackend`] (`exports.rs`) on the global
//! [`MODULES`] list, and the bounds it widened published in Linux's
//! `module_addr_min` / `module_addr_max`. Target only: the sequence itself
//! is host-tested with a fake backend.

use super::exports::KernelBackend;
use super::{MODULE_ADDR_MAX, MODULE_ADDR_MIN, MODULES, ModName, Modules, load_verbose, unload};
use crate::errno::Errno;
use core::sync::atomic::Ordering;

fn publish_bounds(mods: &Modules) {
    MODULE_ADDR_MIN.store(mods.addr_min, Ordering::Relaxed);
    MODULE_ADDR_MAX.store(mods.addr_max, Ordering::Relaxed);
}

/// `insmod`: loads `bytes` (the file at `path`) with `args` into the running
/// kernel.
pub fn insmod(path: &str, bytes: &[u8], args: &[&str]) -> Result<ModName, Errno> {
    insmod_verbose(path, bytes, args, false)
}

/// `insmod -v`: [`insmod`], logging every step of the link (`pr_info`).
pub fn insmod_verbose(
    path: &str,
    bytes: &[u8],
    args: &[&str],
    verbose: bool,
) -> Result<ModName, Errno> {
    let r = load_verbose(&MODULES, &mut KernelBackend, path, bytes, args, verbose);
    publish_bounds(&MODULES.lock());
    r
}

/// `rmmod NAME`.
pub fn rmmod(name: &str) -> Result<(), Errno> {
    unload(&MODULES, &mut KernelBackend, name)
}
