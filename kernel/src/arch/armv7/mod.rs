//! ARMv7-A (Cortex-A9): boot glue, CP15 maintenance, exceptions, semihosting.
//!
//! Two assembly files, as in Linux, both pulled in by `boot.rs`:
//!
//! - the top-level `boot.S` (Linux's arch/arm/kernel/head.S): the first
//!   instructions, run once at physical addresses before the MMU is on;
//!   it builds `swapper_pg_dir`, turns the MMU on and calls `start_kernel`;
//! - `entry.S` here (Linux's entry-armv.S): the exception vectors, mapped at
//!   0xffff0000, and the stubs that save a [`ptregs::PtRegs`] and call
//!   `exception::handle_exception` — run at virtual addresses, on every
//!   exception, for as long as the kernel lives.
//!
//! They stay apart because they run in different worlds (physical vs
//! virtual addresses, once vs always) and because `entry.S` is bound to the
//! Rust beside it: its frame is `PtRegs`, its kind numbers are
//! `ExceptionKind`'s.
//!
//! Registers that `aarch32-cpu` models (SCTLR, TTBR0, DACR, DFSR, DFAR, IFSR,
//! IFAR, MIDR, MPIDR, ...) are used from it; the few it lacks (TTBCR, TLB
//! maintenance by MVA) are in [`cp15`], written the same way.
#[cfg(target_arch = "arm")]
pub mod backtrace;
#[cfg(target_arch = "arm")]
pub mod boot;
pub mod cp15;
#[cfg(target_arch = "arm")]
pub mod exception;
pub mod fsr;
pub mod irqflags;
pub mod ptregs;
pub mod semihosting;
