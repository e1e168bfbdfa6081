//! The kernel's own symbol table, for `PC is at symbol+0xoff/0xsize` and
//! `/proc/kallsyms`.
//!
//! Linux links vmlinux twice to embed `kallsyms`. Kobold reserves a
//! `.kallsyms` section instead and `cargo xtask build` fills it after linking
//! (the section's size never changes, so no address moves). The table's
//! format, its encoder (used by xtask) and its decoder ([`Table`]) live in the
//! shared crate, [`kobold_common::kallsyms`]; this module adds what only the
//! running kernel has: the section itself and the symbolisation of addresses
//! that also looks at loaded modules.
//!
//! The reservation is sized by xtask, not here: the linker script makes the
//! section `__kallsyms_reserved` bytes long (see `linker.ld`), a value the
//! kernel's build script passes to the linker from `KOBOLD_KALLSYMS_RESERVED`.
//!
//! Names are printed demangled everywhere (`PC is at`, backtraces, `%pS`,
//! /proc/kallsyms): the kernel's own table is demangled by xtask when it is
//! built; a module's names come mangled from its string table and are
//! demangled as they are printed ([`Demangled`], `rustc-demangle` through
//! `Display`: no allocation). C names print unchanged.
//! `cargo xtask build` measures the table after linking and, when it does not
//! fit, links again with a reservation that does (every profile: a debug
//! kernel's table is three times a release kernel's).

pub use kobold_common::kallsyms::{MAGIC, SECTION, Symbol, Table};

#[cfg(target_arch = "arm")]
mod kernel;
#[cfg(target_arch = "arm")]
pub use kernel::kernel_table;

/// A symbol name, printed demangled when it is a mangled Rust name (legacy
/// `_ZN...E` or v0 `_R...`), without the hash (`{:#}`, as xtask's table).
#[derive(Clone, Copy, Debug)]
pub struct Demangled<'a>(pub &'a str);

impl core::fmt::Display for Demangled<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match rustc_demangle::try_demangle(self.0) {
            Ok(d) => write!(f, "{d:#}"),
            Err(_) => f.write_str(self.0),
        }
    }
}

/// Writes the symbol covering `addr`, from the kernel's `table` or else a
/// loaded module: `name+0xoff/0xsize` (Linux's `%pS`) or just `name` (`%ps`),
/// with ` [module]` after a module's. Returns whether a symbol covered it.
/// The module lock is only tried: an oops may hit while the loader holds it.
pub fn write_symbol_name(
    w: &mut dyn core::fmt::Write,
    table: Option<&Table<'_>>,
    addr: u32,
    with_offset: bool,
) -> Result<bool, core::fmt::Error> {
    write_symbol_at(w, table, addr, 0, with_offset)
}

/// Writes the symbol of the return address `addr` as Linux's `%pB`: looked
/// up at `addr - 1`, so a call that is its function's last instruction (a
/// call to a `-> !` function) names the caller, not the next function.
pub fn write_backtrace_symbol(
    w: &mut dyn core::fmt::Write,
    table: Option<&Table<'_>>,
    addr: u32,
    with_offset: bool,
) -> Result<bool, core::fmt::Error> {
    write_symbol_at(w, table, addr, 1, with_offset)
}

fn write_symbol_at(
    w: &mut dyn core::fmt::Write,
    table: Option<&Table<'_>>,
    addr: u32,
    back: u32,
    with_offset: bool,
) -> Result<bool, core::fmt::Error> {
    let look = addr.wrapping_sub(back);
    if let Some(s) = table.and_then(|t| t.lookup(look)) {
        w.write_str(s.name)?;
        if with_offset {
            write!(w, "+{:#x}/{:#x}", s.offset + back, s.size)?;
        }
        return Ok(true);
    }
    if let Some(mods) = crate::module::MODULES.try_lock()
        && let Some((m, name, off, size)) = mods.lookup(look)
    {
        write!(w, "{}", Demangled(name))?;
        if with_offset {
            write!(w, "+{:#x}/{:#x}", off + back, size)?;
        }
        write!(w, " [{m}]")?;
        return Ok(true);
    }
    Ok(false)
}

/// Writes `addr` as Linux's `%pS`, or `0x%08x` when no symbol covers it.
pub fn write_symbol(
    w: &mut dyn core::fmt::Write,
    table: Option<&Table<'_>>,
    addr: u32,
) -> core::fmt::Result {
    if !write_symbol_name(w, table, addr, true)? {
        write!(w, "{addr:#010x}")?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a table with the shared encoder `cargo xtask build` uses;
    /// each name starts with its type char.
    pub(crate) fn build(syms: &[(u32, u32, &str)]) -> Vec<u8> {
        kobold_common::kallsyms::encode(syms.iter().map(|&(addr, size, name)| {
            let mut chars = name.chars();
            let kind = chars.next().unwrap_or('?');
            Symbol {
                name: chars.as_str(),
                kind,
                addr,
                size,
                offset: 0,
            }
        }))
    }

    #[test]
    fn symbolises_kernel_addresses() {
        let bytes = build(&[
            (0xc000_8000, 0x40, "T_start"),
            (0xc000_8100, 0x20, "tkernel::foo"),
            (0xc000_8100, 0x10, "talias"),
        ]);
        let t = Table::parse(&bytes).unwrap();
        let mut s = String::new();
        write_symbol(&mut s, Some(&t), 0xc000_8104).unwrap();
        assert_eq!(s, "kernel::foo+0x4/0x20");
        s.clear();
        write_symbol(&mut s, Some(&t), 0x1234).unwrap();
        assert_eq!(s, "0x00001234");
        s.clear();
        assert!(!write_symbol_name(&mut s, Some(&t), 0xc000_8050, true).unwrap());
        assert!(write_symbol_name(&mut s, Some(&t), 0xc000_8001, false).unwrap());
        assert_eq!(s, "_start");
        // A return address just past a function belongs to it (%pB).
        s.clear();
        assert!(write_backtrace_symbol(&mut s, Some(&t), 0xc000_8120, true).unwrap());
        assert_eq!(s, "kernel::foo+0x20/0x20");
    }

    #[test]
    fn demangles_rust_names_only() {
        let d = |n: &str| Demangled(n).to_string();
        assert_eq!(
            d("_ZN10rust_hello4init17h0123456789abcdefE"),
            "rust_hello::init"
        );
        assert_eq!(d("hello_init"), "hello_init");
        assert_eq!(d("_ZN"), "_ZN");
        assert_eq!(d(""), "");
    }
}
