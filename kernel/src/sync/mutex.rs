//! `struct mutex` and its exported functions, as Linux 6.1's
//! kernel/locking/mutex.c: `__mutex_init` (what the `mutex_init()` macro
//! calls), `mutex_lock`, `mutex_lock_interruptible`, `mutex_trylock`,
//! `mutex_unlock`, `mutex_is_locked`.
//!
//! The layout is 6.1's for a non-debug SMP build (no
//! `CONFIG_DEBUG_MUTEXES`, no `CONFIG_DEBUG_LOCK_ALLOC`, with
//! `CONFIG_MUTEX_SPIN_ON_OWNER`, as Debian's armmp config): `{atomic_long_t
//! owner; raw_spinlock_t wait_lock; struct optimistic_spin_queue osq;
//! struct list_head wait_list;}` — 20 bytes on ARM, at offsets 0, 4, 8, 12
//! (`raw_spinlock_t` is the 4-byte ticket lock without
//! `CONFIG_DEBUG_SPINLOCK`, `osq` one `atomic_t`). So a mutex inside a 6.1
//! module's data is the same bytes these functions read. Debian's own
//! build agrees: `crc_t10dif_mutex` in its crc-t10dif.ko (a
//! `DEFINE_MUTEX`) is 0x14 bytes, with the `wait_list` self-pointers
//! relocated at offsets 0xc and 0x10.
//!
//! As in 6.1, `owner` is the holder's `task_struct *` (the low three bits
//! are flags: waiters, handoff, pickup) and 0 when free; locking is a
//! compare-and-swap of 0 with `current` ([`super::current_owner`]).
//!
//! Kobold has one task and no scheduler, so a mutex can never be
//! contended: the only task that could hold it is the one asking. Where
//! Linux would sleep forever, Kobold reports and refuses:
//!
//! - locking a mutex the task already holds is lockdep's `WARNING: possible
//!   recursive locking detected`; the lock stays held once, `mutex_lock`
//!   returns without taking it again and `mutex_lock_interruptible`
//!   returns `-EDEADLK`;
//! - a mutex held by another owner (which cannot exist: corrupted memory,
//!   or a mutex taken from interrupt context, which Linux forbids) is
//!   reported as a `BUG:` and refused the same way;
//! - unlocking a mutex the task does not hold is lockdep's `WARNING: bad
//!   unlock balance detected!` and is refused: the owner is left as it was.
//!
//! `mutex_trylock` of a held mutex returns 0 without a message, as Linux's.

use super::list_debug::ListHead;
use super::{Px, current_comm_pid, current_owner};
use crate::errno::Errno;
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// Linux 6.1's `struct mutex` (non-debug, `CONFIG_MUTEX_SPIN_ON_OWNER`).
#[repr(C)]
pub struct Mutex {
    /// `atomic_long_t owner`: the holder's task pointer | flags, 0 if free.
    pub owner: AtomicUsize,
    /// `raw_spinlock_t wait_lock` (unused: nobody ever waits).
    pub wait_lock: AtomicU32,
    /// `struct optimistic_spin_queue osq` (`atomic_t tail`; unused).
    pub osq: AtomicU32,
    /// `struct list_head wait_list` (initialised empty; nobody waits).
    pub wait_list: ListHead,
}

// 6.1's offsets for any pointer width (20 bytes on ARM32).
const _: () = {
    let w = size_of::<usize>();
    assert!(offset_of!(Mutex, owner) == 0);
    assert!(offset_of!(Mutex, wait_lock) == w);
    assert!(offset_of!(Mutex, osq) == w + 4);
    assert!(offset_of!(Mutex, wait_list) == w + 8);
    assert!(size_of::<Mutex>() == 3 * w + 8);
};

/// `MUTEX_FLAGS`: the low bits of `owner` that are not the task pointer.
pub const MUTEX_FLAGS: usize = 0x07;

/// What one attempt to take a mutex found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// It was free; now `me` holds it.
    Taken,
    /// `me` already holds it.
    Recursive,
    /// Someone else holds it (the owner word).
    Held(usize),
}

