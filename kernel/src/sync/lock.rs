//! The kernel's own lock: [`Mutex`], a spin lock around the data it guards,
//! for Kobold's global state (the page allocator, the heap, the vm areas,
//! the page tables, the log, the IRQ table, ...).
//!
//! It is `spin`'s spin lock ([`spin::Mutex<()>`], an `ldrex`/`strex` flag)
//! as the raw lock inside `lock_api`'s [`lock_api::Mutex`], which owns the
//! data and the guard. The two crates split what a `spin::Mutex<T>` does in
//! one type, and the split is the point: `spin::Mutex<T>::lock` is
//! `#[inline(always)]` and generic over `T`, so every call site carried its
//! own copy of the acquire loop (about ten instructions and three branches,
//! with the `dmb` barriers) and every guard its own release. Here the
//! acquire and the release are `RawSpin`'s `lock` and `unlock` (its
//! `lock_api::RawMutex` impl), two functions that exist once; a call site
//! is a call. Under QEMU every distinct instruction the boot runs is
//! translated once, and the inlined copies were about 140 of the boot's
//! translated instructions (docs/BENCHMARKS.md, "The physical floor").
//! Linux makes the same choice: `spin_lock()` calls the out-of-line
//! `_raw_spin_lock` unless `CONFIG_INLINE_SPIN_LOCK` asks otherwise.
//!
//! Semantics are `spin::Mutex`'s: the lock does not nest (taking a lock the
//! caller already holds spins forever, hence the lock order in
//! [`crate::mm`]), and code shared with an interrupt handler takes it with
//! IRQs masked. Linux's `spinlock_t` for modules is a different thing, with
//! Linux's layout and debug checks: [`super::spinlock`].

/// The raw lock: one `spin` flag, no data.
pub struct RawSpin(spin::Mutex<()>);

// SAFETY: `lock` returns only once this thread has taken the `spin` flag
// (an atomic compare-exchange from unlocked to locked, `Acquire`), and the
// flag stays taken (its guard is forgotten) until `unlock` stores
// "unlocked" (`Release`); so between a `lock` and its `unlock` no other
// `lock` or successful `try_lock` can return, which is the exclusion
// `lock_api::RawMutex` requires.
unsafe impl lock_api::RawMutex for RawSpin {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawSpin = RawSpin(spin::Mutex::new(()));

    // A guard must be dropped on the CPU and in the context that took it.
    type GuardMarker = lock_api::GuardNoSend;

    #[inline(never)]
    fn lock(&self) {
        core::mem::forget(self.0.lock());
    }

    fn try_lock(&self) -> bool {
        self.0.try_lock().map(core::mem::forget).is_some()
    }

    #[inline(never)]
    unsafe fn unlock(&self) {
        // SAFETY: `lock_api` calls this only for a lock the caller holds
        // (its guard's drop, or the caller's own `force_unlock` contract),
        // so the forgotten guard of `lock`/`try_lock` is released once.
        unsafe { self.0.force_unlock() }
    }

    fn is_locked(&self) -> bool {
        self.0.is_locked()
    }
}

/// A spin lock that owns the data it guards. `Mutex::new` is `const`, so it
/// serves statics.
pub type Mutex<T> = lock_api::Mutex<RawSpin, T>;

/// What [`Mutex::lock`] returns: the data, until it is dropped.
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, RawSpin, T>;

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

    #[test]
    fn threads_never_overlap() {
        use std::sync::Arc;
        let m = Arc::new(Mutex::new((0u64, false)));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut g = m.lock();
                        assert!(!g.1, "two holders at once");
                        g.1 = true;
                        g.0 += 1;
                        g.1 = false;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("worker");
        }
        assert_eq!(m.lock().0, 80_000);
    }
}
