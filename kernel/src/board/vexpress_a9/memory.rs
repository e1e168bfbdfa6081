//! The vexpress-a9 physical memory map and where Kobold maps it.
//!
//! | physical                  | what                           | kernel virtual          |
//! |---------------------------|--------------------------------|-------------------------|
//! | 0x1000_0000 - 0x1010_0000 | motherboard peripherals (CS7): sysregs +0x0000, UART0 +0x9000, SP804 +0x11000 | 0xf800_0000 (DEBUG_LL static map), then ioremap (the SP804 too) |
//! | 0x1e00_0000 - 0x1e00_2000 | Cortex-A9 MPCore private (SCU, GIC, timers) | the GIC's distributor and CPU interface, ioremapped |
//! | 0x4000_0000 - 0x4800_0000 | NOR flash 0 and 1              | not mapped              |
//! | 0x6000_0000 - 0xa000_0000 | RAM (up to 1 GB; `-m`)         | lowmem at 0xc000_0000, the rest is highmem |
//!
//! Sources: QEMU hw/arm/vexpress.c (`motherboard_legacy_map`), ARM DUI 0447
//! (V2M-P1) and Linux 3.18's DEBUG_LL mapping for vexpress
//! (arch/arm/include/debug/vexpress.S: UART0 at virtual 0xf8090000).

/// The 1 MB of motherboard peripherals that holds UART0 and the system
/// registers.
pub const MB_PERIPH_PHYS: u32 = 0x1000_0000;
/// Where it is mapped: Linux's DEBUG_LL virtual base for vexpress.
pub const MB_PERIPH_VIRT: u32 = 0xf800_0000;

/// Offsets inside that megabyte.
pub const SYSREGS_OFFSET: u32 = 0x0_0000;
pub const UART0_OFFSET: u32 = 0x0_9000;

pub const TIMER01_OFFSET: u32 = 0x1_1000;

/// The Cortex-A9 MPCore private region (`periphbase`, QEMU's
/// `VE_MPCORE_PRIV`; the CPU's CBAR says the same).
pub const MPCORE_PRIV_PHYS: u32 = 0x1e00_0000;

/// The SP804 dual timer "timer01" (V2M-P1, ARM DUI 0447 4.2; QEMU's
/// `VE_TIMER01`) and its interrupt: the motherboard's interrupt 2, GIC SPI 2
/// = IRQ 34 (QEMU: `pic[2]`; the device tree: `interrupts = <0 2 4>`).
pub const TIMER01_PHYS: u32 = MB_PERIPH_PHYS + TIMER01_OFFSET;
pub const TIMER01_IRQ: u32 = 32 + 2;
/// The SP804's clock, TIMCLK: 1 MHz (ARM DUI 0447 2.6.1; QEMU's sp804
/// default `freq0`/`freq1`; Linux reads it from the v2m:timclk clock).
pub const TIMCLK_HZ: u32 = 1_000_000;

/// Physical addresses of the devices Kobold drives.
pub const SYSREGS_PHYS: u32 = MB_PERIPH_PHYS + SYSREGS_OFFSET;
pub const UART0_PHYS: u32 = MB_PERIPH_PHYS + UART0_OFFSET;
/// UART0's interrupt: the motherboard's interrupt 5, GIC SPI 5 = IRQ 37
/// (QEMU: `pic[5]`; the device tree: `interrupts = <0 5 4>`).
pub const UART0_IRQ: u32 = 32 + 5;

/// Their boot-time virtual addresses inside the DEBUG_LL section; the
/// drivers move to `ioremap`ed addresses once vmalloc works.
pub const SYSREGS_VIRT: u32 = MB_PERIPH_VIRT + SYSREGS_OFFSET;
pub const UART0_VIRT: u32 = MB_PERIPH_VIRT + UART0_OFFSET;
