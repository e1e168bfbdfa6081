//! Exception handling: what happens after `entry.S` saved the registers.
//!
//! Kobold has no user space, so every exception but two is a kernel bug
//! and ends in an *oops* printed exactly like Linux's (arch/arm/mm/fault.c
//! `__do_kernel_fault`, arch/arm/kernel/traps.c `die`/`__show_regs`),
//! followed by a panic. The two are the IRQ, which goes to the interrupt
//! layer ([`crate::irq::handle_irq`], Linux's `__irq_svc` →
//! `handle_arch_irq` = `gic_handle_irq`) and returns to the interrupted
//! code, and the semihosting probe's SVC (see [`super::semihosting`]).
//!
//! Every vector masks IRQs on entry (the CPU sets CPSR.I), so handlers and
//! oopses run uninterrupted; the interrupted code's CPSR, I bit included,
//! comes back with the `rfe` at the end of the stub. An abort inside an IRQ
//! handler nests as any other: its stub saves another frame on the same
//! stack and the oops names the handler.
//!
//! Data aborts report the faulting address in DFAR and the cause in DFSR;
//! prefetch aborts in IFAR/IFSR (ARM ARM B3.13.3). Linux prints the address,
//! the first-level descriptor that translated it (`*pgd=`), the status as
//! `Internal error: Oops: <fsr> [#1] ARM`, then the registers with `PC is
//! at symbol+off/size`, the `Backtrace:` unwound through the `.ARM.exidx`
//! tables and the `Code:` around PC ([`super::backtrace`]).

use super::backtrace;
use super::fsr::Abort;
use super::ptregs::{PSR_T_BIT, PtRegs, SystemRegs};
use super::semihosting;
use crate::kallsyms;
use crate::mm::pgtable;
use crate::{pr_alert, pr_emerg};
use aarch32_cpu::register::{Dacr, Dfar, Dfsr, Ifar, Ifsr, Sctlr, SysRegRead, Ttbr0};
use core::sync::atomic::{AtomicU32, Ordering};
use kobold_layout::PAGE_SIZE;

/// Which vector was taken: the numbers entry.S passes to
/// `handle_exception` (the vector's offset in the table divided by 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ExceptionKind {
    Reset = 0,
    Undefined = 1,
    Svc = 2,
    PrefetchAbort = 3,
    DataAbort = 4,
    Reserved = 5,
    Irq = 6,
    Fiq = 7,
}

impl ExceptionKind {
    /// The vector entry.S numbered `n`, if it is one.
    pub const fn from_vector(n: u32) -> Option<ExceptionKind> {
        Some(match n {
            0 => ExceptionKind::Reset,
            1 => ExceptionKind::Undefined,
            2 => ExceptionKind::Svc,
            3 => ExceptionKind::PrefetchAbort,
            4 => ExceptionKind::DataAbort,
            5 => ExceptionKind::Reserved,
            6 => ExceptionKind::Irq,
            7 => ExceptionKind::Fiq,
            _ => return None,
        })
    }
}

static DIE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Called by every stub in entry.S with the vector's number.
#[unsafe(no_mangle)]
extern "C" fn handle_exception(regs: &mut PtRegs, kind: u32) {
    match ExceptionKind::from_vector(kind) {
        Some(ExceptionKind::Undefined) => {
            // entry.S subtracted 4; a Thumb instruction is 2 bytes shorter.
            if regs.cpsr & PSR_T_BIT != 0 {
                regs.pc += 2;
            } else if is_bug(regs.pc) {
                // Linux's bug_handler: report_bug's line for a BUG without
                // file and line (Kobold keeps no __bug_table), then die.
                crate::console::printk::bust_locks();
                let mut at = crate::console::FixedBuf::<160>::default();
                let _ = kallsyms::write_symbol(&mut at, kallsyms::kernel_table().as_ref(), regs.pc);
                crate::printk!(
                    crate::console::printk::Level::Crit,
                    "Kernel BUG at {} [verbose debug info unavailable]",
                    at.as_str()
                );
                die("Oops - BUG", 0, regs);
            }
            die("Oops - undefined instruction", 0, regs);
        }
        Some(ExceptionKind::Svc) => {
            // The SVC's own encoding holds its immediate (ARM state only;
            // Kobold never runs Thumb kernel code).
            // SAFETY: pc - 4 is the SVC instruction that just executed, so it
            // is mapped and readable.
            let insn = unsafe { core::ptr::read_volatile((regs.pc - 4) as *const u32) };
            if insn & 0x00ff_ffff == semihosting::SVC_IMMEDIATE {
                semihosting::note_unhandled_trap();
                regs.r[0] = u32::MAX;
                return;
            }
            die("Oops - bad syscall", insn & 0x00ff_ffff, regs);
        }
        Some(ExceptionKind::PrefetchAbort) => {
            kernel_fault(Ifar::read_raw(), Ifsr::read_raw(), Abort::Prefetch, regs)
        }
        Some(ExceptionKind::DataAbort) => {
            kernel_fault(Dfar::read_raw(), Dfsr::read_raw(), Abort::Data, regs)
        }
        Some(ExceptionKind::Irq) => crate::irq::handle_irq(),
        Some(ExceptionKind::Reset | ExceptionKind::Reserved | ExceptionKind::Fiq) | None => {
            die("Oops - unexpected exception", kind, regs)
        }
    }
}

