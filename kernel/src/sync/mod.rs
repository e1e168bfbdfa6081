//! Locks: the kernel's own ([`lock`]), and for modules Linux's `struct
//! mutex`, `spinlock_t` and the `CONFIG_DEBUG_LIST` checks behind `list_add`/`list_del`, with
//! Linux's memory layouts, so the same functions serve Kobold's own module
//! API (`modules/include/linux/{mutex,spinlock,list}.h`) and, laid out as
//! Linux 6.1's armhf build lays them out, Debian's 6.1 modules.
//!
//! - [`lock`]: [`Mutex`], the spin lock Kobold's own global state is kept
//!   under (`spin::Mutex`);
//! - [`mutex`]: `__mutex_init`, `mutex_lock`, `mutex_lock_interruptible`,
//!   `mutex_trylock`, `mutex_unlock`, `mutex_is_locked`
//!   (kernel/locking/mutex.c);
//! - [`spinlock`]: the out-of-line `_raw_spin_*` functions that
//!   `spin_lock()` and friends call (kernel/locking/spinlock.c), on an ARM
//!   ticket lock, with `irqsave` really masking IRQs
//!   ([`crate::arch::armv7::irqflags`]);
//! - [`list_debug`]: `__list_add_valid`, `__list_del_entry_valid`
//!   (lib/list_debug.c, Linux 6.1's texts).
//!
//! Kobold has one CPU and, until a scheduler exists, one task. A module's
//! lock can therefore never be *contended*: nobody else can hold it, and nobody
//! else could release it. What Linux's lock debugging (lockdep,
//! `CONFIG_DEBUG_MUTEXES`, `CONFIG_DEBUG_SPINLOCK`) reports as a bug —
//! taking a lock the task already holds, releasing one it does not hold —
//! is reported here the same way (a `WARNING:` or `BUG:` message naming
//! the lock), and the operation is *refused* instead of spinning forever,
//! so a student's mistake costs a message, not a frozen board.
//!
//! Everything here is plain memory logic: it builds and is tested on the
//! host (with Rust structs at real addresses standing in for a module's).

pub mod list_debug;
pub mod lock;
pub mod mutex;
pub mod spinlock;

pub use lock::{Mutex, MutexGuard};

use core::fmt;

/// The running task as a lock owner (Linux's `current`, a `task_struct *`):
/// non-zero, 8-byte aligned so the low three bits stay free for
/// `struct mutex`'s flags. Kobold has one task for now; when a `current`
/// exists, this is the one place that changes.
pub fn current_owner() -> usize {
    #[repr(align(8))]
    struct InitTask(#[allow(dead_code)] u8);
    static INIT_TASK: InitTask = InitTask(0);
    &raw const INIT_TASK as usize
}

/// The running task's command and pid as Linux's messages print them
/// (`insmod/1`). Kobold's one task is the shell, pid 1, and module code
/// runs from its `insmod` (and `rmmod`, which this does not tell apart
/// yet); a real `current` will give the real name here.
pub fn current_comm_pid() -> (&'static str, u32) {
    ("insmod", 1)
}

/// Prints Linux's `WARN()` report: the cut line, the message, the
/// `WARNING:` line naming where, and the end-of-trace line. (Linux adds the
/// modules linked in, the registers and a backtrace; Kobold's oops has
/// those, its warnings not yet.)
pub fn warn(file: &str, line: u32, func: &str, msg: fmt::Arguments<'_>) {
    let (_, pid) = current_comm_pid();
    crate::pr_warn!("------------[ cut here ]------------");
    crate::pr_warn!("{msg}");
    crate::pr_warn!("WARNING: CPU: 0 PID: {pid} at {file}:{line} {func}");
    crate::pr_warn!("---[ end trace 0000000000000000 ]---");
}

/// An address as Linux's `%px` prints it: all hex digits of a pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Px(pub usize);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:01$x}", self.0, 2 * core::mem::size_of::<usize>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_is_a_nonzero_aligned_marker() {
        let c = current_owner();
        assert_ne!(c, 0);
        assert_eq!(c & 7, 0);
        assert_eq!(c, current_owner());
    }

    #[test]
    fn px_prints_every_digit() {
        let s = std::format!("{}", Px(0x122));
        assert_eq!(s.len(), 2 * core::mem::size_of::<usize>());
        assert!(s.ends_with("122") && s.trim_start_matches('0') == "122");
    }
}
