//! The running kernel's clock: the board's 24 MHz counter, extended to 64
//! bits by the host-tested [`Extender`]. Target only.

use super::{Extender, ticks_to_ns};

static CLOCK: Extender = Extender::new();

/// Nanoseconds since the board came out of reset.
pub fn now_ns() -> u64 {
    ticks_to_ns(CLOCK.update(crate::board::vexpress_a9::sysregs::counter_24mhz()))
}
