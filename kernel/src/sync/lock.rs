//! The kernel's own lock: [`Mutex`], a spin lock around the data it guards,
//! for Kobold's global state (the page allocator, the heap, the vm areas,
//! the page tables, the log, the IRQ table, ...). It is `spin`'s
//! [`spin::Mutex`], named here so that the kernel has one place that says
//! which lock it uses.
//!
//! Semantics are `spin::Mutex`'s: the lock does not nest (taking a lock the
//! caller already holds spins forever, hence the lock order in
//! [`crate::mm`]), and code shared with an interrupt handler takes it with
//! IRQs masked. Linux's `spinlock_t` for modules is a different thing, with
//! Linux's layout and debug checks: [`super::spinlock`].
//!
//! # Inline, as `spin` makes it
//!
//! `spin::Mutex<T>::lock` is `#[inline(always)]` and generic over `T`, so
//! every call site carries its own copy of the acquire loop (`ldrex`/`strex`
//! and the `dmb` barriers, about ten instructions) and every guard its
//! release. Linux chooses per architecture (`CONFIG_INLINE_SPIN_LOCK`);
//! Kobold measured both. Acquiring and releasing out of line (`spin`'s flag
//! as the raw lock of `lock_api`'s mutex, with `#[inline(never)]` on both)
//! took 137 instructions off what QEMU translates for a boot, but added
//! about 540 guest instructions to every `insmod`+`rmmod` of a Debian module
//! and 350 to its signature check: the loader takes the heap's lock for each
//! allocation, and a call costs more than the loop it replaces. That pushed
//! `insmod` past its goal of ten times the copy of the module's bytes, so
//! the lock stays inline (docs/BENCHMARKS.md, "Sixth pass").

/// A spin lock that owns the data it guards. `Mutex::new` is `const`, so it
/// serves statics.
pub type Mutex<T> = spin::Mutex<T>;

/// What [`Mutex::lock`] returns: the data, until it is dropped.
pub type MutexGuard<'a, T> = spin::MutexGuard<'a, T>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_until_the_guard_is_dropped() {
        let m = Mutex::new(5u32);
        {
            let mut g = m.lock();
            *g += 1;
            assert!(m.is_locked());
            assert!(m.try_lock().is_none(), "a held lock cannot be taken again");
        }
        assert!(!m.is_locked());
        assert_eq!(*m.try_lock().expect("free after the guard is dropped"), 6);
    }

    #[test]
    fn force_unlock_releases_a_forgotten_guard() {
        let m = Mutex::new(());
        core::mem::forget(m.lock());
        assert!(m.is_locked());
        // SAFETY: the guard was forgotten above, so nobody holds it.
        unsafe { m.force_unlock() };
        assert!(m.try_lock().is_some());
    }
}