impl Mutex {
    /// One compare-and-swap of a free mutex to `me`.
    pub fn try_acquire(&self, me: usize) -> Acquire {
        match self
            .owner
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => Acquire::Taken,
            Err(o) if o & !MUTEX_FLAGS == me => Acquire::Recursive,
            Err(o) => Acquire::Held(o),
        }
    }

    /// Releases the mutex if `me` holds it; otherwise returns the owner
    /// word found (0: not locked at all).
    pub fn release(&self, me: usize) -> Result<(), usize> {
        let o = self.owner.load(Ordering::Relaxed);
        if o == 0 || o & !MUTEX_FLAGS != me {
            return Err(o);
        }
        self.owner.store(0, Ordering::Release);
        Ok(())
    }

    /// Whether anyone holds it (6.1's `mutex_is_locked`).
    pub fn is_locked(&self) -> bool {
        self.owner.load(Ordering::Relaxed) & !MUTEX_FLAGS != 0
    }
}

/// The reports for a lock that cannot be taken; true if it was taken.
fn lock_or_report(m: &Mutex, func: &str) -> bool {
    let me = current_owner();
    let (comm, pid) = current_comm_pid();
    let addr = m as *const Mutex as usize;
    match m.try_acquire(me) {
        Acquire::Taken => true,
        Acquire::Recursive => {
            crate::pr_warn!("============================================");
            crate::pr_warn!("WARNING: possible recursive locking detected");
            crate::pr_warn!("--------------------------------------------");
            crate::pr_warn!("{comm}/{pid} is trying to acquire lock:");
            crate::pr_warn!("{}, at: {func}", Px(addr));
            crate::pr_warn!("but task is already holding lock:");
            crate::pr_warn!("{}", Px(addr));
            crate::pr_warn!("{func}: refused: this would deadlock (no other task can release it)");
            false
        }
        Acquire::Held(owner) => {
            crate::pr_err!(
                "BUG: {func}({}): held by {}, and no other task exists to release it; refused",
                Px(addr),
                Px(owner)
            );
            false
        }
    }
}

/// `void __mutex_init(struct mutex *lock, const char *name, struct
/// lock_class_key *key)`: an unlocked mutex with an empty wait list (`name`
/// and `key` are lockdep's, unused).
///
/// # Safety
///
/// `lock` is NULL or a writable `struct mutex` nothing else uses yet.
pub unsafe extern "C" fn mutex_init(lock: *mut Mutex, _name: *const u8, _key: *const u8) {
    if lock.is_null() {
        return;
    }
    // SAFETY: this function's contract: writable, not in use.
    unsafe {
        let wait_list = &raw mut (*lock).wait_list;
        lock.write(Mutex {
            owner: AtomicUsize::new(0),
            wait_lock: AtomicU32::new(0),
            osq: AtomicU32::new(0),
            wait_list: ListHead {
                next: wait_list,
                prev: wait_list,
            },
        });
    }
}

/// `void mutex_lock(struct mutex *lock)`.
///
/// # Safety
///
/// `lock` is NULL (reported) or an initialised `struct mutex` that stays
/// valid during the call.
pub unsafe extern "C" fn mutex_lock(lock: *mut Mutex) {
    // SAFETY: this function's contract.
    match unsafe { lock.as_ref() } {
        Some(m) => {
            lock_or_report(m, "mutex_lock");
        }
        None => crate::pr_err!("BUG: mutex_lock(NULL)"),
    }
}

/// `int mutex_lock_interruptible(struct mutex *lock)`: 0 when taken;
/// `-EDEADLK` where Linux would sleep forever (see the module doc).
///
/// # Safety
///
/// As [`mutex_lock`].
pub unsafe extern "C" fn mutex_lock_interruptible(lock: *mut Mutex) -> i32 {
    // SAFETY: this function's contract.
    match unsafe { lock.as_ref() } {
        Some(m) if lock_or_report(m, "mutex_lock_interruptible") => 0,
        Some(_) => -Errno::EDEADLK.0,
        None => {
            crate::pr_err!("BUG: mutex_lock_interruptible(NULL)");
            -Errno::EINVAL.0
        }
    }
}

/// `int mutex_trylock(struct mutex *lock)`: 1 if taken, 0 if held (by
/// anyone, this task included), as Linux's.
///
/// # Safety
///
/// As [`mutex_lock`].
pub unsafe extern "C" fn mutex_trylock(lock: *mut Mutex) -> i32 {
    // SAFETY: this function's contract.
    match unsafe { lock.as_ref() } {
        Some(m) => (m.try_acquire(current_owner()) == Acquire::Taken) as i32,
        None => 0,
    }
}

