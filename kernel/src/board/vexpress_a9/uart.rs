//! PL011 UART0, the console (ARM DDI 0183, PrimeCell UART PL011 TRM, 3.2
//! "Summary of registers"). Polled: no interrupts, 8N1, FIFOs on.
//!
//! QEMU's PL011 stops taking input from the host while its 16-byte receive
//! FIFO is full, so a pipe feeding the console never loses characters.

use super::memory::UART0_VIRT;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, Ordering};

/// Where the registers are mapped: the DEBUG_LL section at boot, an
/// `ioremap`ed page afterwards (see [`set_base`]).
static BASE: AtomicU32 = AtomicU32::new(UART0_VIRT);

/// Moves the driver to a new mapping of the same registers.
pub fn set_base(virt: u32) {
    BASE.store(virt, Ordering::SeqCst);
}

const DR: u32 = 0x00;
const FR: u32 = 0x18;
const LCR_H: u32 = 0x2c;
const CR: u32 = 0x30;
const IMSC: u32 = 0x38;

const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const LCR_H_FEN: u32 = 1 << 4;
const LCR_H_WLEN8: u32 = 3 << 5;
const CR_UARTEN: u32 = 1 << 0;
const CR_TXE: u32 = 1 << 8;
const CR_RXE: u32 = 1 << 9;

fn reg(offset: u32) -> *mut u32 {
    (BASE.load(Ordering::Relaxed) + offset) as *mut u32
}

/// Programs 8N1 with FIFOs and enables the transmitter and receiver.
pub fn init() {
    // SAFETY: UART0's registers are mapped as device memory at BASE (the
    // DEBUG_LL section from boot.S on, later an ioremap), and nothing else
    // drives them.
    unsafe {
        write_volatile(reg(IMSC), 0);
        write_volatile(reg(LCR_H), LCR_H_FEN | LCR_H_WLEN8);
        write_volatile(reg(CR), CR_UARTEN | CR_TXE | CR_RXE);
    }
}

/// Sends one byte, waiting while the transmit FIFO is full.
pub fn putc(b: u8) {
    // SAFETY: as in `init`; FR and DR are plain 32-bit device registers.
    unsafe {
        while read_volatile(reg(FR)) & FR_TXFF != 0 {}
        write_volatile(reg(DR), b as u32);
    }
}

/// A received byte, if one is waiting.
pub fn getc() -> Option<u8> {
    // SAFETY: as in `init`; reading DR pops the receive FIFO, which only
    // this function does.
    unsafe {
        if read_volatile(reg(FR)) & FR_RXFE != 0 {
            None
        } else {
            Some(read_volatile(reg(DR)) as u8)
        }
    }
}
