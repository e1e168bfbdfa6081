//! `spinlock_t` and the out-of-line functions `spin_lock()` and friends
//! call (Linux's kernel/locking/spinlock.c, `_raw_spin_*`), on ARM's
//! ticket lock (arch/arm/include/asm/spinlock{,_types}.h).
//!
//! A `spinlock_t` without `CONFIG_DEBUG_SPINLOCK`/`CONFIG_DEBUG_LOCK_ALLOC`
//! is one 32-bit word, `{u16 owner; u16 next;}` on little-endian ARM:
//! locking takes a ticket (`next += 1`, the high half) and waits until
//! `owner` reaches it; unlocking advances `owner`. The same word in Linux
//! 3.18 and 6.1, so this layout also serves 6.1 modules.
//!
//! Which functions exist out of line: in an SMP ARM build Linux exports
//! `_raw_spin_lock`, `_raw_spin_lock_bh`, `_raw_spin_lock_irq`,
//! `_raw_spin_lock_irqsave`, `_raw_spin_trylock`, `_raw_spin_trylock_bh`,
//! `_raw_spin_unlock_bh` and `_raw_spin_unlock_irqrestore`; `_raw_spin_unlock`
//! and `_raw_spin_unlock_irq` are inlined into the caller unless the
//! kernel is preemptible (`CONFIG_INLINE_SPIN_UNLOCK{,_IRQ}`, which
//! Debian's 6.1 config has). Kobold exports all ten, and its headers call
//! them all (as a `CONFIG_PREEMPT` kernel's headers do), so every unlock
//! goes through the checks below.
//!
//! `_irqsave` really masks IRQs: it saves the CPSR ([`irqflags`]), masks
//! IRQs, then takes the lock; `_irqrestore` releases, then restores. That
//! is what makes a lock shared with an interrupt handler safe on one CPU.
//! Kobold has no softirqs, so `_bh` is the plain lock.
//!
//! One CPU, one task: a lock that is already held when it is taken can
//! never be released (the holder is the code that is asking, or the code
//! an interrupt handler interrupted). Linux's `CONFIG_DEBUG_SPINLOCK`
//! reports that as `BUG: spinlock recursion`, and an unlock of a free lock
//! as `BUG: spinlock already unlocked`; Kobold prints the same and refuses
//! the operation instead of spinning forever.
//!
//! [`irqflags`]: crate::arch::armv7::irqflags

use super::{Px, current_comm_pid};
use crate::arch::armv7::irqflags::{self, IrqFlags};
use core::sync::atomic::{AtomicU32, Ordering};

/// `arch_spinlock_t` / `raw_spinlock_t` / `spinlock_t`: one word of
/// tickets.
#[repr(C)]
pub struct RawSpinlock {
    pub slock: AtomicU32,
}

const _: () = assert!(core::mem::size_of::<RawSpinlock>() == 4);

/// ARM's `TICKET_SHIFT`: `next` is the high half.
pub const TICKET_SHIFT: u32 = 16;

fn owner(v: u32) -> u32 {
    v & 0xffff
}

fn next(v: u32) -> u32 {
    v >> TICKET_SHIFT
}

/// What an attempt on a lock found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Taking it: it is already held. Releasing it: it is not held.
    Refused(u32),
}

impl RawSpinlock {
    /// Takes a ticket if the lock is free (it is our turn at once); leaves
    /// the lock untouched otherwise.
    pub fn try_lock(&self) -> Outcome {
        let v = self.slock.load(Ordering::Relaxed);
        if owner(v) != next(v) {
            return Outcome::Refused(v);
        }
        match self.slock.compare_exchange(
            v,
            v.wrapping_add(1 << TICKET_SHIFT),
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => Outcome::Done,
            Err(now) => Outcome::Refused(now),
        }
    }

    /// Advances `owner` (the low half, wrapping within it) if the lock is
    /// held.
    pub fn unlock(&self) -> Outcome {
        let v = self.slock.load(Ordering::Relaxed);
        if owner(v) == next(v) {
            return Outcome::Refused(v);
        }
        let new = (v & 0xffff_0000) | (owner(v) + 1) & 0xffff;
        self.slock.store(new, Ordering::Release);
        Outcome::Done
    }

