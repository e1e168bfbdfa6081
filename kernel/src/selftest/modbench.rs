//! `selftest modbench`: times insmod and rmmod of each sample module (mean
//! of 50 after one warm-up), for `cargo xtask bench`. It prints figures and
//! checks nothing but that every load and unload worked (no timed test
//! fails on a slow machine). Modules print what their init and exit print;
//! the greeting ones are silenced with `count=0`.

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

pub fn run(_args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    for (name, path, args) in SAMPLES {
        with_module(path, |bytes| one(out, name, path, args, bytes))?;
    }
    Ok(())
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
    let _ = writeln!(
        out,
        "modbench: {name:<10} {:>7} bytes  insmod {:>6} us  rmmod {:>5} us",
        bytes.len(),
        load / RUNS / 1000,
        unload / RUNS / 1000
    );
    Ok(())
}
