//! Kernel panics: Linux's `panic()` message, then QEMU ends with status
//! [`PANIC_EXIT_CODE`] through semihosting (or the CPU halts when
//! semihosting is off, as a panicked Linux does with `panic=0`).

use core::fmt;

/// QEMU's exit status after a kernel panic: not 0 (success) nor 1 (what
/// QEMU itself returns for its own errors), so tests can tell them apart.
pub const PANIC_EXIT_CODE: i32 = 3;

/// Prints `Kernel panic - not syncing: msg` and stops the machine.
pub fn panic_exit(msg: impl fmt::Display) -> ! {
    crate::console::printk::bust_locks();
    crate::pr_emerg!("Kernel panic - not syncing: {}", msg);
    crate::pr_emerg!("---[ end Kernel panic - not syncing: {}", msg);
    crate::arch::armv7::semihosting::exit(PANIC_EXIT_CODE);
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
