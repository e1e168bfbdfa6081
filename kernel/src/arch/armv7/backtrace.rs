//! The oops's `Backtrace:` and `Code:` lines (Linux's `dump_backtrace` with
//! CONFIG_ARM_UNWIND, and `dump_instr`, arch/arm/kernel/traps.c, 3.18).
//!
//! The unwinder itself is [`kobold_common::unwind`] (pure, host-tested);
//! this glue gives it the index tables — the kernel's `.ARM.exidx`
//! (`__exidx_start..__exidx_end`, emitted because .cargo/config.toml forces
//! unwind tables for the ARM target) or the tables of the module holding
//! the address — and a [`Memory`] that only reads what is known to be
//! mapped: the kernel image, the module window, and the fault's stack, each
//! checked against the page tables first. A bad table or stack ends the
//! backtrace; it never faults inside the oops.
//!
//! Lines, as Linux prints them (the `Backtrace:` header is the frame-pointer
//! variant's, kept so both configurations read alike):
//!
//! ```text
//! Backtrace:
//! [<c0012345>] (kernel::shell::crash) from [<c0012000>] (kernel::shell::run+0x64/0xb4)
//! Code: e59f0010 e3a01000 e3a02000 e5801000 (e5812000)
//! ```

use super::ptregs::{PSR_T_BIT, PtRegs};
use crate::kallsyms::{Table, write_backtrace_symbol};
use crate::mm::pgtable;
use kobold_common::unwind::{self, Index, MAX_DEPTH, Memory, Regs, Step};

unsafe extern "C" {
    static _text: u8;
    static _end: u8;
    static __exidx_start: u8;
    static __exidx_end: u8;
    static __svc_stack_bottom: u8;
    static __svc_stack_top: u8;
}

fn sym(s: &u8) -> u32 {
    s as *const u8 as u32
}

/// Whether `addr`'s page is mapped (a walk of swapper_pg_dir).
fn mapped(addr: u32) -> bool {
    match pgtable::decode_l1(crate::mm::read_l1(addr)) {
        pgtable::L1Entry::Section { .. } | pgtable::L1Entry::Supersection { .. } => true,
        pgtable::L1Entry::Table { .. } => crate::mm::read_l2(addr).is_some_and(|pte| pte & 3 != 0),
        pgtable::L1Entry::Fault => false,
    }
}

/// Reads of the kernel image, the module window and one stack, when
/// mapped.
struct Mapped {
    stack: (u32, u32),
    modules: (u32, u32),
}

impl Mapped {
    fn readable(&self, addr: u32, len: u32) -> bool {
        // SAFETY: linker-script symbols; only their addresses are taken.
        let image = unsafe { (sym(&_text), sym(&_end)) };
        let within = |(lo, hi): (u32, u32)| addr >= lo && addr < hi && hi - addr >= len;
        (within(image) || within(self.modules) || within(self.stack))
            && addr.is_multiple_of(len)
            && mapped(addr)
    }

    fn read_u16(&self, addr: u32) -> Option<u16> {
        if !self.readable(addr, 2) {
            return None;
        }
        // SAFETY: aligned, inside a known range, and its page is mapped.
        Some(unsafe { core::ptr::read_volatile(addr as *const u16) })
    }
}

impl Memory for Mapped {
    fn read_u32(&self, addr: u32) -> Option<u32> {
        if !self.readable(addr, 4) {
            return None;
        }
        // SAFETY: aligned, inside a known range, and its page is mapped.
        Some(unsafe { core::ptr::read_volatile(addr as *const u32) })
    }
}

/// The stack `sp` is on: the SVC stack, or else (Linux's THREAD_SIZE
/// rule) up to the next 8 KB boundary.
fn stack_bounds(sp: u32) -> (u32, u32) {
    // SAFETY: linker-script symbols; only their addresses are taken.
    let (lo, hi) = unsafe { (sym(&__svc_stack_bottom), sym(&__svc_stack_top)) };
    if sp >= lo && sp < hi {
        (sp, hi)
    } else {
        (sp, (sp | 0x1fff).saturating_add(1))
    }
}

