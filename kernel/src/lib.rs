//! # Kobold
//!
//! A small ARMv7 kernel for QEMU's `vexpress-a9` that lays out its virtual
//! memory exactly as 32-bit ARM Linux 3.18 does. The crate is organised as
//! the kernel is:
//!
//! - [`arch::armv7`] — boot glue (`boot.S`), CP15, exception entry and oops;
//! - [`board::vexpress_a9`] — the board's memory map, UART, system registers;
//! - [`boot`] — the ATAGs or DTB the boot loader hands over;
//! - [`mm`] — memblock, translation tables, fixmap (the layout itself lives in
//!   the `kobold-layout` crate, shared with the host tools);
//! - [`console`] — printk, the log buffer, console output;
//! - [`shell`] and [`proc`] — what the user types and reads;
//! - `init` — `start_kernel`, which ties them together.
//!
//! Everything that does not touch hardware also builds on the host, where
//! `cargo test` runs its unit tests.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod arch;
pub mod board;
pub mod boot;
pub mod cmdline;
pub mod console;
pub mod errno;
pub mod fs;
#[cfg(target_arch = "arm")]
pub mod init;
pub mod kallsyms;
pub mod mm;
pub mod module;
pub mod panic;
pub mod proc;
pub mod selftest;
pub mod shell;
pub mod time;
