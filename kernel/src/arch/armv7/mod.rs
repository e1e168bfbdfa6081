//! ARMv7-A (Cortex-A9): boot glue, CP15 maintenance, exceptions, IRQ masking
//! ([`irqflags`]), semihosting.
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

/// The assembler macro that opens a global ARM function in its own
/// section (`.text.NAME`, so the linker's `--gc-sections` and the kernel's
/// section placement treat it like a Rust function), as Linux's `ENTRY()`
/// (include/linux/linkage.h) does for its assembly: `$macro NAME` emits the
/// section, `.arm`, the alignment, `.global`, `.type` and the label. Each
/// `global_asm!` block that writes functions starts its template with
/// `arm_function_macro!("its_macro_name")`; a distinct name per block keeps
/// two blocks that land in one object file from defining the same macro.
/// (Those blocks are ARM-only: the host build of the kernel's tests has no
/// user.)
#[cfg_attr(not(target_arch = "arm"), allow(unused_macros))]
macro_rules! arm_function_macro {
    ($name:literal) => {
        concat!(
            ".macro ",
            $name,
            " name\n",
            "    .section .text.\\name, \"ax\", %progbits\n",
            "    .arm\n",
            "    .balign 4\n",
            "    .global \\name\n",
            "    .type \\name, %function\n",
            "\\name:\n",
            "    .endm\n",
        )
    };
}
#[cfg_attr(not(target_arch = "arm"), allow(unused_imports))]
pub(crate) use arm_function_macro;

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
