//! `selftest jiffies`: a tick interrupt taken late still counts every
//! period that passed (Linux's `tick_do_update_jiffies64`; see
//! `time::jiffies::TickClock`). With IRQs masked for 55 ms both timers
//! raise their interrupt and wait; when the mask is lifted one interrupt is
//! taken, and it must move `jiffies` (100 Hz) by the five or six periods
//! that passed and the 6.1 personality's jiffies (250 Hz) by thirteen or
//! fourteen, not by one each as counting interrupts would. Each count must
//! also stay within what the 24 MHz counter says passed in the whole span,
//! with three periods to spare (one for where in its period the span began,
//! two for ticks already due but not yet taken when it began, on a host too
//! busy to run QEMU's timer on time), so over-counting fails too.

use super::SelftestError;
use crate::arch::armv7::irqflags;
use crate::board::vexpress_a9::sysregs::counter_24mhz;
use crate::time::COUNTER_HZ;
use crate::time::delay_ticks;
use crate::time::jiffies::{HZ, JIFFIES_64, LINUX61_HZ, LINUX61_JIFFIES};
use core::fmt::Write;

/// How long IRQs stay masked, in ms.
const MASKED_MS: u32 = 55;

pub fn run(args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    if !args.is_empty() {
        return Err(SelftestError::Usage);
    }
    if irqflags::irqs_disabled() {
        return Err(SelftestError::Failed("IRQs masked: jiffies stand still"));
    }
    let t0 = counter_24mhz();
    let (j0, l0) = (JIFFIES_64.get_64(), LINUX61_JIFFIES.get_64());
    irqflags::without_irqs(|| delay_ticks((COUNTER_HZ / 1000) as u32 * MASKED_MS));
    // The pending tick was taken as the mask lifted.
    let (j1, l1) = (JIFFIES_64.get_64(), LINUX61_JIFFIES.get_64());
    let span = u64::from(counter_24mhz().wrapping_sub(t0));
    let (dj, dl) = (j1.wrapping_sub(j0), l1.wrapping_sub(l0));
    let _ = writeln!(
        out,
        "jiffies: IRQs masked {MASKED_MS} ms: jiffies +{dj} ({HZ} Hz), Linux 6.1 jiffies +{dl} ({LINUX61_HZ} Hz)"
    );
    // At least the whole periods of the masked time; at most those of the
    // whole span, plus three (see the module docs).
    let fits = |d: u64, hz: u32| {
        let per = COUNTER_HZ / u64::from(hz);
        let least = u64::from(MASKED_MS) * u64::from(hz) / 1000;
        d >= least && d <= span / per + 3
    };
    if !fits(dj, HZ) || !fits(dl, LINUX61_HZ) {
        return Err(SelftestError::Failed("late tick not caught up"));
    }
    Ok(())
}
