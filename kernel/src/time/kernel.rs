//! The running kernel's clock and tick (target only): the board's 24 MHz
//! counter, extended to 64 bits by the host-tested [`Extender`]; the
//! busy-wait on it behind `udelay`; the SP804's two periodic interrupts
//! that count [`JIFFIES_64`] and [`LINUX61_JIFFIES`]; and `msleep`.

use super::jiffies::{self, HZ, JIFFIES_64, Jiffies, LINUX61_HZ, LINUX61_JIFFIES, TickClock};
use super::{COUNTER_HZ, Extender, ticks_to_ns, timer_reload};
use crate::arch::armv7::irqflags;
use crate::board::vexpress_a9::memory::{TIMCLK_HZ, TIMER01_IRQ};
use crate::board::vexpress_a9::sp804::{self, Timer};
use crate::board::vexpress_a9::sysregs::counter_24mhz;
use crate::irq::{self, IRQF_SHARED, IRQF_TIMER, IrqReturn};
use core::sync::atomic::{AtomicBool, Ordering};

static CLOCK: Extender = Extender::new();

/// The jiffy boundaries of each tick on the clock ([`TickClock`]): a tick
/// interrupt taken late counts every period that passed.
static TICK_HZ: TickClock = TickClock::new(COUNTER_HZ / HZ as u64);
static TICK_LINUX61: TickClock = TickClock::new(COUNTER_HZ / LINUX61_HZ as u64);

/// Set once both ticks run (`time_init` succeeded).
static TICKING: AtomicBool = AtomicBool::new(false);

/// Nanoseconds since the board came out of reset.
///
/// Never inlined: printk, the shell's idle loop and the tick each had
/// their own copy of the 64-bit conversion, which QEMU translated once per
/// copy (docs/BENCHMARKS.md, "Fifth pass").
#[inline(never)]
pub fn now_ns() -> u64 {
    ticks_to_ns(clock_ticks())
}

/// The counter, extended to 64 bits: the one read of [`CLOCK`] that
/// `now_ns`, the tick and `time_init` share (never inlined, for the same
/// reason as `now_ns`: each copy was code QEMU translated at boot).
#[inline(never)]
fn clock_ticks() -> u64 {
    CLOCK.update(counter_24mhz())
}

/// Busy-waits `ticks` of the 24 MHz counter (`__timer_delay`). The counter
/// wraps every 179 s; the difference is taken in 32 bits, so any wait
/// shorter than that is exact.
pub fn delay_ticks(ticks: u32) {
    let start = counter_24mhz();
    while counter_24mhz().wrapping_sub(start) < ticks {
        core::hint::spin_loop();
    }
}

/// Timer 0's handler: the jiffies at HZ that are due by the clock (Linux's
/// `sp804_timer_interrupt` → the clockevent → the tick →
/// `tick_do_update_jiffies64`, which adds every whole period since the last
/// update: one on time, more if the interrupt came late).
fn tick_hz(_irq: u32, _dev: usize) -> IrqReturn {
    tick(Timer::Timer0, &JIFFIES_64, &TICK_HZ)
}

/// Timer 1's handler: the Linux 6.1 personality's jiffies at 250 Hz, as
/// [`tick_hz`] counts them.
fn tick_linux61(_irq: u32, _dev: usize) -> IrqReturn {
    tick(Timer::Timer1, &LINUX61_JIFFIES, &TICK_LINUX61)
}

/// What both handlers do, for their own timer, count and boundaries (one
/// copy of the code, not one inlined into each).
#[inline(never)]
fn tick(timer: Timer, jiffies: &Jiffies, clock: &TickClock) -> IrqReturn {
    if sp804::ack(timer) {
        jiffies.add(clock.due(clock_ticks()));
        IrqReturn::Handled
    } else {
        IrqReturn::None
    }
}

/// Linux's `time_init` (the SP804 part of `vexpress`'s timer setup): both
/// timers of timer01 run periodically, timer 0 at HZ and timer 1 at 250 Hz,
/// and their shared IRQ 34 gets one handler each.
pub fn time_init() -> Result<(), crate::errno::Errno> {
    sp804::init()?;
    irq::request_irq(TIMER01_IRQ, tick_hz, IRQF_SHARED | IRQF_TIMER, "timer", 0)
        .and_then(|()| {
            irq::request_irq(
                TIMER01_IRQ,
                tick_linux61,
                IRQF_SHARED | IRQF_TIMER,
                "linux61-tick",
                1,
            )
        })
        .map_err(|e| {
            crate::pr_err!("{e}");
            e.errno()
        })?;
    // The boundaries start with the timers: each first interrupt is due
    // one period later (read before the start, so never after it).
    let now = clock_ticks();
    TICK_HZ.start(now);
    TICK_LINUX61.start(now);
    sp804::start_periodic(Timer::Timer0, timer_reload(TIMCLK_HZ, HZ));
    sp804::start_periodic(Timer::Timer1, timer_reload(TIMCLK_HZ, LINUX61_HZ));
    TICKING.store(true, Ordering::Relaxed);
    crate::pr_info!(
        "sp804: timer0 at {HZ} Hz (jiffies), timer1 at {LINUX61_HZ} Hz (Linux 6.1 jiffies), IRQ {TIMER01_IRQ}"
    );
    Ok(())
}

/// Waits until `counter` has advanced by `ticks` ticks of `hz` (Linux's
/// `schedule_timeout_uninterruptible` loop in `msleep`). With no other task
/// to run, the CPU sleeps in `wfi` until the next interrupt — a tick at
/// least every 10 ms — and looks again. With IRQs masked (or before
/// `time_init`) jiffies cannot move, so it busy-waits the same time on the
/// 24 MHz counter instead of hanging (Linux would complain of "scheduling
/// while atomic").
pub fn msleep(counter: &Jiffies, hz: u32, ticks: u32) {
    if irqflags::irqs_disabled() || !TICKING.load(Ordering::Relaxed) {
        let per_tick = (COUNTER_HZ / u64::from(hz)) as u32;
        for _ in 0..ticks {
            delay_ticks(per_tick);
        }
        return;
    }
    let start = counter.get();
    while !jiffies::sleep_done(start, counter.get(), ticks) {
        // SAFETY: WFI only waits for an interrupt; IRQs are unmasked, so
        // the next tick wakes the CPU and its handler runs first.
        unsafe { core::arch::asm!("wfi", options(nomem, nostack, preserves_flags)) };
    }
}
