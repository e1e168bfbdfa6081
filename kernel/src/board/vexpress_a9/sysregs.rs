//! Motherboard system registers (ARM DUI 0447, 4.3; QEMU hw/misc/arm_sysctl.c):
//! the 24 MHz counter, and the configuration bus used to power off and reset.
//!
//! A write of `start | write | function << 20` to SYS_CFGCTRL (site 0 = the
//! motherboard, position 0, device 0) asks the board controller to perform
//! `function`: 8 = SHUTDOWN, 9 = REBOOT. This is what Linux's
//! drivers/power/reset/vexpress-poweroff.c does through vexpress-config.

use super::memory::SYSREGS_VIRT;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, Ordering};

/// Where the registers are mapped (as for the UART).
static BASE: AtomicU32 = AtomicU32::new(SYSREGS_VIRT);

/// Moves the driver to a new mapping of the same registers.
pub fn set_base(virt: u32) {
    BASE.store(virt, Ordering::SeqCst);
}

const SYS_24MHZ: u32 = 0x5c;
const SYS_CFGDATA: u32 = 0xa0;
const SYS_CFGCTRL: u32 = 0xa4;
const SYS_CFGSTAT: u32 = 0xa8;

const CFGCTRL_START: u32 = 1 << 31;
const CFGCTRL_WRITE: u32 = 1 << 30;
const FUNC_SHUTDOWN: u32 = 8;
const FUNC_REBOOT: u32 = 9;

fn reg(offset: u32) -> *mut u32 {
    (BASE.load(Ordering::Relaxed) + offset) as *mut u32
}

/// The free-running 24 MHz counter.
pub fn counter_24mhz() -> u32 {
    // SAFETY: the system registers are mapped as device memory at BASE
    // (DEBUG_LL section, later an ioremap); SYS_24MHZ is read-only.
    unsafe { read_volatile(reg(SYS_24MHZ)) }
}

fn config_write(function: u32) {
    // SAFETY: as above; the configuration registers are only used here, and
    // the requested function ends or resets the machine.
    unsafe {
        write_volatile(reg(SYS_CFGSTAT), 0);
        write_volatile(reg(SYS_CFGDATA), 0);
        write_volatile(
            reg(SYS_CFGCTRL),
            CFGCTRL_START | CFGCTRL_WRITE | (function << 20),
        );
    }
}

/// Asks the board to power off (QEMU exits with status 0).
pub fn shutdown() {
    config_write(FUNC_SHUTDOWN);
}

/// Asks the board to reset (QEMU reloads the images and boots again).
pub fn reboot() {
    config_write(FUNC_REBOOT);
}
