//! The running kernel's own table: the `.kallsyms` section the linker
//! script reserves and `cargo xtask build` fills. Target only (the host has
//! no such section); the decoder it hands the bytes to is host-tested.

use super::Table;

/// The table embedded in the running kernel.
pub fn kernel_table() -> Option<Table<'static>> {
    unsafe extern "C" {
        static __kallsyms_start: u8;
        static __kallsyms_end: u8;
    }
    // SAFETY: the linker script defines both symbols around the `.kallsyms`
    // output section, which is part of the loaded, always-mapped kernel image
    // and never written at run time.
    let bytes = unsafe {
        let start = core::ptr::addr_of!(__kallsyms_start);
        let end = core::ptr::addr_of!(__kallsyms_end);
        core::slice::from_raw_parts(start, end as usize - start as usize)
    };
    Table::parse(bytes)
}

/// Placeholder contents of the `.kallsyms` input section, so that the output
/// section has file contents (PROGBITS) for xtask to overwrite; the linker
/// script extends it to the reserved size.
#[used]
#[unsafe(link_section = ".kallsyms")]
static KALLSYMS_SPACE: [u8; 4] = [0; 4];
