//! Kernel panics: Linux's `panic()` message, then what `panic=N` asks, as
//! in Linux (kernel/panic.c): N > 0 prints `Rebooting in N seconds..` and
//! restarts the board after N seconds, N < 0 restarts at once, N = 0 halts
//! and waits (so gdb can inspect the dead kernel). Without `panic=`,
//! Kobold's own default for QEMU: exit with status [`PANIC_EXIT_CODE`]
//! through semihosting (or halt when semihosting is off).

use crate::sync::Mutex;
use core::fmt;
use core::sync::atomic::{AtomicI32, Ordering};

/// QEMU's exit status after a kernel panic: not 0 (success) nor 1 (what
/// QEMU itself returns for its own errors), so tests can tell them apart.
pub const PANIC_EXIT_CODE: i32 = 3;

/// `panic=` not given: exit QEMU with [`PANIC_EXIT_CODE`].
const NOT_SET: i32 = i32::MIN;

/// Linux's `panic_timeout` (`panic=N`).
static PANIC_TIMEOUT: AtomicI32 = AtomicI32::new(NOT_SET);

/// How the board restarts (Linux's `arm_pm_restart`), set by the board
/// code at boot. (The kernel's lock rather than a `spin::Once`: setting it
/// is then two calls to the lock's one out-of-line copy, where each `Once`
/// brought its own copy of the once-machinery that QEMU translated at boot.)
static RESTART: Mutex<Option<fn()>> = Mutex::new(None);

/// `panic=N` (seconds; 0: halt; negative: restart at once).
pub fn set_timeout(seconds: i32) {
    PANIC_TIMEOUT.store(seconds.max(NOT_SET + 1), Ordering::Relaxed);
}

/// Registers the board's restart (`arm_pm_restart`); only the first call
/// counts.
pub fn set_restart(restart: fn()) {
    RESTART.lock().get_or_insert(restart);
}

/// What a panic does after its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Exit QEMU with a status (Kobold's default).
    Exit,
    /// Halt and wait (`panic=0`).
    Halt,
    /// Restart after this many seconds (`panic=N`, 0 for N < 0).
    Restart { after_s: u32 },
}

/// The action for `panic=` (`None`: not given).
pub fn action(timeout: Option<i32>) -> Action {
    match timeout {
        None => Action::Exit,
        Some(0) => Action::Halt,
        Some(n) => Action::Restart {
            after_s: n.max(0).unsigned_abs(),
        },
    }
}

/// Prints `Kernel panic - not syncing: msg` and stops the machine as
/// `panic=` says.
pub fn panic_exit(msg: impl fmt::Display) -> ! {
    // Linux's panic() starts with local_irq_disable(): nothing runs after
    // this but the report and the wait.
    crate::arch::armv7::irqflags::local_irq_disable();
    crate::console::printk::bust_locks();
    crate::pr_emerg!("Kernel panic - not syncing: {}", msg);
    let timeout = PANIC_TIMEOUT.load(Ordering::Relaxed);
    match action((timeout != NOT_SET).then_some(timeout)) {
        Action::Exit => {
            crate::pr_emerg!("---[ end Kernel panic - not syncing: {}", msg);
            crate::arch::armv7::semihosting::exit(PANIC_EXIT_CODE);
        }
        Action::Halt => crate::pr_emerg!("---[ end Kernel panic - not syncing: {}", msg),
        Action::Restart { after_s } => {
            if after_s > 0 {
                crate::pr_emerg!("Rebooting in {after_s} seconds..");
                let start = crate::time::now_ns();
                while crate::time::now_ns() - start < u64::from(after_s) * 1_000_000_000 {
                    core::hint::spin_loop();
                }
            }
            // emergency_restart(); if the board does not restart, Linux
            // goes on to the end message and waits. (`try_lock`: a panic
            // never spins; only `set_restart` takes the lock, for a store.)
            if let Some(restart) = RESTART.try_lock().and_then(|r| *r) {
                restart();
            }
            crate::pr_emerg!("---[ end Kernel panic - not syncing: {}", msg);
        }
    }
    halt()
}

/// Stops the CPU for good.
pub fn halt() -> ! {
    loop {
        #[cfg(target_arch = "arm")]
        // SAFETY: WFI only waits; interrupts are masked, so it never returns
        // to anything but this loop.
        unsafe {
            core::arch::asm!("wfi", options(nomem, nostack))
        };
        #[cfg(not(target_arch = "arm"))]
        core::hint::spin_loop();
    }
}

/// Rust panics (a bug in Kobold) end the same way as Linux's `panic()`.
#[cfg(all(target_arch = "arm", not(test)))]
#[panic_handler]
fn rust_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    struct Msg<'a>(&'a core::panic::PanicInfo<'a>);
    impl fmt::Display for Msg<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}", self.0.message())?;
            if let Some(loc) = self.0.location() {
                write!(f, " (at {}:{})", loc.file(), loc.line())?;
            }
            Ok(())
        }
    }
    panic_exit(Msg(info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_equals_n_as_linux() {
        assert_eq!(action(None), Action::Exit);
        assert_eq!(action(Some(0)), Action::Halt);
        assert_eq!(action(Some(5)), Action::Restart { after_s: 5 });
        assert_eq!(action(Some(-1)), Action::Restart { after_s: 0 });
        assert_eq!(action(Some(i32::MIN + 1)), Action::Restart { after_s: 0 });
    }
}
