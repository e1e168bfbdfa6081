//! Interrupts: the handler registry (Linux's `request_irq` / `free_irq`,
//! kernel/irq/manage.c), the flow from one acknowledged interrupt to its
//! handlers (`handle_irq_event`, kernel/irq/handle.c; the "nobody cared"
//! check of kernel/irq/spurious.c) and `/proc/interrupts`
//! (kernel/irq/proc.c `show_interrupts` + arch/arm/kernel/irq.c
//! `arch_show_interrupts`).
//!
//! The path of one interrupt, from the wire to the handler:
//!
//! 1. the device (the SP804 timer) raises its line, the GIC distributor
//!    forwards it to the CPU interface, the CPU takes the IRQ vector;
//! 2. `entry.S` saves a `PtRegs` on the interrupted code's stack and calls
//!    `handle_exception`, which calls `handle_irq` (target, `irq/kernel.rs`);
//! 3. the GIC driver (`board::vexpress_a9::gic`) reads GICC_IAR: the IRQ
//!    number, now *active*; 1023 means spurious (nothing to do, no EOI);
//! 4. [`IrqTable::begin`] counts it and returns the handlers registered for
//!    it; each runs with IRQs masked and says whether its device raised
//!    the line ([`IrqReturn`]); [`IrqTable::end`] decides what happens when
//!    none did;
//! 5. GICC_EOIR ends it; the loop reads IAR again until it says 1023, as
//!    Linux's `gic_handle_irq` does.
//!
//! The table is a fixed array: requesting an IRQ allocates nothing, so it
//! cannot fail for memory. Kobold numbers IRQs as the GIC does (Linux
//! irq = hwirq, the identity mapping Linux's GIC driver used for non-DT
//! boards; with a device tree Linux hands out virtual numbers instead).
//!
//! Handlers run with IRQs masked and must not take a lock that process
//! context may hold with IRQs unmasked: the registry's own lock and
//! printk's are only taken with IRQs masked (`arch::armv7::irqflags`), so
//! both are safe; the module and memory locks are not.

use crate::errno::Errno;
use core::fmt::{self, Write};

/// IRQ numbers the table accounts for: the GIC's 16 SGIs, 16 PPIs and up to
/// 128 SPIs (QEMU's vexpress-a9 GIC has 64 SPIs).
pub const NR_IRQS: usize = 160;
/// Handlers the table holds in all (Linux allocates `irqaction`s; a fixed
/// number keeps `request_irq` allocation-free).
pub const MAX_ACTIONS: usize = 16;
/// GICC_IAR's "no interrupt pending" (ARM IHI 0048B, 4.4.4).
pub const SPURIOUS: u32 = 1023;
/// After this many unhandled interrupts in a row an IRQ that has handlers is
/// masked (kernel/irq/spurious.c: 99,900 of 100,000 unhandled).
pub const UNHANDLED_LIMIT: u32 = 100_000;

/// What a handler says (Linux's `irqreturn_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqReturn {
    /// `IRQ_NONE`: not my device.
    None,
    /// `IRQ_HANDLED`: my device raised it and is quiet now.
    Handled,
}

/// An interrupt handler: the IRQ number and the `dev_id` it was registered
/// with (Linux's `irq_handler_t`).
pub type Handler = fn(irq: u32, dev_id: usize) -> IrqReturn;

/// `IRQF_SHARED`: the line may have several handlers.
pub const IRQF_SHARED: u32 = 0x80;
/// `IRQF_TIMER`: the handler is a timer's (shown nowhere, kept as Linux).
pub const IRQF_TIMER: u32 = 0x200;

/// One registered handler (Linux's `struct irqaction`).
#[derive(Clone, Copy, Debug)]
pub struct Action {
    pub irq: u32,
    pub name: &'static str,
    pub handler: Handler,
    pub flags: u32,
    pub dev_id: usize,
}

