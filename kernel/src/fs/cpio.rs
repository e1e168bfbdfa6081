//! The initramfs format, a cpio "newc" archive: defined in the shared
//! `kobold-common` crate ([`kobold_common::cpio`]), because `cargo xtask`
//! writes the archives the kernel reads.

pub use kobold_common::cpio::*;