    /// Whether the lock is held (Linux's `arch_spin_is_locked`).
    pub fn is_locked(&self) -> bool {
        let v = self.slock.load(Ordering::Relaxed);
        owner(v) != next(v)
    }
}

fn spin_bug(lock: *const RawSpinlock, what: &str, v: u32) {
    let (comm, pid) = current_comm_pid();
    crate::pr_err!("BUG: spinlock {what} on CPU#0, {comm}/{pid}");
    crate::pr_err!(
        " lock: {}, .slock: {v:08x} (owner {}, next {}); refused",
        Px(lock as usize),
        owner(v),
        next(v)
    );
}

/// Takes the lock or reports recursion (see the module doc).
///
/// # Safety
///
/// `lock` is NULL (reported) or a `spinlock_t` valid during the call.
unsafe fn lock(lock: *mut RawSpinlock) -> bool {
    // SAFETY: this function's contract.
    let Some(l) = (unsafe { lock.as_ref() }) else {
        crate::pr_err!("BUG: spin_lock(NULL)");
        return false;
    };
    match l.try_lock() {
        Outcome::Done => true,
        Outcome::Refused(v) => {
            spin_bug(lock, "recursion", v);
            false
        }
    }
}

/// Releases the lock or reports that it was not held.
///
/// # Safety
///
/// As [`lock`].
unsafe fn unlock(lock: *mut RawSpinlock) {
    // SAFETY: this function's contract.
    let Some(l) = (unsafe { lock.as_ref() }) else {
        crate::pr_err!("BUG: spin_unlock(NULL)");
        return;
    };
    if let Outcome::Refused(v) = l.unlock() {
        spin_bug(lock, "already unlocked", v);
    }
}

/// `void _raw_spin_lock(raw_spinlock_t *lock)`.
///
/// # Safety
///
/// `lock` is NULL (reported) or a `spinlock_t` valid during the call; so
/// for every function here.
pub unsafe extern "C" fn raw_spin_lock(l: *mut RawSpinlock) {
    // SAFETY: this function's contract.
    unsafe { lock(l) };
}

/// `void _raw_spin_unlock(raw_spinlock_t *lock)`.
///
/// # Safety
///
/// As [`raw_spin_lock`].
pub unsafe extern "C" fn raw_spin_unlock(l: *mut RawSpinlock) {
    // SAFETY: this function's contract.
    unsafe { unlock(l) };
}

/// `int _raw_spin_trylock(raw_spinlock_t *lock)`: 1 if taken, 0 if held
/// (no message: failing is what trylock is for).
///
/// # Safety
///
/// As [`raw_spin_lock`].
pub unsafe extern "C" fn raw_spin_trylock(l: *mut RawSpinlock) -> i32 {
    // SAFETY: this function's contract.
    unsafe { l.as_ref() }.is_some_and(|l| l.try_lock() == Outcome::Done) as i32
}

/// `unsigned long _raw_spin_lock_irqsave(raw_spinlock_t *lock)`: masks
/// IRQs, takes the lock, returns the CPSR from before.
///
/// # Safety
///
/// As [`raw_spin_lock`].
pub unsafe extern "C" fn raw_spin_lock_irqsave(l: *mut RawSpinlock) -> u32 {
    let flags = irqflags::local_irq_save();
    // SAFETY: this function's contract.
    unsafe { lock(l) };
    flags.0
}

/// `void _raw_spin_unlock_irqrestore(raw_spinlock_t *lock, unsigned long
/// flags)`: releases, then unmasks IRQs if `flags` had them unmasked.
///
/// # Safety
///
/// As [`raw_spin_lock`]; `flags` is what `_raw_spin_lock_irqsave` returned.
pub unsafe extern "C" fn raw_spin_unlock_irqrestore(l: *mut RawSpinlock, flags: u32) {
    // SAFETY: this function's contract.
    unsafe { unlock(l) };
    irqflags::local_irq_restore(IrqFlags(flags));
}

/// `void _raw_spin_lock_irq(raw_spinlock_t *lock)`: masks IRQs, locks.
///
/// # Safety
///
/// As [`raw_spin_lock`].
pub unsafe extern "C" fn raw_spin_lock_irq(l: *mut RawSpinlock) {
    irqflags::local_irq_disable();
    // SAFETY: this function's contract.
    unsafe { lock(l) };
}

