//! The running kernel's interrupts (target only): the one [`IrqTable`],
//! the GIC behind it, and the IRQ vector's Rust half ([`handle_irq`],
//! Linux's `gic_handle_irq` + `handle_fasteoi_irq`).
//!
//! The table's lock is taken only with IRQs masked (in the IRQ handler they
//! are masked by the CPU; elsewhere `without_irqs`), so the handler can
//! never find it held by the code it interrupted.

use super::{Handler, IrqError, IrqTable, Outcome, SPURIOUS};
use crate::arch::armv7::irqflags::without_irqs;
use crate::board::vexpress_a9::gic;
use crate::sync::Mutex;
use core::fmt::{self, Write};

static IRQS: Mutex<IrqTable> = Mutex::new(IrqTable::new());

/// The controller's name in /proc/interrupts (Linux's `gic_chip.name`).
const CHIP: &str = "GIC";

/// Linux's `init_IRQ` → `gic_of_init`: maps and initialises the GIC (all
/// lines masked) and sizes the table by what it reports.
#[unsafe(link_section = ".init.text")]
pub fn init_irq() -> Result<(), crate::errno::Errno> {
    let lines = gic::init()?;
    without_irqs(|| IRQS.lock().set_nr_irqs(lines));
    Ok(())
}

/// Linux's `request_irq`: registers `handler` for `irq` and unmasks the
/// line at the GIC when it is its first handler. Never inlined: `time_init`
/// calls it twice, and each inlined copy was code QEMU translated again.
#[inline(never)]
pub fn request_irq(
    irq: u32,
    handler: Handler,
    flags: u32,
    name: &'static str,
    dev_id: usize,
) -> Result<(), IrqError> {
    without_irqs(|| {
        let first = IRQS.lock().request(irq, handler, flags, name, dev_id)?;
        if first {
            gic::unmask(irq);
        }
        Ok(())
    })
}

/// Linux's `free_irq`: removes the handler registered with `dev_id`,
/// masking the line when it was the last; returns its name.
pub fn free_irq(irq: u32, dev_id: usize) -> Result<&'static str, IrqError> {
    without_irqs(|| {
        let (name, last) = IRQS.lock().free(irq, dev_id)?;
        if last {
            gic::mask(irq);
        }
        Ok(name)
    })
}

/// The IRQ vector, after entry.S saved the registers: acknowledge, run the
/// handlers, end the interrupt, until the GIC says nothing is pending.
/// Runs with IRQs masked (the CPU masked them when it took the vector).
pub fn handle_irq() {
    // Linux loops until GICC_IAR reads spurious; the bound only guards
    // against a line that re-asserts forever (it is then taken again at
    // once, and the "nobody cared" check masks it).
    for _ in 0..64 {
        let iar = gic::ack();
        let irq = iar & 0x3ff;
        if irq == SPURIOUS {
            return;
        }
        if irq < 16 {
            // An SGI: Kobold sends none; end it (as Linux before handle_IPI).
            gic::eoi(iar);
            continue;
        }
        let handlers = IRQS.lock().begin(irq);
        let handled = handlers.run(irq);
        let outcome = IRQS.lock().end(irq, !handlers.is_empty(), handled);
        if outcome == Outcome::Mask {
            gic::mask(irq);
        }
        gic::eoi(iar);
    }
}

/// `/proc/interrupts`, from a copy of the table taken with IRQs masked.
pub fn write_proc_interrupts(out: &mut dyn Write) -> fmt::Result {
    let table = without_irqs(|| IRQS.lock().clone());
    table.write_proc(out, CHIP)
}
