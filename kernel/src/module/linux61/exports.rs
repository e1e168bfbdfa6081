//! The symbols the kernel exports to modules built for Linux 6.1 (see the
//! parent module). Each entry has 6.1's name and 6.1's semantics; a symbol
//! whose semantics Kobold cannot honour is left out, so the module is
//! refused naming it (never a stub that pretends).

use crate::module::exports::KernelExport;

/// The 6.1 personality's export table.
pub fn exports() -> &'static [KernelExport] {
    &[]
}