/// Why `request_irq` or `free_irq` refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqError {
    /// Not an IRQ the controller has (or an SGI/PPI), `-EINVAL`.
    InvalidIrq(u32),
    /// The line is taken, and not both sides said `IRQF_SHARED` (Linux:
    /// `genirq: Flags mismatch irq N. NEW (name) vs. OLD (name)`), `-EBUSY`.
    Busy {
        irq: u32,
        flags: u32,
        old_flags: u32,
        old_name: &'static str,
    },
    /// The same `dev_id` twice on one shared line, `-EBUSY`.
    DuplicateDevId(u32),
    /// Every slot of the table is used, `-ENOMEM`.
    TableFull,
    /// `free_irq` of a handler that is not registered (Linux warns
    /// `Trying to free already-free IRQ N`), `-ENOENT`.
    NotRegistered(u32),
}

impl IrqError {
    /// The errno Linux returns for it.
    pub fn errno(self) -> Errno {
        match self {
            IrqError::InvalidIrq(_) => Errno::EINVAL,
            IrqError::Busy { .. } | IrqError::DuplicateDevId(_) => Errno::EBUSY,
            IrqError::TableFull => Errno::ENOMEM,
            IrqError::NotRegistered(_) => Errno::ENOENT,
        }
    }
}

impl fmt::Display for IrqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IrqError::InvalidIrq(irq) => write!(f, "genirq: irq {irq} is not a valid interrupt"),
            IrqError::Busy {
                irq,
                flags,
                old_flags,
                old_name,
            } => write!(
                f,
                "genirq: Flags mismatch irq {irq}. {flags:08x} vs. {old_flags:08x} ({old_name})"
            ),
            IrqError::DuplicateDevId(irq) => {
                write!(
                    f,
                    "genirq: irq {irq} already has a handler with this dev_id"
                )
            }
            IrqError::TableFull => write!(f, "genirq: no free irqaction slot"),
            IrqError::NotRegistered(irq) => write!(f, "Trying to free already-free IRQ {irq}"),
        }
    }
}

/// What [`IrqTable::end`] decided after the handlers ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A handler took it.
    Handled,
    /// Handlers exist but none took it; the line stays enabled.
    Unhandled,
    /// Mask the line at the controller: nobody handles it (no handler at
    /// all, Linux's `handle_bad_irq`, counted in `Err:`; or
    /// [`UNHANDLED_LIMIT`] unhandled in a row, "nobody cared").
    Mask,
}

/// The handlers of one IRQ, copied out of the table so they run without
/// its lock (Linux drops `desc->lock` around `handle_irq_event_percpu`):
/// the table's whole list of actions is copied (one `memcpy`), and the
/// IRQ's are picked from it, in the order they were registered. (Picking
/// them into a list of their own was ~30 more guest instructions for QEMU
/// to translate at boot: filling the empty list, then the copy back.)
#[derive(Clone, Copy, Debug)]
pub struct Handlers {
    irq: u32,
    actions: [Option<Action>; MAX_ACTIONS],
}

impl Handlers {
    /// The IRQ's actions.
    fn iter(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().flatten().filter(|a| a.irq == self.irq)
    }

