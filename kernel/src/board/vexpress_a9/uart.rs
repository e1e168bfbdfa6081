//! PL011 UART0, the console (ARM DDI 0183, PrimeCell UART PL011 TRM, 3.2
//! "Summary of registers"). Polled, 8N1. Its receive interrupt is used only
//! to wake the CPU from `wfi` while the shell waits for input
//! ([`set_rx_interrupt`]; the shell's `read_byte`): it is never taken.
//!
//! # Not losing what was typed during boot
//!
//! QEMU's PL011 stops taking input from the host while its receive FIFO is
//! full — 16 characters with LCR_H.FEN set, 1 with it clear — so a pipe
//! feeding the console loses nothing: the rest waits in the pipe. But
//! changing FEN resets the receive FIFO (hw/char/pl011.c, `pl011_write`,
//! UARTLCR_H: "Reset the FIFO state on FIFO enable or disable"; the TRM
//! likewise flushes the FIFOs), and out of reset FEN is clear. Characters
//! sent before the kernel runs therefore sit one in the holding register,
//! the rest in the pipe; enabling the FIFOs in [`init`] used to throw that
//! one away, so `poweroff` piped in at start-up arrived as `oweroff`.
//!
//! Draining the receiver before the LCR_H write does not close the hole:
//! QEMU's I/O thread may deliver the next character between the last FR
//! read and the write. So [`init`] programs 8N1 but keeps FEN as it finds
//! it (Linux's earlycon, likewise, leaves the boot loader's setting alone):
//! under QEMU that is the one-character holding register, with QEMU's
//! back-pressure keeping the rest, and nothing is ever reset or lost. The
//! move to the ioremapped registers ([`set_base`]) only changes the address.

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

const IMSC_RXIM: u32 = 1 << 4;
const IMSC_RTIM: u32 = 1 << 6;
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

/// LCR_H for 8N1 given its current value: FEN is kept, as changing it
/// would reset the receive FIFO and lose what it holds (module docs).
pub const fn lcr_h_8n1(current: u32) -> u32 {
    (current & LCR_H_FEN) | LCR_H_WLEN8
}

/// Programs 8N1 (FIFO mode left as found) and enables the transmitter and
/// receiver.
pub fn init() {
    // SAFETY: UART0's registers are mapped as device memory at BASE (the
    // DEBUG_LL section from boot.S on, later an ioremap), and nothing else
    // drives them.
    unsafe {
        write_volatile(reg(IMSC), 0);
        let lcr_h = read_volatile(reg(LCR_H));
        write_volatile(reg(LCR_H), lcr_h_8n1(lcr_h));
        write_volatile(reg(CR), CR_UARTEN | CR_TXE | CR_RXE);
    }
}

/// Sends one byte, waiting while the transmit FIFO is full. Never inlined:
/// the console's `\n` → `\r\n` loop got two copies of it otherwise, both
/// translated by QEMU at boot.
#[inline(never)]
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

/// Whether a received byte is waiting (without taking it).
pub fn rx_ready() -> bool {
    // SAFETY: as in `init`; reading FR has no side effect.
    unsafe { read_volatile(reg(FR)) & FR_RXFE == 0 }
}

/// Enables (or disables) the receive and receive-timeout interrupts
/// (UARTIMSC RXIM, RTIM; Linux's pl011 driver enables the same two while
/// the port is open). The line stays raised while a byte waits, and drops
/// when [`getc`] takes it.
pub fn set_rx_interrupt(on: bool) {
    let v = if on { IMSC_RXIM | IMSC_RTIM } else { 0 };
    // SAFETY: as in `init`; IMSC only masks the UART's own interrupts.
    unsafe { write_volatile(reg(IMSC), v) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcr_h_keeps_the_fifo_mode() {
        // Out of reset (QEMU): FIFOs off, and they stay off.
        assert_eq!(lcr_h_8n1(0), LCR_H_WLEN8);
        // A boot loader that enabled them: they stay on.
        assert_eq!(lcr_h_8n1(LCR_H_FEN), LCR_H_FEN | LCR_H_WLEN8);
        // Other bits (parity, break, stop bits) are cleared: 8N1.
        assert_eq!(lcr_h_8n1(0xff) & !LCR_H_FEN, LCR_H_WLEN8);
    }
}
