//! Masking IRQs on the one CPU: Linux's `local_irq_save`,
//! `local_irq_restore`, `local_irq_enable`, `local_irq_disable` and
//! `irqs_disabled` (arch/arm/include/asm/irqflags.h, `cpsid i` / `cpsie i`
//! and CPSR.I).
//!
//! Kobold has one CPU and no preemption, so "IRQs masked" is the only
//! critical section there is: a lock that an IRQ handler may take (the IRQ
//! descriptors, printk's log) is only ever taken with IRQs masked, which
//! is Linux's `spin_lock_irqsave` on UP. Every function here is a
//! hardware-edge statement (docs/architecture.md, the unsafe rule): on the
//! host, where there are no interrupts, they do nothing and IRQs read as
//! masked.

/// CPSR.I: IRQs are masked while it is set.
pub const PSR_I_BIT: u32 = 1 << 7;

/// What [`local_irq_save`] found: the CPSR from before (Linux's
/// `unsigned long flags`, which on ARM is the whole CPSR; only its I bit
/// matters to [`local_irq_restore`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "hand it back to local_irq_restore"]
pub struct IrqFlags(pub u32);

impl IrqFlags {
    /// Whether IRQs were masked when the flags were saved (Linux's
    /// `arch_irqs_disabled_flags`).
    pub fn irqs_disabled(self) -> bool {
        self.0 & PSR_I_BIT != 0
    }
}

/// The CPSR now, as [`IrqFlags`] (Linux's `arch_local_save_flags`).
pub fn local_save_flags() -> IrqFlags {
    IrqFlags(cpsr())
}

/// The CPSR now (the host's stand-in: IRQs masked).
fn cpsr() -> u32 {
    #[cfg(target_arch = "arm")]
    {
        let v: u32;
        // SAFETY: reading CPSR has no side effect.
        unsafe {
            core::arch::asm!("mrs {}, cpsr", out(reg) v, options(nomem, nostack, preserves_flags))
        };
        v
    }
    #[cfg(not(target_arch = "arm"))]
    PSR_I_BIT
}

/// Masks IRQs (`cpsid i`).
pub fn local_irq_disable() {
    #[cfg(target_arch = "arm")]
    aarch32_cpu::interrupt::disable();
}

/// Unmasks IRQs (`cpsie i`).
///
/// # Safety
///
/// Not inside a section that relies on IRQs being masked (a lock an IRQ
/// handler takes is held, or an [`IrqFlags`] saved by the caller is still
/// to be restored), and the vectors and the IRQ controller are set up.
pub unsafe fn local_irq_enable() {
    #[cfg(target_arch = "arm")]
    // SAFETY: this function's contract.
    unsafe {
        aarch32_cpu::interrupt::enable()
    };
}

/// Whether IRQs are masked now.
pub fn irqs_disabled() -> bool {
    cpsr() & PSR_I_BIT != 0
}

/// Masks IRQs and says whether they were masked before.
pub fn local_irq_save() -> IrqFlags {
    let flags = local_save_flags();
    local_irq_disable();
    flags
}

/// Puts the mask back as [`local_irq_save`] found it.
pub fn local_irq_restore(flags: IrqFlags) {
    if !flags.irqs_disabled() {
        // SAFETY: IRQs were unmasked when the matching local_irq_save ran,
        // so the caller's section was entered with them on: turning them
        // back on ends exactly the section that save began.
        unsafe { local_irq_enable() };
    }
}

/// Runs `f` with IRQs masked (Linux's `local_irq_save` ... `restore` pair
/// around a block).
pub fn without_irqs<T>(f: impl FnOnce() -> T) -> T {
    let flags = local_irq_save();
    let r = f();
    local_irq_restore(flags);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_i_bit_is_what_counts() {
        assert!(IrqFlags(0x6000_01d3).irqs_disabled()); // SVC, I and F set
        assert!(!IrqFlags(0x6000_0153).irqs_disabled()); // SVC, I clear
    }

    #[test]
    fn on_the_host_irqs_read_as_masked_and_restore_keeps_them_so() {
        let f = local_irq_save();
        assert!(f.irqs_disabled());
        local_irq_restore(f);
        assert!(irqs_disabled());
    }
}
