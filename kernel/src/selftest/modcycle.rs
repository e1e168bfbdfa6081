//! `selftest modcycle`: 1,000 insmod/rmmod cycles of hello.ko (silenced
//! with `count=0`); free pages, VmallocUsed, heap bytes and vm areas must
//! end where they began — the leak one cycle is too small to show (Linux's
//! `load_module` / `free_module` pairing).

use super::guard::Loaded;
use super::{Counters, HELLO, SelftestError, Verdict, with_module};
use core::fmt::Write;

const CYCLES: usize = 1000;

pub fn run(_args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    with_module(HELLO, |bytes| cycle(out, bytes))
}

fn cycle(out: &mut dyn Write, bytes: &[u8]) -> Result<(), SelftestError> {
    // Warm up once: the first load says "out-of-tree module taints".
    Loaded::insmod(HELLO, bytes, &["count=0"])?.remove()?;
    let before = Counters::now();
    let start = crate::time::now_ns();
    for _ in 0..CYCLES {
        Loaded::insmod(HELLO, bytes, &["count=0"])?.remove()?;
    }
    let us = (crate::time::now_ns() - start) / 1000 / CYCLES as u64;
    let after = Counters::now();
    let _ = writeln!(
        out,
        "modcycle: {CYCLES} insmod+rmmod of hello.ko, {us} us each; {}",
        before.delta(&after)
    );
    let mut verdict = Verdict::default();
    verdict.check(before == after, "counters moved");
    verdict.result()
}