/// `void _raw_spin_unlock_irq(raw_spinlock_t *lock)`: unlocks, unmasks IRQs.
///
/// # Safety
///
/// As [`raw_spin_lock`].
pub unsafe extern "C" fn raw_spin_unlock_irq(l: *mut RawSpinlock) {
    // SAFETY: this function's contract.
    unsafe { unlock(l) };
    // SAFETY: `_raw_spin_unlock_irq` ends the section its
    // `_raw_spin_lock_irq` began with IRQs on (Linux's contract for the
    // `_irq` pair), and the lock is released first.
    unsafe { irqflags::local_irq_enable() };
}

/// `void _raw_spin_lock_bh(raw_spinlock_t *lock)`: no softirqs in Kobold,
/// so the plain lock.
///
/// # Safety
///
/// As [`raw_spin_lock`].
pub unsafe extern "C" fn raw_spin_lock_bh(l: *mut RawSpinlock) {
    // SAFETY: this function's contract.
    unsafe { lock(l) };
}

/// `void _raw_spin_unlock_bh(raw_spinlock_t *lock)`.
///
/// # Safety
///
/// As [`raw_spin_lock`].
pub unsafe extern "C" fn raw_spin_unlock_bh(l: *mut RawSpinlock) {
    // SAFETY: this function's contract.
    unsafe { unlock(l) };
}

/// `int _raw_spin_trylock_bh(raw_spinlock_t *lock)`.
///
/// # Safety
///
/// As [`raw_spin_lock`].
pub unsafe extern "C" fn raw_spin_trylock_bh(l: *mut RawSpinlock) -> i32 {
    // SAFETY: this function's contract.
    unsafe { raw_spin_trylock(l) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_word(v: u32) -> RawSpinlock {
        RawSpinlock {
            slock: AtomicU32::new(v),
        }
    }

    #[test]
    fn tickets_as_arm_counts_them() {
        let l = lock_word(0);
        assert!(!l.is_locked());
        assert_eq!(l.try_lock(), Outcome::Done);
        assert_eq!(l.slock.load(Ordering::Relaxed), 0x0001_0000);
        assert!(l.is_locked());
        assert_eq!(l.try_lock(), Outcome::Refused(0x0001_0000));
        assert_eq!(l.unlock(), Outcome::Done);
        assert_eq!(l.slock.load(Ordering::Relaxed), 0x0001_0001);
        assert_eq!(l.unlock(), Outcome::Refused(0x0001_0001));
        // Both halves wrap within themselves.
        let l = lock_word(0xffff_ffff);
        assert_eq!(l.try_lock(), Outcome::Done);
        assert_eq!(l.slock.load(Ordering::Relaxed), 0x0000_ffff);
        assert_eq!(l.unlock(), Outcome::Done);
        assert_eq!(l.slock.load(Ordering::Relaxed), 0x0000_0000);
    }

    #[test]
    fn the_exports_refuse_recursion_and_double_unlock() {
        let mut l = lock_word(0);
        let p: *mut RawSpinlock = &mut l;
        // SAFETY: a live lock; NULL is reported, not read.
        unsafe {
            let flags = raw_spin_lock_irqsave(p);
            assert_eq!(raw_spin_trylock(p), 0);
            raw_spin_lock(p); // recursion: refused, still held once
            assert_eq!(l.slock.load(Ordering::Relaxed), 0x0001_0000);
            raw_spin_unlock_irqrestore(p, flags);
            assert!(!l.is_locked());
            raw_spin_unlock(p); // already unlocked: refused
            assert_eq!(l.slock.load(Ordering::Relaxed), 0x0001_0001);
            raw_spin_lock_irq(p);
            raw_spin_unlock_irq(p);
            raw_spin_lock_bh(p);
            raw_spin_unlock_bh(p);
            assert_eq!(raw_spin_trylock_bh(p), 1);
            raw_spin_unlock(p);
            assert_eq!(l.slock.load(Ordering::Relaxed), 0x0004_0004);
            raw_spin_lock(core::ptr::null_mut());
            assert_eq!(raw_spin_trylock(core::ptr::null_mut()), 0);
        }
    }
}