    /// Calls each handler; whether any handled the interrupt.
    pub fn run(&self, irq: u32) -> bool {
        let mut handled = false;
        for a in self.iter() {
            handled |= (a.handler)(irq, a.dev_id) == IrqReturn::Handled;
        }
        handled
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

/// The registry and the counts (Linux's `irq_desc` array, one CPU).
#[derive(Clone, Debug)]
pub struct IrqTable {
    actions: [Option<Action>; MAX_ACTIONS],
    counts: [u32; NR_IRQS],
    unhandled: [u32; NR_IRQS],
    /// `irq_err_count`: interrupts nobody had registered for.
    err: u32,
    /// IRQs the controller has (GICD_TYPER), at most [`NR_IRQS`].
    nr_irqs: u32,
}

impl Default for IrqTable {
    fn default() -> Self {
        Self::new()
    }
}

impl IrqTable {
    pub const fn new() -> Self {
        IrqTable {
            actions: [None; MAX_ACTIONS],
            counts: [0; NR_IRQS],
            unhandled: [0; NR_IRQS],
            err: 0,
            nr_irqs: NR_IRQS as u32,
        }
    }

    /// How many IRQs the controller has (bounded by [`NR_IRQS`]).
    pub fn set_nr_irqs(&mut self, n: u32) {
        self.nr_irqs = n.min(NR_IRQS as u32);
    }

    pub fn nr_irqs(&self) -> u32 {
        self.nr_irqs
    }

    /// Linux's `request_irq(irq, handler, flags, name, dev_id)`: adds a
    /// handler. Only SPIs (32 and up) can be requested: SGIs and PPIs are
    /// per-CPU and Kobold uses none. Returns whether this is the line's
    /// first handler (the caller then unmasks it at the controller).
    pub fn request(
        &mut self,
        irq: u32,
        handler: Handler,
        flags: u32,
        name: &'static str,
        dev_id: usize,
    ) -> Result<bool, IrqError> {
        if !(32..self.nr_irqs).contains(&irq) {
            return Err(IrqError::InvalidIrq(irq));
        }
        let mut first = true;
        for a in self.actions.iter().flatten().filter(|a| a.irq == irq) {
            first = false;
            if flags & a.flags & IRQF_SHARED == 0 {
                return Err(IrqError::Busy {
                    irq,
                    flags,
                    old_flags: a.flags,
                    old_name: a.name,
                });
            }
            if a.dev_id == dev_id {
                return Err(IrqError::DuplicateDevId(irq));
            }
        }
        let slot = self
            .actions
            .iter_mut()
            .find(|s| s.is_none())
            .ok_or(IrqError::TableFull)?;
        *slot = Some(Action {
            irq,
            name,
            handler,
            flags,
            dev_id,
        });
        if first && let Some(u) = self.unhandled.get_mut(irq as usize) {
            *u = 0;
        }
        Ok(first)
    }

    /// Linux's `free_irq(irq, dev_id)`: removes that handler and returns its
    /// name, and whether the line has no handler left (the caller then
    /// masks it).
    pub fn free(&mut self, irq: u32, dev_id: usize) -> Result<(&'static str, bool), IrqError> {
        let slot = self
            .actions
            .iter_mut()
            .find(|s| s.is_some_and(|a| a.irq == irq && a.dev_id == dev_id))
            .ok_or(IrqError::NotRegistered(irq))?;
        let name = slot.map_or("", |a| a.name);
        *slot = None;
        let last = !self.actions.iter().flatten().any(|a| a.irq == irq);
        Ok((name, last))
    }

    /// The first half of handling `irq`: counts it (`kstat_incr_irqs_this_cpu`)
    /// and returns its handlers, in the order they were registered.
    pub fn begin(&mut self, irq: u32) -> Handlers {
        if let Some(c) = self.counts.get_mut(irq as usize) {
            *c = c.wrapping_add(1);
        }
        Handlers {
            irq,
            actions: self.actions,
        }
    }

    /// The second half: `had_handlers` and `handled` from [`Handlers`].
    pub fn end(&mut self, irq: u32, had_handlers: bool, handled: bool) -> Outcome {
        let Some(unhandled) = self.unhandled.get_mut(irq as usize) else {
            self.err = self.err.wrapping_add(1);
            return Outcome::Mask;
        };
        if !had_handlers {
            self.err = self.err.wrapping_add(1);
            return Outcome::Mask;
        }
        if handled {
            *unhandled = 0;
            return Outcome::Handled;
        }
        *unhandled += 1;
        if *unhandled >= UNHANDLED_LIMIT {
            *unhandled = 0;
            Outcome::Mask
        } else {
            Outcome::Unhandled
        }
    }

    /// How many times `irq` was taken.
    pub fn count(&self, irq: u32) -> u32 {
        self.counts.get(irq as usize).copied().unwrap_or(0)
    }

    /// `irq_err_count`.
    pub fn err_count(&self) -> u32 {
        self.err
    }

    /// `/proc/interrupts` for one CPU, the controller named `chip` ("GIC"):
    /// Linux 3.18's `show_interrupts` then ARM's `arch_show_interrupts`
    /// (UP: no IPI lines; no FIQ list).
    ///
    /// ```text
    ///            CPU0       
    ///  34:       1234       GIC  34  timer, timer1
    /// Err:          0
    /// ```
    pub fn write_proc(&self, out: &mut dyn Write, chip: &str) -> fmt::Result {
        // The first column's width: 3, more for 1000 IRQs and up.
        let mut prec = 3usize;
        let mut j = 1000u32;
        while prec < 10 && j <= self.nr_irqs {
            prec += 1;
            j = j.saturating_mul(10);
        }
        // "%*s" prec + 8 spaces, then "CPU%-8d" per CPU.
        writeln!(out, "{:w$}{:<11}", "", "CPU0", w = prec + 8)?;
        for irq in 0..self.nr_irqs {
            let count = self.count(irq);
            let mut names = self.actions.iter().flatten().filter(|a| a.irq == irq);
            let first = names.next();
            if first.is_none() && count == 0 {
                continue;
            }
            // "%*d: ", "%10u " per CPU, " %8s" chip, " %*d" hwirq.
            write!(out, "{irq:prec$}: {count:10}  {chip:>8} {irq:prec$}")?;
            if let Some(a) = first {
                write!(out, "  {}", a.name)?;
                for a in names {
                    write!(out, ", {}", a.name)?;
                }
            }
            writeln!(out)?;
        }
        writeln!(out, "{:>prec$}: {:10}", "Err", self.err)
    }
}

#[cfg(target_arch = "arm")]
mod kernel;
#[cfg(target_arch = "arm")]
pub use kernel::{free_irq, handle_irq, init_irq, request_irq, write_proc_interrupts};

#[cfg(test)]
mod tests {
    use super::*;

    fn mine(_irq: u32, dev: usize) -> IrqReturn {
        if dev == 1 {
            IrqReturn::Handled
        } else {
            IrqReturn::None
        }
    }

    #[test]
    fn request_and_free_follow_linux() {
        let mut t = IrqTable::new();
        t.set_nr_irqs(96);
        assert_eq!(t.request(34, mine, 0, "timer", 1), Ok(true));
        // Not shared: a second handler is refused, naming the first.
        let e = t.request(34, mine, 0, "other", 2).unwrap_err();
        assert_eq!(e.errno(), Errno::EBUSY);
        assert_eq!(
            e.to_string(),
            "genirq: Flags mismatch irq 34. 00000000 vs. 00000000 (timer)"
        );
        assert_eq!(t.free(34, 1), Ok(("timer", true)));
        // Both shared: two handlers, distinct dev_ids.
        assert_eq!(t.request(34, mine, IRQF_SHARED, "timer", 1), Ok(true));
        assert_eq!(t.request(34, mine, IRQF_SHARED, "timer1", 2), Ok(false));
        assert_eq!(
            t.request(34, mine, IRQF_SHARED, "again", 2),
            Err(IrqError::DuplicateDevId(34))
        );
        assert_eq!(t.free(34, 1), Ok(("timer", false)));
        assert_eq!(t.free(34, 1), Err(IrqError::NotRegistered(34)));
        assert_eq!(t.free(34, 2), Ok(("timer1", true)));
        // SGIs, PPIs and lines the GIC does not have.
        for irq in [0, 29, 96, 1023] {
            assert_eq!(
                t.request(irq, mine, 0, "x", 0).map_err(IrqError::errno),
                Err(Errno::EINVAL)
            );
        }
        // The table is bounded.
        for i in 0..MAX_ACTIONS {
            assert!(t.request(40, mine, IRQF_SHARED, "many", i).is_ok());
        }
        assert_eq!(
            t.request(41, mine, 0, "one more", 0),
            Err(IrqError::TableFull)
        );
    }

    #[test]
    fn dispatch_counts_and_decides() {
        let mut t = IrqTable::new();
        t.set_nr_irqs(96);
        t.request(34, mine, IRQF_SHARED, "a", 0).unwrap();
        t.request(34, mine, IRQF_SHARED, "b", 1).unwrap();
        let h = t.begin(34);
        assert!(!h.is_empty());
        assert!(h.run(34)); // "b" handles it
        assert_eq!(t.end(34, true, true), Outcome::Handled);
        assert_eq!(t.count(34), 1);
        // Nobody registered: counted in Err, masked.
        let h = t.begin(50);
        assert!(h.is_empty());
        assert_eq!(t.end(50, false, false), Outcome::Mask);
        assert_eq!((t.count(50), t.err_count()), (1, 1));
        // A handler that never takes it: masked after the limit.
        t.free(34, 1).unwrap();
        for _ in 1..UNHANDLED_LIMIT {
            let h = t.begin(34);
            let handled = h.run(34);
            assert_eq!(t.end(34, true, handled), Outcome::Unhandled);
        }
        assert_eq!(t.end(34, true, false), Outcome::Mask);
        // Out of range never panics.
        let _ = t.begin(5000);
        assert_eq!(t.end(5000, false, false), Outcome::Mask);
    }

    /// `run` calls the IRQ's handlers only, each once, in the table's
    /// order (a freed slot is reused by the next request, as before).
    #[test]
    fn handlers_run_are_the_irqs_in_table_order() {
        static CALLS: std::sync::Mutex<Vec<(u32, usize)>> = std::sync::Mutex::new(Vec::new());
        fn log(irq: u32, dev: usize) -> IrqReturn {
            CALLS.lock().unwrap().push((irq, dev));
            if dev == 3 {
                IrqReturn::Handled
            } else {
                IrqReturn::None
            }
        }
        let mut t = IrqTable::new();
        t.set_nr_irqs(96);
        t.request(34, log, IRQF_SHARED, "a", 7).unwrap();
        t.request(40, log, 0, "other", 9).unwrap();
        t.request(34, log, IRQF_SHARED, "b", 3).unwrap();
        t.free(34, 7).unwrap();
        t.request(34, log, IRQF_SHARED, "c", 5).unwrap();
        let h = t.begin(34);
        // What the table does after `begin` does not change the copy.
        t.free(34, 3).unwrap();
        assert!(!h.is_empty());
        assert!(h.run(34));
        assert_eq!(*CALLS.lock().unwrap(), [(34, 5), (34, 3)]);
        CALLS.lock().unwrap().clear();
        let h = t.begin(41);
        assert!(h.is_empty());
        assert!(!h.run(41));
        assert!(CALLS.lock().unwrap().is_empty());
    }

    #[test]
    fn proc_interrupts_format_matches_linux() {
        let mut t = IrqTable::new();
        t.set_nr_irqs(96);
        t.request(34, mine, IRQF_SHARED | IRQF_TIMER, "timer", 1)
            .unwrap();
        t.request(34, mine, IRQF_SHARED | IRQF_TIMER, "timer1", 2)
            .unwrap();
        t.request(44, mine, 0, "kmi-pl050", 3).unwrap();
        for _ in 0..1234 {
            let _ = t.begin(34);
        }
        let _ = t.begin(60); // no handler, but counted: shown without a name
        t.end(60, false, false);
        let mut s = String::new();
        t.write_proc(&mut s, "GIC").unwrap();
        assert_eq!(
            s,
            "           CPU0       \n\
             \x2034:       1234       GIC  34  timer, timer1\n\
             \x2044:          0       GIC  44  kmi-pl050\n\
             \x2060:          1       GIC  60\n\
             Err:          1\n"
        );
        // 1000 IRQs and up widen the first column, as Linux's prec.
        t.nr_irqs = 1000; // (test only: beyond NR_IRQS)
        let mut s = String::new();
        t.write_proc(&mut s, "GIC").unwrap();
        assert!(s.starts_with("            CPU0       \n  34:"), "{s:?}");
        assert!(s.ends_with(" Err:          1\n"), "{s:?}");
    }
}
