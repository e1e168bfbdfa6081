//! The vexpress-a9 physical memory map and where Kobold maps it.
//!
//! | physical                  | what                           | kernel virtual          |
//! |---------------------------|--------------------------------|-------------------------|
//! | 0x1000_0000 - 0x1010_0000 | motherboard peripherals (CS7): sysregs +0x0000, UART0 +0x9000, SP804 +0x11000 | 0xf800_0000 (DEBUG_LL static map) |
//! | 0x1e00_0000 - 0x1e00_2000 | Cortex-A9 MPCore private (SCU, GIC, timers) | not mapped yet |
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

/// Physical addresses of the devices Kobold drives.
pub const SYSREGS_PHYS: u32 = MB_PERIPH_PHYS + SYSREGS_OFFSET;
pub const UART0_PHYS: u32 = MB_PERIPH_PHYS + UART0_OFFSET;

/// Their boot-time virtual addresses inside the DEBUG_LL section; the
/// drivers move to `ioremap`ed addresses once vmalloc works.
pub const SYSREGS_VIRT: u32 = MB_PERIPH_VIRT + SYSREGS_OFFSET;
pub const UART0_VIRT: u32 = MB_PERIPH_VIRT + UART0_OFFSET;
