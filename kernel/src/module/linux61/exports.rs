//! The symbols the kernel exports to modules built for Linux 6.1 (see the
//! parent module). Each entry has 6.1's name and 6.1's semantics; a symbol
//! whose semantics Kobold cannot honour is left out, so the module is
//! refused naming it (never a stub that pretends).
//!
//! The names and kinds are [`super::symbols::SYMBOLS`] (host-tested: sorted,
//! unique, exported as 6.1 exports them); the addresses are
//! [`super::kernel::address`]'s, and the `linux61` self-test checks that
//! every name has one.

use super::symbols::SYMBOLS;
use crate::module::export_index::ExportIndex;
use crate::module::exports::KernelExport;

const N: usize = SYMBOLS.len();

/// The 6.1 personality's export table, built on first use.
pub fn exports() -> &'static [KernelExport] {
    static TABLE: spin::Once<[KernelExport; N]> = spin::Once::new();
    TABLE.call_once(|| {
        core::array::from_fn(|i| {
            let s = SYMBOLS[i];
            KernelExport {
                name: s.name,
                addr: super::kernel::address(s.name),
                is_func: s.kind.is_func(),
                gpl_only: s.kind.is_gpl(),
            }
        })
    })
}

/// [`exports`] by name length, built on first use (`kernel_symbol`'s
/// lookups).
pub fn index() -> &'static ExportIndex<N> {
    static INDEX: spin::Once<ExportIndex<N>> = spin::Once::new();
    INDEX.call_once(|| {
        let t = exports();
        ExportIndex::new(|i| t.get(i).map_or("", |e| e.name))
    })
}
