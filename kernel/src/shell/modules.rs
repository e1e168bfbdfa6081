//! The module and file commands: `insmod`, `rmmod`, `lsmod`, `modinfo`,
//! `ls`, with busybox's / kmod's output and error wording.

use super::{InsmodError, Platform, Shell};
use crate::errno::Errno;
use core::fmt::{self, Write};

/// busybox's `moderror()`: the errors that mean something special for
/// `init_module`, else strerror.
pub fn moderror(e: Errno) -> &'static str {
    match e {
        Errno::ENOEXEC => "invalid module format",
        Errno::ENOENT => "unknown symbol in module, or unknown parameter",
        Errno::ESRCH => "unknown symbol in module",
        _ => e.message(),
    }
}

pub fn cmd_insmod(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    let Some((&path, params)) = args.split_first() else {
        return writeln!(out, "Usage: insmod FILE [SYMBOL=VALUE]...");
    };
    match p.insmod(path, params) {
        Ok(_) => Ok(()),
        Err(InsmodError::Open(e)) => writeln!(out, "insmod: can't open '{path}': {e}"),
        Err(InsmodError::Insert(e)) => {
            writeln!(out, "insmod: can't insert '{path}': {}", moderror(e))
        }
    }
}

pub fn cmd_rmmod(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    if args.is_empty() {
        return writeln!(out, "Usage: rmmod MODULE...");
    }
    for arg in args {
        // busybox accepts a path or a name with .ko, and '-' for '_'.
        // A name no module can have is not loaded.
        let Some(name) = crate::module::ModName::from_path(arg) else {
            writeln!(out, "rmmod: can't unload module '{arg}': {}", Errno::ENOENT)?;
            continue;
        };
        if let Err(e) = p.rmmod(&name) {
            writeln!(out, "rmmod: can't unload module '{name}': {e}")?;
        }
    }
    Ok(())
}

pub fn cmd_lsmod(
    _: &mut Shell,
    _: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    p.lsmod(out)
}

pub fn cmd_ls(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    let paths: &[&str] = if args.is_empty() { &["/"] } else { args };
    for path in paths {
        if let Err(e) = p.list_dir(path, out) {
            writeln!(out, "ls: {path}: {e}")?;
        }
    }
    Ok(())
}

/// kmod's `modinfo`: `key:` padded to 16 columns, `parm` lines merged with
/// their `parmtype` as `name:description (type)`. The file is read through
/// [`Platform::with_file`]; nothing derived from it is allocated (the
/// `parm` merge rescans the entries instead of collecting them).
pub fn cmd_modinfo(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    let [path] = args else {
        return writeln!(out, "Usage: modinfo FILE");
    };
    let mut written = Ok(());
    let read = p.with_file(path, &mut |bytes| {
        written = match kobold_loader::validate(bytes) {
            Ok(m) => write_modinfo(path, &m, out),
            Err(e) => writeln!(out, "modinfo: ERROR: {path}: {e}"),
        };
    });
    match read {
        Ok(()) => written,
        Err(e) => writeln!(out, "modinfo: ERROR: Module {path} not found: {e}"),
    }
}

/// The parameter a `parm`/`parmtype` value (`name:rest`) is about.
fn parm_name(v: &str) -> &str {
    v.split_once(':').map_or(v, |(n, _)| n)
}

fn write_modinfo(path: &str, m: &kobold_loader::Module<'_>, out: &mut dyn Write) -> fmt::Result {
    /// `key:` left-aligned in 16 columns (kmod's `%-16s`).
    fn key(out: &mut dyn Write, k: &str) -> fmt::Result {
        write!(out, "{k}:")?;
        for _ in k.len() + 1..16 {
            out.write_char(' ')?;
        }
        Ok(())
    }
    let is_parm = |k: &str| k == "parm" || k == "parmtype";
    key(out, "filename")?;
    writeln!(out, "{path}")?;
    for (k, v) in m.modinfo_entries().filter(|(k, _)| !is_parm(k)) {
        key(out, k)?;
        writeln!(out, "{v}")?;
    }
    // One line per parameter, in order of first mention.
    for (i, (_, v)) in m
        .modinfo_entries()
        .enumerate()
        .filter(|(_, (k, _))| is_parm(k))
    {
        let name = parm_name(v);
        let seen = m
            .modinfo_entries()
            .take(i)
            .any(|(k, w)| is_parm(k) && parm_name(w) == name);
        if seen {
            continue;
        }
        let mine = |kind: &'static str| {
            m.modinfo_entries()
                .filter(move |&(k, w)| k == kind && parm_name(w) == name)
                .map(|(_, w)| w.split_once(':').map_or("", |(_, rest)| rest))
        };
        key(out, "parm")?;
        write!(out, "{name}:")?;
        let mut any = false;
        for desc in mine("parm") {
            out.write_str(desc)?;
            any |= !desc.is_empty();
        }
        for ty in mine("parmtype") {
            if any {
                out.write_char(' ')?;
            }
            write!(out, "({ty})")?;
            any = true;
        }
        writeln!(out)?;
    }
    Ok(())
}
