//! The Linux 6.1 ABI personality: what a module built for Debian's
//! `linux-image-6.1.0-*-armmp` (armhf) needs from the kernel that loads it.
//!
//! Kobold's own module API is Linux 3.18's (the seed articles'); a module
//! whose `vermagic` says 6.1 is linked against this personality's export
//! table instead (`exports()`, on the target), whose functions follow 6.1's semantics
//! (6.1's GFP bits, `struct kernel_param` of 20 bytes, `struct module` of
//! 576 bytes, `current` read from TPIDRURO, the per-task stack canary...).
//! See `docs/linux-compat.md` for what is honoured and what is refused.

#[cfg(target_arch = "arm")]
mod exports;
#[cfg(target_arch = "arm")]
pub use exports::exports;
