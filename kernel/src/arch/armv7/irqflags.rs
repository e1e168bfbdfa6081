//! IRQ masking, as Linux's arch/arm/include/asm/irqflags.h: the CPSR's I bit
//! (bit 7, 1 = IRQs masked) is the whole of "interrupts disabled" on one
//! CPU.
//!
//! [`local_irq_save`] reads the CPSR and masks IRQs (`cpsid i`), returning
//! the old value; [`local_irq_restore`] puts back only what it saved — IRQs
//! come back on only if they were on before, so save/restore pairs nest.
//! That is what `spin_lock_irqsave` is built on (`sync::spinlock`): with the
//! timer tick interrupt-driven, a lock an interrupt handler also takes must
//! be held with IRQs masked, or the handler spins on it forever.
//!
//! The registers are reached through the `aarch32-cpu` crate
//! (`register::Cpsr`, `interrupt`), which on the host reads a CPSR of 0
//! (IRQs "enabled") and makes `cpsid`/`cpsie` no-ops, so the code that uses
//! these functions builds and is tested on the host unchanged.
//!
//! FIQs are left alone, as Linux leaves them on ARM (`local_irq_*` are
//! about IRQs only).

use aarch32_cpu::register::Cpsr;

/// The CPSR's I bit.
const PSR_I_BIT: u32 = 1 << 7;

/// What [`local_irq_save`] saved: the CPSR's I bit (Linux's
/// `unsigned long flags`, which on ARM is the whole CPSR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "the saved flags must be handed back to local_irq_restore"]
pub struct Flags(pub u32);

impl Flags {
    /// Whether IRQs were masked when the flags were saved (Linux's
    /// `arch_irqs_disabled_flags`).
    pub fn irqs_disabled(self) -> bool {
        self.0 & PSR_I_BIT != 0
    }
}

/// The CPSR now, as [`Flags`] (Linux's `arch_local_save_flags`).
pub fn local_save_flags() -> Flags {
    Flags(Cpsr::read().raw_value())
}

/// Masks IRQs and returns what the CPSR was (Linux's `local_irq_save`).
pub fn local_irq_save() -> Flags {
    let flags = local_save_flags();
    local_irq_disable();
    flags
}

/// Unmasks IRQs again if they were unmasked when `flags` were saved
/// (Linux's `local_irq_restore`); leaves them masked otherwise.
pub fn local_irq_restore(flags: Flags) {
    if !flags.irqs_disabled() {
        local_irq_enable();
    }
}

/// Masks IRQs (`cpsid i`, Linux's `local_irq_disable`).
pub fn local_irq_disable() {
    aarch32_cpu::interrupt::disable();
}

/// Unmasks IRQs (`cpsie i`, Linux's `local_irq_enable`).
pub fn local_irq_enable() {
    // SAFETY: the kernel runs in SVC mode; unmasking IRQs is what the
    // caller asked for, and every lock an IRQ handler takes is held with
    // IRQs masked (`spin_lock_irqsave`), so no critical section is broken.
    unsafe { aarch32_cpu::interrupt::enable() };
}

/// Whether IRQs are masked now (Linux's `irqs_disabled`).
pub fn irqs_disabled() -> bool {
    local_save_flags().irqs_disabled()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_i_bit_is_what_counts() {
        assert!(Flags(0x6000_01d3).irqs_disabled()); // SVC, I and F set
        assert!(!Flags(0x6000_0153).irqs_disabled()); // SVC, I clear
    }

    #[test]
    fn save_and_restore_pair_up_on_the_host() {
        // The host's CPSR reads 0: IRQs "on"; the calls are no-ops.
        let f = local_irq_save();
        assert!(!f.irqs_disabled());
        local_irq_restore(f);
        assert!(!irqs_disabled());
    }
}
