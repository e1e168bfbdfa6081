//! `selftest faultinject [MODULE]`: proves that `insmod` survives running
//! out of memory at every single allocation it makes, and leaves nothing
//! behind. It is Linux's fail-nth technique (`/proc/self/fail-nth`, used by
//! syzkaller) applied to one whole insmod:
//!
//! for n = 1, 2, ...: make the n-th allocation — heap (`failslab`), buddy
//! page (`fail_page_alloc`) or vmap area — fail, run the insmod (reading
//! the file out of the initramfs included), and check that it returned
//! -ENOMEM and that free pages, `Slab:`, `VmallocUsed` and the number of vm
//! areas are exactly where they were. The loop ends at the first n the
//! insmod never reaches: it then succeeds, and the module is removed.
//!
//! The heap keeps one empty region as a spare; both snapshots are taken
//! after returning it (see [`Counters::now`]), so a spare made or used by
//! the attempt does not look like a leak.

use super::{Counters, SelftestError, read_module, with_module};
use crate::errno::Errno;
use crate::mm::fault_inject;
use crate::module::{self, ModName};
use core::fmt::Write;

/// A bound on the allocation points tried (hello.ko needs a few dozen).
const MAX_POINTS: u32 = 10_000;

/// `selftest faultinject [MODULE]`: the sweep over
/// `/lib/modules/<MODULE>.ko` (hello by default), loaded with `count=0`.
pub fn run(args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    match args {
        [] => sweep("hello", &["count=0"], out),
        [name] => sweep(name, &["count=0"], out),
        _ => Err(SelftestError::Usage),
    }
}

/// Runs the sweep over `/lib/modules/<name>.ko` loaded with `args`.
pub fn sweep(name: &str, args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    let mut path = crate::console::FixedBuf::<96>::default();
    let _ = write!(path, "/lib/modules/{name}.ko");
    let path = path.as_str();
    let modname = ModName::from_path(path).ok_or(SelftestError::Usage)?;
    let insmod = || read_module(path, |bytes| module::insmod(path, bytes, args));
    // Warm up: what a first load leaves for good (second-level tables of
    // the module window, the taint message) is not a leak. A missing file
    // is reported as such here.
    with_module(path, |bytes| Ok(module::insmod(path, bytes, args)?))?;
    module::rmmod(&modname)?;
    let quiet = crate::console::printk::quiet();
    let (mut points, mut enomem, mut leaks, mut wrong) = (0u32, 0u32, 0u32, 0u32);
    let mut verdict = Ok(());
    for n in 1..=MAX_POINTS {
        let before = Counters::now();
        fault_inject::fail_nth(n);
        let result = insmod();
        let (_, fired) = fault_inject::disarm();
        if !fired {
            // insmod never reached its n-th allocation: it must have worked.
            match result {
                Ok(_) => module::rmmod(&modname)?,
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "faultinject: {name}.ko failed without injection: {e:?}"
                    );
                    verdict = Err(SelftestError::Failed("insmod failed without injection"));
                }
            }
            break;
        }
        points = n;
        match result {
            Err(Errno::ENOMEM) => enomem += 1,
            Ok(_) => {
                wrong += 1;
                let _ = writeln!(out, "faultinject: point {n}: insmod succeeded");
                module::rmmod(&modname)?;
            }
            Err(e) => {
                wrong += 1;
                let _ = writeln!(
                    out,
                    "faultinject: point {n}: {} instead of ENOMEM",
                    e.name()
                );
            }
        }
        let after = Counters::now();
        if after != before {
            leaks += 1;
            let _ = writeln!(
                out,
                "faultinject: point {n} leaked: before {before}; after {after}"
            );
        }
    }
    drop(quiet);
    let _ = writeln!(
        out,
        "faultinject: {name}.ko: {points} allocation points failed one at a time: {enomem} x ENOMEM, {leaks} leaks"
    );
    if points == 0 {
        verdict = Err(SelftestError::Failed("insmod made no allocation to fail"));
    } else if wrong != 0 {
        verdict = Err(SelftestError::Failed(
            "a failed allocation did not give ENOMEM",
        ));
    } else if leaks != 0 {
        verdict = Err(SelftestError::Failed("a failed insmod leaked"));
    }
    verdict
}
