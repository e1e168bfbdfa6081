//! The module and file commands: `insmod`, `rmmod`, `lsmod`, `modinfo`,
//! `ls`, with busybox's / kmod's output and error wording.

use super::Platform;
use crate::errno::Errno;
use alloc::string::String;
use alloc::vec::Vec;
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

pub fn cmd_insmod(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let Some((&path, params)) = args.split_first() else {
        return writeln!(out, "Usage: insmod FILE [SYMBOL=VALUE]...");
    };
    let bytes = match p.read_file(path) {
        Ok(b) => b,
        Err(e) => return writeln!(out, "insmod: can't open '{path}': {e}"),
    };
    match p.insmod(path, &bytes, params) {
        Ok(_) => Ok(()),
        Err(e) => writeln!(out, "insmod: can't insert '{path}': {}", moderror(e)),
    }
}

pub fn cmd_rmmod(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
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

pub fn cmd_lsmod(_: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    p.lsmod(out)
}

pub fn cmd_ls(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let paths: &[&str] = if args.is_empty() { &["/"] } else { args };
    for path in paths {
        if let Err(e) = p.list_dir(path, out) {
            writeln!(out, "ls: {path}: {e}")?;
        }
    }
    Ok(())
}

/// kmod's `modinfo`: `key:` padded to 16 columns, `parm` lines merged with
/// their `parmtype` as `name:description (type)`.
pub fn cmd_modinfo(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let [path] = args else {
        return writeln!(out, "Usage: modinfo FILE");
    };
    let bytes = match p.read_file(path) {
        Ok(b) => b,
        Err(e) => return writeln!(out, "modinfo: ERROR: Module {path} not found: {e}"),
    };
    let m = match kobold_loader::validate(&bytes) {
        Ok(m) => m,
        Err(e) => return writeln!(out, "modinfo: ERROR: {path}: {e}"),
    };
    writeln!(out, "{:<16}{path}", "filename:")?;
    let entries: Vec<(&str, &str)> = m.modinfo_entries().collect();
    let mut parms: Vec<(&str, String)> = Vec::new();
    for &(k, v) in &entries {
        match k {
            "parm" | "parmtype" => {
                let (name, rest) = v.split_once(':').unwrap_or((v, ""));
                let slot = match parms.iter().position(|(n, _)| *n == name) {
                    Some(i) => i,
                    None => {
                        parms.push((name, String::new()));
                        parms.len() - 1
                    }
                };
                let s = &mut parms[slot].1;
                if k == "parm" {
                    s.insert_str(0, rest);
                } else {
                    if !s.is_empty() {
                        s.push(' ');
                    }
                    s.push('(');
                    s.push_str(rest);
                    s.push(')');
                }
            }
            _ => writeln!(out, "{:<16}{v}", alloc::format!("{k}:"))?,
        }
    }
    for (name, desc) in parms {
        writeln!(out, "{:<16}{name}:{desc}", "parm:")?;
    }
    Ok(())
}
