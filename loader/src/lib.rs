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
//! Then, in the kernel's order:
//!
//! - [`layout`]: Linux's `layout_sections` — core and init regions, the
//!   text / rodata / ro-after-init / data groups on their own pages (W^X),
//!   each region's PLT, `-fcommon` symbols;
//! - [`link`]: copy the sections, resolve symbols (own, SHN_ABS, common,
//!   a [`link::Resolver`] for the kernel's and other modules' exports, weak
//!   undefined = 0) and apply every relocation with [`relocate`] (Linux's
//!   `apply_relocate` arithmetic), through PLT veneers where a branch
//!   cannot reach;
//! - [`ksymtab`]: what the linked module exports and which parameters it
//!   takes;
//! - [`modinfo`]: the `.modinfo` `key=value` strings; [`reloc`]: names of
//!   relocation types.
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
