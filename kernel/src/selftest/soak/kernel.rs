//! The soak on the running kernel (target only): performs the operations
//! the host-tested [`Model`] picks, with the real `insmod`/`rmmod`, and
//! compares the memory counters.

use super::{Model, Op, SAMPLES, Sample, Tally};
use crate::errno::Errno;
use crate::selftest::{Counters, SelftestError, Verdict, read_module};
use core::fmt::Write;

/// Runs `n` operations with `seed`, twice: the first pass warms up what
/// legitimately persists (second-level page tables of the module window as
/// far as the pass reaches, the capacity of the kernel's bookkeeping
/// vectors, the out-of-tree taint message); the second pass, identical, is
/// measured. Every loaded sample is removed after each pass.
pub fn soak(n: u32, seed: u64, out: &mut dyn Write) -> Result<(), SelftestError> {
    // The model starts from no module loaded (and unloads all at the end).
    if !crate::module::MODULES.lock().is_empty() {
        return Err(SelftestError::Failed(
            "modules are loaded: rmmod them first (the soak starts from none)",
        ));
    }
    let quiet = crate::console::printk::quiet();
    pass(n, seed);
    let before = Counters::now();
    let start = crate::time::now_ns();
    let (tally, left) = pass(n, seed);
    let us = (crate::time::now_ns() - start) / 1000 / u64::from(n.max(1));
    let after = Counters::now();
    drop(quiet);
    let _ = writeln!(
        out,
        "soak: {n} operations over {} modules (seed {seed:#x}), {us} us each: {} insmod, {} rmmod, {} refused as expected, {} unexpected",
        SAMPLES.len(),
        tally.loaded,
        tally.unloaded,
        tally.refused,
        tally.unexpected
    );
    let _ = writeln!(out, "soak: before: {before}");
    let _ = writeln!(out, "soak: after:  {after}");
    let leaked = before != after;
    let _ = writeln!(
        out,
        "soak: {}",
        match (leaked, left) {
            (true, _) => "LEAK: counters differ",
            (false, 0) => "0 leaks",
            (false, _) => "modules left loaded: a result differed from the model's",
        }
    );
    let mut verdict = Verdict::default();
    verdict.check(tally.unexpected == 0, "an answer differed from the model's");
    verdict.check(!leaked, "counters moved");
    verdict.check(left == 0, "modules left loaded");
    verdict.result()
}

/// `selftest soak [N [SEED]]` (N defaults to 1000, SEED to "Kobold").
pub fn run(args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    let number = |i: usize, default: u64| match args.get(i) {
        None => Ok(default),
        Some(a) => match a.strip_prefix("0x").or_else(|| a.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => a.parse().ok(),
        }
        .ok_or(SelftestError::Usage),
    };
    if args.len() > 2 {
        return Err(SelftestError::Usage);
    }
    let n = u32::try_from(number(0, 1000)?).map_err(|_| SelftestError::Usage)?;
    soak(n, number(1, 0x4b6f_626f_6c64)?, out)
}

/// One pass: `n` operations, then every sample unloaded. Returns what
/// happened and how many modules are still loaded at the end.
fn pass(n: u32, seed: u64) -> (Tally, usize) {
    let insmod = |s: &Sample| -> Result<(), Errno> {
        read_module(s.path, |bytes| crate::module::insmod(s.path, bytes, s.args)).map(drop)
    };
    let mut model = Model::new(&SAMPLES, seed);
    let mut tally = Tally::default();
    for _ in 0..n {
        let op = model.next_op();
        let result = match op {
            Op::Insmod { sample, .. } => insmod(&SAMPLES[sample]),
            Op::Rmmod { sample, .. } => crate::module::rmmod(SAMPLES[sample].name),
        };
        tally.count(op, result);
        model.record(op, result);
    }
    let order: alloc::vec::Vec<usize> = model.unload_order().collect();
    for i in order {
        let _ = crate::module::rmmod(SAMPLES[i].name);
    }
    (tally, crate::module::MODULES.lock().len())
}