/// Linux's `BUG_INSTR_VALUE` (arch/arm/include/asm/bug.h): the undefined
/// instruction `BUG()` executes (Kobold's `fortify_panic` for 6.1 modules,
/// and any 6.1 module's own `BUG()`).
const BUG_INSTR: u32 = 0xe7f0_01f2;

/// Whether the ARM instruction at `pc` is `BUG()`'s.
fn is_bug(pc: u32) -> bool {
    if !pc.is_multiple_of(4) {
        return false;
    }
    // SAFETY: the undefined instruction was just fetched from `pc`, so its
    // word is mapped and readable.
    unsafe { core::ptr::read_volatile(pc as *const u32) == BUG_INSTR }
}

/// Linux's `__do_kernel_fault` for a fault nothing can fix up.
fn kernel_fault(addr: u32, fsr_value: u32, abort: Abort, regs: &PtRegs) -> ! {
    crate::console::printk::bust_locks();
    let what = if addr < PAGE_SIZE {
        "NULL pointer dereference"
    } else {
        "paging request"
    };
    pr_alert!("Unable to handle kernel {what} at virtual address {addr:08x}");
    show_pte(addr);
    pr_alert!(
        "{}: {fsr_value:#010x} ({}, {})",
        abort.register(),
        abort.cause(fsr_value),
        abort.access(fsr_value)
    );
    die("Oops", fsr_value, regs);
}

/// Linux's `show_pte`: the table entries that translated `addr`.
fn show_pte(addr: u32) {
    let pgd = kobold_layout::SWAPPER_PG_DIR;
    pr_alert!("pgd = {pgd:08x}");
    let l1 = crate::mm::read_l1(addr);
    match pgtable::decode_l1(l1) {
        pgtable::L1Entry::Table { .. } => match crate::mm::read_l2(addr) {
            Some(pte) => pr_alert!("[{addr:08x}] *pgd={l1:08x}, *pte={pte:08x}"),
            None => pr_alert!("[{addr:08x}] *pgd={l1:08x}"),
        },
        _ => pr_alert!("[{addr:08x}] *pgd={l1:08x}"),
    }
}

/// Linux's `die()`: the oops header and registers, then a panic.
fn die(msg: &str, err: u32, regs: &PtRegs) -> ! {
    crate::console::printk::bust_locks();
    let n = DIE_COUNTER.fetch_add(1, Ordering::SeqCst) + 1;
    if n > 1 {
        // A fault while reporting a fault: say so and stop.
        pr_emerg!("Internal error: {msg}: {err:x} [#{n}] ARM (recursive)");
        crate::panic::panic_exit("Fatal exception in oops");
    }
    pr_emerg!("Internal error: {msg}: {err:x} [#{n}] ARM");
    let mut linked = crate::console::FixedBuf::<256>::default();
    let mut taint = None;
    if let Some(mods) = crate::module::MODULES.try_lock() {
        let _ = mods.write_linked_in(&mut linked);
        taint = mods.taint();
    }
    pr_emerg!("Modules linked in:{}", linked.as_str());
    match taint.as_ref().and_then(|t| core::str::from_utf8(t).ok()) {
        Some(t) => pr_emerg!(
            "CPU: 0 PID: 0 Comm: swapper Tainted: {t} {} #1",
            env!("CARGO_PKG_VERSION")
        ),
        None => pr_emerg!(
            "CPU: 0 PID: 0 Comm: swapper Not tainted {} #1",
            env!("CARGO_PKG_VERSION")
        ),
    }
    let sys = SystemRegs {
        sctlr: Sctlr::read_raw(),
        ttbr0: Ttbr0::read_raw(),
        dacr: Dacr::read_raw(),
    };
    let table = kallsyms::kernel_table();
    regs.show(table.as_ref(), &sys, &mut |args| pr_emerg!("{}", args));
    backtrace::show_backtrace(table.as_ref(), regs, &mut |args| pr_emerg!("{}", args));
    backtrace::show_code(regs, &mut |args| pr_emerg!("{}", args));
    crate::panic::panic_exit("Fatal exception");
}
