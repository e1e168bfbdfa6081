//! What Kobold's kernel and its host tools (`cargo xtask`) share.
//!
//! Dependencies point one way: the kernel and xtask both depend on this
//! crate, and xtask never depends on the kernel. Everything that one side
//! writes and the other reads, or that the host measures on the kernel's
//! behalf, is defined here once:
//!
//! * [`cpio`]: the initramfs format (newc), the kernel's reader and the
//!   writer xtask packs `/lib/modules` with (Linux: init/initramfs.c and
//!   usr/gen_init_cpio.c).
//! * [`kallsyms`]: the kernel's symbol table, encoded by `cargo xtask build`
//!   into the image's `.kallsyms` section and decoded by the kernel for
//!   oops backtraces and `/proc/kallsyms` (Linux: scripts/kallsyms.c and
//!   kernel/kallsyms.c).
//! * [`shell`]: the shell's prompt, printed by the kernel and waited for by
//!   xtask's test harness.
//! * [`unwind`]: the ARM EHABI (`.ARM.exidx`) unwinder of oops backtraces
//!   (Linux: arch/arm/kernel/unwind.c), pure so the host can test it.
//! * [`vmap`]: the vmap-area allocator of the vmalloc and module windows
//!   (Linux: mm/vmalloc.c), which `cargo xtask bench` measures on the host.
//!
//! The crate is `no_std` + `alloc`, contains no `unsafe` code, and is
//! tested on the host (`cargo test -p kobold-common`).

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
#[macro_use]
extern crate std;

pub mod cpio;
pub mod kallsyms;
pub mod shell;
pub mod unwind;
pub mod vmap;
