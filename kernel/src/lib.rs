//! # Kobold
//!
//! A small ARMv7 kernel for QEMU's `vexpress-a9` that lays out its virtual
//! memory exactly as 32-bit ARM Linux 3.18 does. The crate is organised as
//! the kernel is:
//!
//! - [`arch::armv7`] — boot glue (`boot.S`), CP15, exception entry
//!   (`entry.S`) and oops;
//! - [`board::vexpress_a9`] — the board's memory map, UART, system registers,
//!   the GIC and the SP804 timer;
//! - [`irq`] — the interrupt handler registry (`request_irq`), the IRQ path
//!   and `/proc/interrupts`;
//! - [`boot`] — the ATAGs or DTB the boot loader hands over;
//! - [`cmdline`] — the kernel command line, typed (Linux's kernel/params.c);
//! - [`mm`] — memblock, translation tables, fixmap, the page allocator, heap,
//!   vmalloc, highmem, fault injection, and (`mm::init`) the memory setup at
//!   boot with the global layout and memblock (the layout itself lives in
//!   the `kobold-layout` crate, shared with the host tools);
//! - [`console`] — printk, the log buffer, console output;
//! - [`fs`] — the rootfs the initramfs is unpacked into;
//! - [`module`] — loadable modules: insmod/rmmod, the exported symbols
//!   (linking and relocation live in the `kobold-loader` crate);
//! - [`kallsyms`] — the kernel's symbol table, for oopses and
//!   `/proc/kallsyms`;
//! - [`shell`] and [`proc`] — what the user types and reads (`shell::kernel`
//!   is the shell's adapter to the running kernel);
//! - [`sync`] — the kernel's own lock, and the mutexes, spinlocks and
//!   `list_head` checks modules use;
//! - [`selftest`] — the self-tests the shell's `selftest` command runs;
//! - [`errno`], [`panic`](mod@panic), [`time`] — Linux's errno values, panic, the clock,
//!   `jiffies` and the delays;
//! - `init` — `start_kernel` and `kernel_init` (Linux's init/main.c): the
//!   boot sequence, one call per step into the wings above.
//!
//! Dependencies point down the list's layers: `init` calls everything,
//! `shell` calls the wings it drives, and `mm` imports neither.
//!
//! Everything that does not touch hardware also builds on the host, where
//! `cargo test` runs its unit tests. The rule that keeps it so
//! (docs/architecture.md, "The unsafe rule"): pure logic has no
//! `cfg(target_arch)` in it. A wing's target-only code lives in a glue file
//! named for it (`fs/kernel.rs`, `module/kernel.rs`, `mm/live.rs`,
//! `selftest/kernel.rs`, ...), and the one `#[cfg(target_arch = "arm")]`
//! sits on that file's `mod` declaration and on the `pub use` that keeps its
//! items at the wing's path. The exceptions are named there: a
//! hardware-edge statement (an `asm!`, the semihosting trap, the UART write)
//! gated inside a host-built function with a host no-op beside it,
//! `time::now_ns`'s host stand-in, the `#[panic_handler]` and `main.rs`.
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
pub mod irq;
pub mod kallsyms;
pub mod mm;
pub mod module;
pub mod panic;
pub mod proc;
pub mod selftest;
pub mod shell;
pub mod sync;
pub mod time;