/// `void mutex_unlock(struct mutex *lock)`; refused, with lockdep's report,
/// if this task does not hold it.
///
/// # Safety
///
/// As [`mutex_lock`].
pub unsafe extern "C" fn mutex_unlock(lock: *mut Mutex) {
    // SAFETY: this function's contract.
    let Some(m) = (unsafe { lock.as_ref() }) else {
        crate::pr_err!("BUG: mutex_unlock(NULL)");
        return;
    };
    if let Err(owner) = m.release(current_owner()) {
        let (comm, pid) = current_comm_pid();
        crate::pr_warn!("=====================================");
        crate::pr_warn!("WARNING: bad unlock balance detected!");
        crate::pr_warn!("-------------------------------------");
        crate::pr_warn!(
            "{comm}/{pid} is trying to release lock ({}) at: mutex_unlock",
            Px(lock as usize)
        );
        if owner == 0 {
            crate::pr_warn!("but there are no more locks to release!");
        } else {
            crate::pr_warn!("but it is held by {}, not by this task; refused", Px(owner));
        }
    }
}

/// `bool mutex_is_locked(struct mutex *lock)` (an exported function in
/// 6.1).
///
/// # Safety
///
/// As [`mutex_lock`].
pub unsafe extern "C" fn mutex_is_locked(lock: *mut Mutex) -> bool {
    // SAFETY: this function's contract.
    unsafe { lock.as_ref() }.is_some_and(Mutex::is_locked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::MaybeUninit;

    fn fresh() -> std::boxed::Box<Mutex> {
        let mut b = std::boxed::Box::new(MaybeUninit::<Mutex>::uninit());
        // SAFETY: a writable, unused mutex; initialised before use.
        unsafe {
            mutex_init(b.as_mut_ptr(), core::ptr::null(), core::ptr::null());
            b.assume_init()
        }
    }

    #[test]
    fn init_gives_an_unlocked_mutex_with_an_empty_wait_list() {
        let m = fresh();
        assert_eq!(m.owner.load(Ordering::Relaxed), 0);
        let head = &m.wait_list as *const ListHead as *mut ListHead;
        assert_eq!((m.wait_list.next, m.wait_list.prev), (head, head));
    }

    #[test]
    fn lock_unlock_trylock_state_machine() {
        let mut m = fresh();
        let p: *mut Mutex = &mut *m;
        // SAFETY: `p` is a live, initialised mutex throughout.
        unsafe {
            assert!(!mutex_is_locked(p));
            mutex_lock(p);
            assert!(mutex_is_locked(p));
            assert_eq!(m.owner.load(Ordering::Relaxed), current_owner());
            // Held: trylock fails (no message), recursion is refused.
            assert_eq!(mutex_trylock(p), 0);
            mutex_lock(p);
            assert_eq!(mutex_lock_interruptible(p), -Errno::EDEADLK.0);
            assert!(mutex_is_locked(p));
            mutex_unlock(p);
            assert!(!mutex_is_locked(p));
            // Unlocking again is a bad unlock balance: refused, still free.
            mutex_unlock(p);
            assert!(!mutex_is_locked(p));
            assert_eq!(mutex_trylock(p), 1);
            mutex_unlock(p);
            assert_eq!(mutex_lock_interruptible(p), 0);
            mutex_unlock(p);
        }
    }

    #[test]
    fn another_owner_is_neither_released_nor_waited_for() {
        let mut m = fresh();
        let p: *mut Mutex = &mut *m;
        let other = 0x1000_0000 | 0x1; // another task, with the waiters flag
        m.owner.store(other, Ordering::Relaxed);
        assert_eq!(m.try_acquire(current_owner()), Acquire::Held(other));
        // SAFETY: a live mutex.
        unsafe {
            mutex_lock(p);
            mutex_unlock(p);
            assert_eq!(mutex_trylock(p), 0);
            assert!(mutex_is_locked(p));
        }
        assert_eq!(m.owner.load(Ordering::Relaxed), other);
        // The flags do not hide the owner: the holder is recognised.
        m.owner.store(current_owner() | 0x1, Ordering::Relaxed);
        assert_eq!(m.try_acquire(current_owner()), Acquire::Recursive);
        assert_eq!(m.release(current_owner()), Ok(()));
        // SAFETY: NULL is reported, not dereferenced.
        unsafe {
            mutex_lock(core::ptr::null_mut());
            assert_eq!(mutex_trylock(core::ptr::null_mut()), 0);
        }
    }
}
