//! `selftest modbench`: times insmod and rmmod of each sample module (mean
//! of 50 after one warm-up), for `cargo xtask bench`. It prints figures and
//! checks nothing but that every load and unload worked (no timed test
//! fails on a slow machine). Modules print what their init and exit print;
//! the greeting ones are silenced with `count=0`.
//!
//! `selftest modbench FILE...` times the given modules instead, without
//! parameters (`cargo xtask bench --vs-linux` passes Debian's crc7.ko,
//! crc-itu-t.ko and libarc4.ko). Each row also times a plain copy of the
//! module's bytes into a buffer reserved beforehand (what `memcpy` costs for
//! the file; Linux's `init_module` copies the image from user space once),
//! and prints insmod time as a multiple of it: the loader's overhead above
//! the physical floor of touching the bytes once.
//!
//! Every row also times the module's signature check alone (`verify`: what
//! insmod's first step runs, `signing::check` against the built-in keyring,
//! mean of 50) and prints the loader's own time beside it (`loader`:
//! insmod minus `verify`) and its multiple of the copy (`loader/copy`), so
//! that the cost of checking signatures is one row and the loader's another
//! (issue 12 asks for verification time per module as a row of its own).
//! The copy is the kernel's `memcpy` (compiler_builtins' word loop, one
//! instruction a byte), the same one insmod copies sections with; the row
//! also times an `ldm`/`stm` copy (`ldmcopy`, `loader/ldmcopy`), the
//! cheaper floor a copy tuned as Linux's `memcpy` sets.

use super::guard::Loaded;
use super::{SelftestError, with_module};
use core::fmt::Write;

/// (module name, file, parameters).
const SAMPLES: [(&str, &str, &[&str]); 6] = [
    ("hello", "/lib/modules/hello.ko", &["count=0"]),
    ("provider", "/lib/modules/provider.ko", &[]),
    ("thumbdemo", "/lib/modules/thumbdemo.ko", &[]),
    ("memuser", "/lib/modules/memuser.ko", &[]),
    ("bigmod", "/lib/modules/bigmod.ko", &[]),
    ("rust_hello", "/lib/modules/rust_hello.ko", &["count=0"]),
];

const RUNS: u64 = 50;

pub fn run(args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    if args.is_empty() {
        for (name, path, params) in SAMPLES {
            with_module(path, |bytes| one(out, name, path, params, bytes))?;
        }
    }
    for path in args {
        let file = path.rsplit('/').next().unwrap_or(path);
        let name = file.strip_suffix(".ko").unwrap_or(file);
        with_module(path, |bytes| one(out, name, path, &[], bytes))?;
    }
    Ok(())
}

/// Mean ns of copying `bytes` into a buffer whose room is reserved first
/// (so the loop measures the copy, not the allocator).
fn copy_ns(bytes: &[u8]) -> Result<u64, SelftestError> {
    let mut buf: alloc::vec::Vec<u8> = alloc::vec::Vec::new();
    buf.try_reserve_exact(bytes.len())
        .map_err(|_| SelftestError::Errno(crate::errno::Errno::ENOMEM))?;
    let t0 = crate::time::now_ns();
    for _ in 0..RUNS {
        buf.clear();
        buf.extend_from_slice(core::hint::black_box(bytes));
        core::hint::black_box(&mut buf);
    }
    Ok((crate::time::now_ns() - t0) / RUNS)
}

/// Mean ns of copying `bytes` with `ldmia`/`stmia` of four registers, 32
/// bytes a turn, the loader's own section copy (`module::copy`; Linux's
/// `memcpy`, arch/arm/lib/copy_template.S, moves 32 bytes per `ldm`/`stm`
/// of eight): the floor a copy tuned as Linux's would set. 0 when the
/// file's bytes are not word-aligned (`ldm` needs aligned addresses) or
/// shorter than one turn.
fn ldm_copy_ns(bytes: &[u8]) -> Result<u64, SelftestError> {
    let mut buf: alloc::vec::Vec<u8> = alloc::vec::Vec::new();
    buf.try_reserve_exact(bytes.len())
        .map_err(|_| SelftestError::Errno(crate::errno::Errno::ENOMEM))?;
    buf.resize(bytes.len(), 0);
    if bytes.as_ptr().align_offset(4) != 0 || buf.as_ptr().align_offset(4) != 0 || bytes.len() < 32
    {
        return Ok(0);
    }
    let t0 = crate::time::now_ns();
    for _ in 0..RUNS {
        // The loader's own section copy (word-aligned: `ldm`/`stm`).
        crate::module::copy::copy_bytes(&mut buf, core::hint::black_box(bytes));
        core::hint::black_box(&mut buf);
    }
    Ok((crate::time::now_ns() - t0) / RUNS)
}

/// Mean ns of the signature check insmod runs first (`module_sig_check`);
/// 0 for a kernel without a keyring, which checks nothing.
fn verify_ns(bytes: &[u8]) -> u64 {
    use crate::module::signing;
    if signing::KEYRING.is_empty() {
        return 0;
    }
    let t0 = crate::time::now_ns();
    for _ in 0..RUNS {
        let r = signing::check(
            core::hint::black_box(bytes),
            signing::KEYRING,
            signing::enforced(),
            false,
        );
        core::hint::black_box(r.is_ok());
    }
    (crate::time::now_ns() - t0) / RUNS
}

/// One module's row.
fn one(
    out: &mut dyn Write,
    name: &str,
    path: &str,
    args: &[&str],
    bytes: &[u8],
) -> Result<(), SelftestError> {
    Loaded::insmod(path, bytes, args)?.remove()?;
    let (mut load, mut unload) = (0u64, 0u64);
    for _ in 0..RUNS {
        let t0 = crate::time::now_ns();
        let m = Loaded::insmod(path, bytes, args)?;
        let t1 = crate::time::now_ns();
        m.remove()?;
        let t2 = crate::time::now_ns();
        load += t1 - t0;
        unload += t2 - t1;
    }
    let copy = copy_ns(bytes)?.max(1);
    let verify = verify_ns(bytes);
    let loader = (load / RUNS).saturating_sub(verify);
    let ldm = ldm_copy_ns(bytes)?;
    let _ = writeln!(
        out,
        "modbench: {name:<10} {:>7} bytes  insmod {:>6} us  rmmod {:>5} us  copy {:>6} ns  insmod/copy {:>5}x  pair {:>8} ns  verify {:>8} ns  loader {:>8} ns  loader/copy {:>4}x  ldmcopy {:>6} ns  loader/ldmcopy {:>4}x",
        bytes.len(),
        load / RUNS / 1000,
        unload / RUNS / 1000,
        copy,
        load / RUNS / copy,
        (load + unload) / RUNS,
        verify,
        loader,
        loader / copy,
        ldm,
        loader / ldm.max(1)
    );
    Ok(())
}
