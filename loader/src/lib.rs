//! # kobold-loader: `.ko` modules, without a kernel
//!
//! Everything about loading an ELF32 little-endian ARM relocatable (`ET_REL`)
//! module that does not touch hardware lives here, so it runs — and is
//! tested — on the host: the kernel's `insmod` and `cargo xtask modinfo` /
//! `modlink` share it. The crate never names the kernel.
//!
//! The loader **validates before it trusts** ([`validate`]): every offset,
//! size, index and string in the file is checked once, up front, and every
//! refusal is a typed [`LoadError`] naming the section, symbol or relocation
//! and the reason. What comes out, a [`Module`], only holds facts that were
//! checked, so later stages (layout, relocation) index without fear.
//! The checks are those of Linux 6.x's `elf_validity_cache_copy()` plus the
//! ones its history shows were missing (see
//! `../shared/reference/module-loader.md`, section 7).
//!
//! [`modinfo`] reads the `.modinfo` section's `key=value` strings.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod elf;
mod error;
pub mod ksymtab;
pub mod layout;
pub mod link;
pub mod modinfo;
pub mod reloc;
pub mod relocate;

pub use elf::{Module, Section, Symbol, validate};
pub use error::LoadError;
