//! The motherboard's SP804 dual timer "timer01" (ARM DDI 0271, "ARM Dual-Timer
//! Module (SP804) TRM", 3.1 "Summary of registers"; QEMU hw/timer/arm_timer.c).
//! Linux: drivers/clocksource/timer-sp804.c (`sp804_clockevents_init`,
//! `sp804_set_mode` in periodic mode, `sp804_timer_interrupt`).
//!
//! Two independent down-counters, timer 0 at +0x00 and timer 1 at +0x20,
//! both clocked by TIMCLK (1 MHz) and sharing one interrupt line, IRQ 34.
//! In periodic mode a counter reloads `LOAD` when it reaches zero and raises
//! its interrupt until `INTCLR` is written; `MIS` says which one raised it,
//! so the two handlers on the shared line can tell their timer's tick apart.
//! Its page is `ioremap`ed, as Linux's `sp804_of_init` does with `of_iomap`.

use super::memory::TIMER01_PHYS;
use crate::errno::Errno;
use crate::mm::vmalloc::ioremap;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, Ordering};

/// Where the timer's page is mapped (set once by [`init`], before its
/// interrupt is enabled).
static BASE: AtomicU32 = AtomicU32::new(0);

const TIMER_LOAD: u32 = 0x00;
const TIMER_CTRL: u32 = 0x08;
const TIMER_INTCLR: u32 = 0x0c;
const TIMER_MIS: u32 = 0x14;

/// Linux's `TIMER_CTRL_32BIT | TIMER_CTRL_IE | TIMER_CTRL_PERIODIC |
/// TIMER_CTRL_ENABLE` (prescale 1).
const CTRL_PERIODIC_IRQ: u32 = (1 << 1) | (1 << 5) | (1 << 6) | (1 << 7);

/// One of the SP804's two timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    Timer0 = 0,
    Timer1 = 1,
}

fn reg(t: Timer, offset: u32) -> *mut u32 {
    (BASE.load(Ordering::Relaxed) + (t as u32) * 0x20 + offset) as *mut u32
}

/// Maps the SP804's page with both timers stopped.
#[unsafe(link_section = ".init.text")]
pub fn init() -> Result<(), Errno> {
    BASE.store(
        ioremap(TIMER01_PHYS, 0x1000, init as *const () as u32)?,
        Ordering::Relaxed,
    );
    for t in [Timer::Timer0, Timer::Timer1] {
        // SAFETY: mapped just above as device memory; only this driver
        // touches the timer.
        unsafe { write_volatile(reg(t, TIMER_CTRL), 0) };
    }
    Ok(())
}

/// Starts `t` in periodic mode with `load` TIMCLK ticks per period and its
/// interrupt enabled (Linux's `sp804_set_mode(CLOCK_EVT_MODE_PERIODIC)`).
pub fn start_periodic(t: Timer, load: u32) {
    // SAFETY: mapped by `init`; stopping, loading and starting is the
    // TRM's sequence.
    unsafe {
        write_volatile(reg(t, TIMER_CTRL), 0);
        write_volatile(reg(t, TIMER_LOAD), load);
        write_volatile(reg(t, TIMER_CTRL), CTRL_PERIODIC_IRQ);
    }
}

/// If `t` is raising its interrupt, clears it and returns true
/// (`sp804_timer_interrupt`'s `writel(1, base + TIMER_INTCLR)`).
pub fn ack(t: Timer) -> bool {
    // SAFETY: mapped by `init`; MIS is read-only, INTCLR write-only.
    unsafe {
        if read_volatile(reg(t, TIMER_MIS)) & 1 == 0 {
            return false;
        }
        write_volatile(reg(t, TIMER_INTCLR), 1);
    }
    true
}
