//! ARMv7-A (Cortex-A9): boot glue, CP15 maintenance, exceptions, semihosting.
//!
//! Registers that `aarch32-cpu` models (SCTLR, TTBR0, DACR, DFSR, DFAR, IFSR,
//! IFAR, MIDR, MPIDR, ...) are used from it; the few it lacks (TTBCR, TLB
//! maintenance by MVA) are in [`cp15`], written the same way.
#[cfg(target_arch = "arm")]
pub mod boot;
pub mod cp15;
#[cfg(target_arch = "arm")]
pub mod exception;
pub mod fsr;
pub mod ptregs;
pub mod semihosting;
