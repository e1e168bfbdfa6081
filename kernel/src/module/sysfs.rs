//! `/sys/module`: what Linux's `kernel/module.c` (`add_sect_attrs`,
//! `module_sect_show`) and `kernel/params.c` (`param_attr_show`,
//! `param_get_*`) publish about each loaded module, read with `cat` and
//! listed with `ls`:
//!
//! - `/sys/module/NAME/sections/SECTION`: the address each loaded, non-empty
//!   section got, as `0x%pK\n` prints it (`0xbf000000`). This is what
//!   `gdb`'s `add-symbol-file FILE -s .text ADDR ...` needs, and what Linux's
//!   own `lx-symbols` reads (through the same `sect_attrs`). Init sections
//!   stay listed after init, with the address they had, as in Linux.
//! - `/sys/module/NAME/parameters/P`: the current value, formatted as the
//!   parameter type's `param_get_*` does, plus the newline
//!   `param_attr_show` adds.
//! - `/sys/module/NAME/initstate` (`live`, `coming`, `going`), `refcnt` and
//!   `taint` (Linux's `module_flags_taint`: `P`, `O`, `F`);
//! - `/sys/module/NAME/abi`, Kobold's own: the ABI the module was built
//!   for and linked against (`kobold-3.18` or `linux-6.1`, see
//!   docs/linux-compat.md).
//!
//! Each module keeps a [`Sysfs`] record, built in `prepare` right before
//! the module is committed to the list; its allocations are fallible, like
//! every other bookkeeping of a load. The section records are `#[repr(C)]`
//! because the running kernel also hands them to gdb (`kobold_modules_debug`
//! in `module/kernel.rs`, read by `scripts/gdb/kobold.py`).
//!
//! Reading never allocates: everything is written straight to `out`.

use super::{Backend, Module, Modules, State, vec_with_capacity};
use crate::errno::Errno;
use alloc::vec::Vec;
use core::fmt::{self, Write};
use kobold_loader::ksymtab::{self, ParamType};
use kobold_loader::layout::{ModuleLayout, Region};

/// One loaded section, as the kernel publishes it to gdb: the offset of
/// its NUL-terminated name in [`Sysfs`]'s names, its address, and whether
/// it is in the init region (freed after init).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionAddr {
    pub name: u32,
    pub addr: u32,
    pub init: u32,
}

/// What `/sys/module/NAME` shows about one module.
#[derive(Debug, Default)]
pub struct Sysfs {
    /// The section names, each followed by a NUL.
    names: Vec<u8>,
    /// In section-header order (Linux's `sect_attrs` order).
    sections: Vec<SectionAddr>,
    /// The module's parameters (`__param`), names in its core memory.
    params: Vec<ksymtab::Param>,
}

impl Sysfs {
    /// The record for a module laid out as `l`, its regions at
    /// `core_base` and `init_base`, with parameters `params`. Fails only
    /// with -ENOMEM.
    pub fn new(
        m: &kobold_loader::Module<'_>,
        l: &ModuleLayout,
        core_base: u32,
        init_base: u32,
        params: Vec<ksymtab::Param>,
    ) -> Result<Self, Errno> {
        let shown = || {
            m.sections.iter().filter_map(|s| {
                let p = l.placements.get(s.index as usize).copied().flatten()?;
                (p.size > 0 && !s.name.is_empty()).then_some((s.name, p))
            })
        };
        // One pass for both sizes (each pass looks at every section).
        let (bytes, count) = shown().fold((0usize, 0usize), |(n, c), (name, _)| {
            (n.saturating_add(name.len() + 1), c + 1)
        });
        let mut names = vec_with_capacity(bytes)?;
        let mut sections = vec_with_capacity(count)?;
        for (name, p) in shown() {
            let base = match p.region {
                Region::Core => core_base,
                Region::Init => init_base,
            };
            sections.push(SectionAddr {
                name: names.len() as u32,
                addr: base.wrapping_add(p.offset),
                init: u32::from(p.region == Region::Init),
            });
            // Reserved above: copied in place, a byte a turn for a short
            // name (not a call to `memcpy` each).
            super::copy::extend_within(&mut names, name.as_bytes());
            names.push(0);
        }
        Ok(Sysfs {
            names,
            sections,
            params,
        })
    }

