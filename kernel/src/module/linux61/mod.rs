//! The Linux 6.1 ABI personality: what a module built for Debian's
//! `linux-image-6.1.0-*-armmp` (armhf) needs from the kernel that loads it.
//!
//! Kobold's own module API is Linux 3.18's (the seed articles'); a module
//! whose `vermagic` says 6.1 is linked against this personality's export
//! table instead (`exports()`, on the target), whose functions follow 6.1's semantics
//! (6.1's GFP bits, `struct kernel_param` of 20 bytes, `struct module` of
//! 576 bytes, `current` read from TPIDRURO, the per-task stack canary...).
//! See `docs/linux-compat.md` for what is honoured and what is refused.
//!
//! The runtime's files: [`symbols`] (the table's names and kinds), [`gfp`]
//! (6.1's GFP bits and their translation), [`slab`] (the kmalloc size
//! classes and `kmalloc_caches`' shape), [`task`] (`current`'s layout and
//! the canary), [`delay`] (`arm_delay_ops`' arithmetic), [`device`]
//! (`dev_printk`'s and dynamic debug's prefixes over 6.1's `struct device`
//! and `struct _ddebug`), [`lib`] (`strscpy`, `do_div`, `___ratelimit`), [`nls`]
//! (fs/nls's charset registry and UTF-8 helpers), [`i2c`] (the I2C core's
//! `i2c_transfer`), all host-tested; and the
//! target glue, `kernel.rs` (the `task_struct` stand-in and TPIDRURO, the
//! assembly entries, NEON, the kmalloc family) and `exports.rs` (the
//! table).

pub mod delay;
pub mod device;
pub mod gfp;
pub mod hexdump;
pub mod i2c;
pub mod lib;
pub mod nls;
pub mod slab;
pub mod symbols;
pub mod task;

#[cfg(target_arch = "arm")]
mod exports;
#[cfg(target_arch = "arm")]
pub mod kernel;
#[cfg(target_arch = "arm")]
pub use exports::{exports, index as exports_index};
#[cfg(target_arch = "arm")]
pub use kernel::{boot_init, vfp_access_init};
