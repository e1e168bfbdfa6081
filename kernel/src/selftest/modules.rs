//! `selftest modules`: a full module window makes insmod fail cleanly
//! (Linux's `module_alloc` returning NULL → `-ENOMEM` from
//! `layout_and_allocate`).
//!
//! The window is filled with `module_alloc` areas; `insmod hello.ko` must
//! then fail with -ENOMEM leaving every counter as it was. The filler is
//! freed and the same insmod must succeed at the window's first free
//! address. The filler areas are [`VmArea`] guards and the loaded module a
//! [`Loaded`] guard, so a failure on the way gives them back.

use super::guard::{Loaded, VmArea};
use super::{Counters, HELLO, SelftestError, Verdict, with_module};
use crate::errno::Errno;
use alloc::vec::Vec;
use core::fmt::Write;
use kobold_layout::PAGE_SIZE;

pub fn run(_args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    with_module(HELLO, |bytes| window_full(out, bytes))
}

fn window_full(out: &mut dyn Write, bytes: &[u8]) -> Result<(), SelftestError> {
    let mut filler: Vec<VmArea> = Vec::new();
    for size in [1 << 20, PAGE_SIZE] {
        while let Ok(a) = crate::module::exports::module_alloc(size) {
            let area = VmArea::vmalloced(a);
            if filler.try_reserve(1).is_err() {
                return Err(Errno::ENOMEM.into());
            }
            filler.push(area);
        }
    }
    let before = Counters::now();
    let full = Loaded::insmod(HELLO, bytes, &["count=0"]);
    let after = Counters::now();
    let _ = writeln!(
        out,
        "window full ({} areas): insmod -> {}; {}",
        filler.len(),
        full.as_ref().map_or_else(|e| e.name(), |_| "loaded"),
        before.delta(&after)
    );
    let full = full.map(drop);
    for a in filler.drain(..) {
        a.free()?;
    }
    let again = Loaded::insmod(HELLO, bytes, &["count=0"]);
    let base = again.as_ref().ok().and_then(|m| {
        crate::module::MODULES
            .lock()
            .get(m.name())
            .map(|m| m.core_base)
    });
    let _ = writeln!(
        out,
        "window free again: insmod -> {} at {:#010x}",
        again
            .as_ref()
            .map_or_else(|e| e.name(), |m| m.name().as_str()),
        base.unwrap_or(0)
    );
    let loaded_again = again.is_ok();
    if let Ok(m) = again {
        m.remove()?;
    }
    let mut verdict = Verdict::default();
    verdict.check(
        full == Err(Errno::ENOMEM),
        "insmod into a full window was not ENOMEM",
    );
    verdict.check(before == after, "the refused insmod moved the counters");
    verdict.check(loaded_again, "insmod failed once the window was free again");
    verdict.result()
}