    /// Each loaded section: (name, address, in the init region).
    pub fn sections(&self) -> impl Iterator<Item = (&str, u32, bool)> {
        self.sections
            .iter()
            .map(|s| (self.section_name(s), s.addr, s.init != 0))
    }

    fn section_name(&self, s: &SectionAddr) -> &str {
        let tail = self.names.get(s.name as usize..).unwrap_or(&[]);
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        core::str::from_utf8(&tail[..end]).unwrap_or("")
    }

    /// The raw records and names, for the kernel's gdb table.
    pub fn raw(&self) -> (&[SectionAddr], &[u8]) {
        (&self.sections, &self.names)
    }

    /// The parameters.
    pub fn params(&self) -> &[ksymtab::Param] {
        &self.params
    }
}

/// Reads a `charp` parameter's string at an address the module does not
/// hold in its core region (an `insmod` copy), writing it to `out`.
pub type CharpReader<'a> = &'a dyn Fn(u32, &mut dyn Write) -> fmt::Result;

/// Writes `/sys/module/...` file `path`.
pub fn read(
    mods: &Modules,
    backend: &dyn Backend,
    charp: CharpReader<'_>,
    path: &str,
    out: &mut dyn Write,
) -> Result<(), Errno> {
    let parts = split(mods, path)?;
    let w = |r: fmt::Result| r.map_err(|_| Errno::EIO);
    match parts {
        Path::Root | Path::Module | Path::Dir(_, _) => Err(Errno::EISDIR),
        Path::File(m, "initstate", None) => w(writeln!(out, "{}", state_name(m.state))),
        Path::File(m, "refcnt", None) => w(writeln!(out, "{}", mods.refcount(&m.name))),
        Path::File(m, "abi", None) => w(writeln!(out, "{}", m.abi)),
        Path::File(m, "taint", None) => w(m.write_taint(out).and_then(|()| writeln!(out))),
        Path::File(m, "sections", Some(s)) => {
            let (_, addr, _) = m
                .sysfs
                .sections()
                .find(|&(n, _, _)| n == s)
                .ok_or(Errno::ENOENT)?;
            w(writeln!(out, "0x{addr:08x}"))
        }
        Path::File(m, "parameters", Some(p)) => {
            // SAFETY: `m` is in the list (only `prepare` builds a
            // `Module`, and `unload` frees it after removing it), so its
            // core region is allocated while `mods` is borrowed.
            let core = unsafe { backend.module_bytes(m.core_base, m.core_size) };
            let param = m
                .sysfs
                .params
                .iter()
                .find(|x| x.region == Region::Core && x.name(core) == Some(p))
                .ok_or(Errno::ENOENT)?;
            w(write_param(m, core, param, charp, out))
        }
        Path::File(..) => Err(Errno::ENOENT),
    }
}

/// Lists `/sys/module...` directory `path` as `ls` does for the rootfs
/// (directories with a `/`); a file is listed by its path.
pub fn list(
    mods: &Modules,
    backend: &dyn Backend,
    path: &str,
    out: &mut dyn Write,
) -> Result<(), Errno> {
    let r = match split(mods, path)? {
        Path::Root => mods.iter().try_for_each(|m| writeln!(out, "{}/", m.name)),
        Path::Module => [
            "abi",
            "initstate",
            "parameters/",
            "refcnt",
            "sections/",
            "taint",
        ]
        .iter()
        .try_for_each(|e| writeln!(out, "{e}")),
        Path::Dir(m, "sections") => m
            .sysfs
            .sections()
            .try_for_each(|(n, _, _)| writeln!(out, "{n}")),
        Path::Dir(m, "parameters") => {
            // SAFETY: as in `read`: `m` is in the list while `mods` is
            // borrowed.
            let core = unsafe { backend.module_bytes(m.core_base, m.core_size) };
            m.sysfs
                .params
                .iter()
                .filter(|p| p.region == Region::Core)
                .try_for_each(|p| writeln!(out, "{}", p.name(core).unwrap_or("?")))
        }
        Path::Dir(..) => return Err(Errno::ENOENT),
        Path::File(..) => writeln!(out, "{path}"),
    };
    r.map_err(|_| Errno::EIO)
}

