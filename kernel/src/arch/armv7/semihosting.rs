//! ARM semihosting, used to end QEMU with an exit status.
//!
//! On A-profile cores the semihosting trap is `SVC 0x123456` in ARM state
//! (ARM's "Semihosting for AArch32 and AArch64"; QEMU target/arm/tcg
//! translate.c). `qemu-exit`'s AArch32 backend uses `BKPT 0xAB`, which QEMU
//! honours only on M-profile cores — on this Cortex-A9 it would hang — so
//! Kobold uses the `semihosting` crate, which emits the A-profile trap.
//!
//! When QEMU runs *without* `-semihosting`, the same instruction is an
//! ordinary SVC. Issued in SVC mode it would overwrite the caller's `lr`, and
//! the crate's wrapper does not expect that, so Kobold first probes with its
//! own trap that declares `lr` clobbered: the SVC handler recognises the
//! 0x123456 immediate, sets [`note_unhandled_trap`] and returns -1. After the
//! probe, the crate is only used when semihosting really is there.

use core::sync::atomic::{AtomicBool, Ordering};

/// The immediate of the A32 semihosting SVC.
pub const SVC_IMMEDIATE: u32 = 0x12_3456;
static TRAP_WAS_SVC: AtomicBool = AtomicBool::new(false);
static AVAILABLE: AtomicBool = AtomicBool::new(false);

/// Called by the SVC exception handler when a semihosting trap reached the
/// kernel (so the host did not handle it).
pub fn note_unhandled_trap() {
    TRAP_WAS_SVC.store(true, Ordering::SeqCst);
}

/// Finds out whether the host handles semihosting. Needs the exception
/// vectors in place. (A host build has no trap to issue: nothing is
/// probed, and [`exit`] does nothing there anyway.)
pub fn probe() -> bool {
    TRAP_WAS_SVC.store(false, Ordering::SeqCst);
    #[cfg(target_arch = "arm")]
    // SAFETY: SYS_ERRNO reads nothing from memory. If semihosting is off the
    // SVC handler returns straight here; lr, which an SVC taken in SVC mode
    // overwrites, is declared clobbered.
    unsafe {
        /// SYS_ERRNO: harmless to call, used as the probe.
        const SYS_ERRNO: u32 = 0x13;
        core::arch::asm!(
            "svc 0x123456",
            inout("r0") SYS_ERRNO => _,
            in("r1") 0u32,
            out("lr") _,
            options(nostack),
        );
    }
    let ok = !TRAP_WAS_SVC.load(Ordering::SeqCst);
    AVAILABLE.store(ok, Ordering::SeqCst);
    ok
}

/// Whether the last probe found semihosting.
pub fn available() -> bool {
    AVAILABLE.load(Ordering::SeqCst)
}

/// Ends QEMU with `code` if semihosting is available; returns otherwise.
pub fn exit(code: i32) {
    #[cfg(target_arch = "arm")]
    if available() {
        semihosting::process::exit(code);
    }
    let _ = code;
}
