//! The vmap-area allocator of the vmalloc and module windows: defined in the
//! shared `kobold-common` crate ([`kobold_common::vmap`]), so that
//! `cargo xtask bench` measures the kernel's own allocator on the host.

pub use kobold_common::vmap::*;