/// Prints `Backtrace:` and one line per frame unwound from `regs`.
pub fn show_backtrace(
    syms: Option<&Table<'_>>,
    regs: &PtRegs,
    line: &mut dyn FnMut(core::fmt::Arguments<'_>),
) {
    line(format_args!("Backtrace: "));
    let mut vrs: Regs = [0; 16];
    vrs[..13].copy_from_slice(&regs.r);
    vrs[unwind::SP] = regs.sp;
    vrs[unwind::LR] = regs.lr;
    vrs[unwind::PC] = regs.pc;
    // SAFETY: linker-script symbols; only their addresses are taken.
    let kernel = [unsafe {
        Index {
            start: sym(&__exidx_start),
            end: sym(&__exidx_end),
        }
    }];
    let (low, top) = stack_bounds(regs.sp);
    // The steps are gathered with the module list locked (a module's
    // tables live in it) and printed after, when the symboliser can take
    // the lock itself. Only tried: the oops may have hit inside the loader.
    let mut steps = [Step { at: 0, from: 0 }; MAX_DEPTH];
    let mut n = 0;
    {
        let mods = crate::module::MODULES.try_lock();
        let modules = mods.as_ref().map_or((0, 0), |m| (m.addr_min, m.addr_max));
        let mem = Mapped {
            stack: (low, top),
            modules,
        };
        let tables = |pc: u32| -> &[Index] {
            match mods.as_ref().and_then(|m| m.module_at(pc)) {
                Some(m) => m.exidx(),
                None => &kernel,
            }
        };
        unwind::backtrace(&mem, &tables, vrs, top, &mut |s| {
            if let Some(slot) = steps.get_mut(n) {
                *slot = s;
                n += 1;
            }
        });
    }
    // Every frame but the first is a return address: named as `%pB` does
    // (looked up one byte back), the way the unwinder found its entry.
    for (i, s) in steps.iter().take(n).enumerate() {
        let mut at = SymBuf::default();
        let named = if i == 0 {
            crate::kallsyms::write_symbol_name(&mut at, syms, s.at, false)
        } else {
            write_backtrace_symbol(&mut at, syms, s.at, false)
        };
        if named != Ok(true) {
            let _ = core::fmt::Write::write_fmt(&mut at, format_args!("{:#010x}", s.at));
        }
        let mut from = SymBuf::default();
        if write_backtrace_symbol(&mut from, syms, s.from, true) != Ok(true) {
            let _ = core::fmt::Write::write_fmt(&mut from, format_args!("{:#010x}", s.from));
        }
        line(format_args!(
            "[<{:08x}>] ({}) from [<{:08x}>] ({})",
            s.at,
            at.as_str(),
            s.from,
            from.as_str()
        ));
    }
}

/// Linux's `dump_instr`: the four instructions before PC and PC's own in
/// parentheses (Thumb: halfwords, and one after PC), or `bad PC value`
/// where memory cannot be read.
pub fn show_code(regs: &PtRegs, line: &mut dyn FnMut(core::fmt::Arguments<'_>)) {
    let mods = crate::module::MODULES
        .try_lock()
        .map_or((0, 0), |m| (m.addr_min, m.addr_max));
    let mem = Mapped {
        stack: (0, 0),
        modules: mods,
    };
    let thumb = regs.cpsr & PSR_T_BIT != 0;
    let mut out = crate::console::FixedBuf::<96>::default();
    let last = if thumb { 1 } else { 0 };
    for i in -4i32..=last {
        use core::fmt::Write;
        let (val, width) = if thumb {
            let a = regs.pc.wrapping_add((i * 2) as u32);
            (mem.read_u16(a).map(u32::from), 4)
        } else {
            (mem.read_u32(regs.pc.wrapping_add((i * 4) as u32)), 8)
        };
        let _ = match val {
            Some(v) if i == 0 => write!(out, "({v:0width$x}) "),
            Some(v) => write!(out, "{v:0width$x} "),
            None => {
                let _ = out.write_str("bad PC value");
                break;
            }
        };
    }
    line(format_args!("Code: {}", out.as_str()));
}

/// Room for one `name+0xoff/0xsize [module]`.
type SymBuf = crate::console::FixedBuf<160>;
