//! The module and file commands: `insmod`, `rmmod`, `lsmod`, `modinfo`,
//! `ls`, with busybox's / kmod's output and error wording.
//!
//! `insmod -v` is Kobold's own (busybox's insmod has no options): it logs
//! every step of the load at `pr_info` level — each section placed, each
//! undefined symbol resolved, each relocation applied with S, A, P and the
//! word before and after (the loader's `trace` events). `insmod -f` is
//! modprobe's `--force` (`MODULE_INIT_IGNORE_VERMAGIC`, passed to the
//! kernel as `finit_module` flags, the file unchanged): a module whose
//! `version magic` is refused loads anyway and taints the kernel ('F'),
//! and its signature is ignored, so it also taints 'E' (or is refused
//! under `module.sig_enforce=1`).

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
    // `-v`, `-f`, `-vf` / `-fv`, in any order, before the file.
    let mut flags = crate::module::LoadFlags::default();
    let mut args = args;
    while let Some((opt, rest)) = args.split_first() {
        match *opt {
            "-v" => flags.verbose = true,
            "-f" => flags.force = true,
            "-vf" | "-fv" => (flags.verbose, flags.force) = (true, true),
            _ => break,
        }
        args = rest;
    }
    let Some((&path, params)) = args.split_first() else {
        return writeln!(out, "Usage: insmod [-v] FILE [SYMBOL=VALUE]...");
    };
    match p.insmod(path, params, flags) {
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

/// kmod's `modinfo`, printed by the loader's
/// [`kobold_loader::modinfo::write_modinfo`] (the formatter `cargo xtask
/// modinfo` shares). The file is read through [`Platform::with_file`];
/// nothing derived from it is allocated but the decoded signature message
/// (bounded: `kobold_loader::pkcs7::MAX_PKCS7_LEN`).
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
        // A signed module's trailer comes off first, as insmod takes it
        // off; kmod's `sig_id`, `signer`, `sig_key` and `sig_hashalgo`
        // come from the PKCS#7 message (kobold_loader::pkcs7, bounded).
        let (elf, sig) = match kobold_loader::signature::split(bytes) {
            Ok(split) => split,
            Err(e) => {
                written = writeln!(out, "modinfo: ERROR: {path}: {e}");
                return;
            }
        };
        written = match kobold_loader::validate(elf) {
            Ok(m) => {
                kobold_loader::modinfo::write_modinfo(out, path, &m).and_then(|()| match sig {
                    Some(s) => writeln!(out, "sig_id:         {}", s.id_type_name())
                        .and_then(|()| kobold_loader::pkcs7::write_sig_info(out, s.pkcs7)),
                    None => Ok(()),
                })
            }
            Err(e) => writeln!(out, "modinfo: ERROR: {path}: {e}"),
        };
    });
    match read {
        Ok(()) => written,
        Err(e) => writeln!(out, "modinfo: ERROR: Module {path} not found: {e}"),
    }
}
