//! ARM Versatile Express with a Cortex-A9 core tile (V2P-CA9), as QEMU models
//! it (hw/arm/vexpress.c, "legacy" memory map).
#[cfg(target_arch = "arm")]
pub mod gic;
pub mod memory;
#[cfg(target_arch = "arm")]
pub mod sp804;
#[cfg(target_arch = "arm")]
pub mod sysregs;
#[cfg(target_arch = "arm")]
pub mod uart;

/// The machine type QEMU passes in r1 (`VEXPRESS_BOARD_ID`).
pub const MACHINE_TYPE: u32 = 0x8e0;
/// What Linux prints for this machine when booted with ATAGs.
pub const MACHINE_NAME: &str = "ARM-Versatile Express";
