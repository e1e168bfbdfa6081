//! Mutexes: the kernel's `struct mutex` owning the data it guards, in the
//! shape of Rust-for-Linux's `kernel::sync::Mutex` — the data is reachable
//! only through a guard, and the guard unlocks when it goes out of scope,
//! so a module cannot forget `mutex_unlock` or touch the data unlocked.
//!
//! A mutex lives in a `static` declared with [`define_mutex!`], Linux's
//! `DEFINE_MUTEX`: `struct mutex`'s `wait_list` is a list head pointing at
//! itself, so the static is built with its own address, as C's
//! `__MUTEX_INITIALIZER(name)` does — nothing runs at load time.
//!
//! Kobold has one task: a mutex is never contended. Locking one the task
//! already holds is reported by the kernel (lockdep's "possible recursive
//! locking detected") and refused; [`Mutex::lock`] would then hand out a
//! second guard to the same data, so it checks `mutex_is_locked` first and
//! returns `None` instead, like [`Mutex::try_lock`].

use crate::ffi;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};

/// Data of type `T` guarded by the kernel's `struct mutex`.
#[repr(C)]
pub struct Mutex<T> {
    raw: UnsafeCell<ffi::RawMutex>,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, and a guard exists
// only while the kernel's mutex is held, so at most one at a time.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// What [`define_mutex!`] expands to: an unlocked mutex holding
    /// `value`, whose `wait_list` points at itself inside `*this`.
    ///
    /// # Safety
    ///
    /// `this` is the address the result is stored at (the static being
    /// defined); the mutex must never move.
    #[doc(hidden)]
    pub const unsafe fn at(value: T, this: *const Mutex<T>) -> Mutex<T> {
        // SAFETY: only the address of a field is computed; nothing is read.
        let head = unsafe { &raw const (*this).raw }
            .cast::<u8>()
            .wrapping_add(core::mem::offset_of!(ffi::RawMutex, wait_list))
            .cast::<ffi::ListHead>()
            .cast_mut();
        Mutex {
            raw: UnsafeCell::new(ffi::RawMutex {
                owner: 0,
                wait_lock: 0,
                osq: 0,
                wait_list: ffi::ListHead {
                    next: head,
                    prev: head,
                },
            }),
            data: UnsafeCell::new(value),
        }
    }

    fn raw(&self) -> *mut ffi::RawMutex {
        self.raw.get()
    }

    /// `mutex_lock`: the guard, or `None` when this task already holds the
    /// mutex (where Linux would deadlock; nothing else can hold it).
    pub fn lock(&self) -> Option<MutexGuard<'_, T>> {
        if self.is_locked() {
            return None;
        }
        // SAFETY: a `struct mutex` initialised by `at`, never moved.
        unsafe { ffi::mutex_lock(self.raw()) };
        Some(MutexGuard { mutex: self })
    }

    /// `mutex_trylock`: the guard, or `None` if the mutex is held.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        // SAFETY: as in `lock`; trylock of a held mutex just returns 0.
        let taken = unsafe { ffi::mutex_trylock(self.raw()) } == 1;
        // Built only when taken: a guard unlocks when dropped.
        taken.then(|| MutexGuard { mutex: self })
    }

    /// `mutex_is_locked`.
    pub fn is_locked(&self) -> bool {
        // SAFETY: as in `lock`; a read of the owner word.
        unsafe { ffi::mutex_is_locked(self.raw()) }
    }
}

/// Access to a [`Mutex`]'s data while it is held; unlocks on drop.
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the mutex is held for the guard's life (module docs).
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; the guard is borrowed mutably.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard's lock is held; unlocked once.
        unsafe { ffi::mutex_unlock(self.mutex.raw()) };
    }
}

/// `DEFINE_MUTEX`: a `static` [`Mutex`] guarding a value.
///
/// ```ignore
/// kobold_module::define_mutex!(static GREETED: Mutex<u32> = 0);
/// *GREETED.lock().unwrap() += 1;
/// ```
#[macro_export]
macro_rules! define_mutex {
    ($vis:vis static $name:ident: Mutex<$t:ty> = $value:expr) => {
        $vis static $name: $crate::sync::Mutex<$t> =
            // SAFETY: the address is this static's own, which never moves.
            unsafe { $crate::sync::Mutex::at($value, &raw const $name) };
    };
}