fn state_name(s: State) -> &'static str {
    match s {
        State::Live => "live",
        State::Coming => "coming",
        State::Going => "going",
    }
}

/// A parsed `/sys/module` path.
enum Path<'m, 'p> {
    /// `/sys/module`
    Root,
    /// `/sys/module/NAME`
    Module,
    /// `/sys/module/NAME/DIR`
    Dir(&'m Module, &'p str),
    /// `/sys/module/NAME/FILE` or `/sys/module/NAME/DIR/FILE`
    File(&'m Module, &'p str, Option<&'p str>),
}

/// Splits `path` (with or without a trailing `/`) below `/sys/module`,
/// looking the module up in `mods`.
fn split<'m, 'p>(mods: &'m Modules, path: &'p str) -> Result<Path<'m, 'p>, Errno> {
    let rest = path
        .trim_end_matches('/')
        .strip_prefix("/sys/module")
        .ok_or(Errno::ENOENT)?;
    if rest.is_empty() {
        return Ok(Path::Root);
    }
    let mut parts = rest.strip_prefix('/').ok_or(Errno::ENOENT)?.split('/');
    let m = parts
        .next()
        .and_then(|n| mods.get(n))
        .ok_or(Errno::ENOENT)?;
    let dir = parts.next();
    let file = parts.next();
    if parts.next().is_some() {
        return Err(Errno::ENOENT);
    }
    Ok(match (dir, file) {
        (None, _) => Path::Module,
        (Some(d @ ("sections" | "parameters")), None) => Path::Dir(m, d),
        (Some(d), f) => Path::File(m, d, f),
    })
}

/// Linux's `param_get_*` for `p`, plus `param_attr_show`'s newline.
fn write_param(
    m: &Module,
    core: &[u8],
    p: &ksymtab::Param,
    charp: CharpReader<'_>,
    out: &mut dyn Write,
) -> fmt::Result {
    let at = p.offset as usize;
    let Some(b) = core.get(at..at + p.ty.width() as usize) else {
        return Ok(());
    };
    let word = b.iter().rev().fold(0u32, |v, &x| (v << 8) | u32::from(x));
    match p.ty {
        ParamType::Byte => writeln!(out, "{}", word as u8),
        ParamType::Short => writeln!(out, "{}", word as u16 as i16),
        ParamType::Ushort => writeln!(out, "{}", word as u16),
        ParamType::Int | ParamType::Long => writeln!(out, "{}", word as i32),
        ParamType::Uint | ParamType::Ulong => writeln!(out, "{word}"),
        ParamType::Bool => writeln!(out, "{}", if word != 0 { 'Y' } else { 'N' }),
        ParamType::Charp => {
            if word == 0 {
                return writeln!(out, "(null)");
            }
            let off = word.wrapping_sub(m.core_base) as usize;
            if word >= m.core_base && off < core.len() {
                let tail = &core[off..];
                let end = tail.iter().position(|&c| c == 0).unwrap_or(tail.len());
                for chunk in tail[..end].utf8_chunks() {
                    out.write_str(chunk.valid())?;
                }
            } else if m.strings.contains(&word) {
                charp(word, out)?;
            }
            out.write_char('\n')
        }
    }
}
