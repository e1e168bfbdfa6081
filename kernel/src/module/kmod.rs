//! `request_module`: Linux's kernel/kmod.c with the modprobe inside the
//! kernel, because Kobold has no user space to run one.
//!
//! In Linux 6.1, `__request_module(wait, fmt, ...)` formats the module
//! name into `char module_name[MODULE_NAME_LEN]` (`-ENAMETOOLONG` when it
//! does not fit), takes one of `MAX_KMOD_CONCURRENT` (50) slots of
//! `kmod_concurrent_max` (waiting up to `MAX_KMOD_ALL_BUSY_TIMEOUT`, 5 s,
//! then `-ETIME` with "request_module: modprobe NAME cannot be processed,
//! kmod busy with 50 threads for more than 5 seconds now") and runs
//! `modprobe -q -- NAME` as a user-mode helper. Its result is the helper's
//! wait status: 0 when modprobe loaded the module or found it loaded,
//! modprobe's `exit(1)` (status 256) when the module is not found or its
//! init fails — never the module's own error. Callers are told to check
//! afterwards that what they wanted is there (`try_then_request_module`
//! looks again), and they do.
//!
//! What runs here is what busybox's or kmod's `modprobe -q NAME` does in
//! an initramfs without `modules.dep`:
//! - a module already loaded under the name (`-` and `_` alike, as
//!   modprobe compares names) is success, nothing loaded;
//! - else the first file of [`MODULE_DIR`] (Kobold's `/lib/modules`, where
//!   `modules-load=` and the samples live) named `NAME.ko`, `-` and `_`
//!   alike (Debian's `nls_euc-jp.ko` is module `nls_euc_jp`), is inserted
//!   as `insmod` would, without arguments;
//! - `-q`: nothing is printed when the module is not there. A failed
//!   insert is only logged at `KERN_DEBUG`: modprobe's stderr, in Linux,
//!   goes nowhere.
//!
//! What Kobold leaves out: `modules.dep` (Kobold's `insmod` does not
//! resolve dependencies either, so a requested module must have its
//! providers loaded), `modules.alias` (`char-major-*`, `fs-*` requests are
//! not found), and the command line's `NAME.PARAM=VALUE` options.
//!
//! The limit: Kobold has one thread, so requests cannot be concurrent,
//! only nested — a module's init requesting a module whose init requests
//! another — and all nest on the one 32 KB SVC stack, each level a whole
//! `insmod`. [`MAX_NESTED`] levels (far fewer than Linux's 50 slots; what
//! the stack holds with room to spare) are allowed; the next request fails
//! at once with Linux's `-ETIME` and message (waiting could never free a
//! slot). A cycle (A's init requests B, B's requests A) ends sooner: A is
//! listed while its init runs, so the inner request finds it loaded.
//!
//! `__request_module` is exported to 6.1 modules (`linux61/kernel.rs`);
//! `load_nls` uses `request_module` for `nls_CHARSET`, as 6.1's
//! `try_then_request_module(find_nls(charset), "nls_%s", charset)`.

/// Linux's `MODULE_NAME_LEN`: the formatted name must fit with its NUL.
pub const MODULE_NAME_LEN: usize = kobold_loader::modinfo::MODULE_NAME_LEN;

/// Where the in-kernel modprobe looks (Linux's `/lib/modules/$(uname -r)`;
/// Kobold keeps its modules at the top of `/lib/modules`).
pub const MODULE_DIR: &str = "/lib/modules";

/// Linux's `MAX_KMOD_CONCURRENT`, named in the busy message.
pub const MAX_KMOD_CONCURRENT: u32 = 50;

/// Requests that may nest (see the module docs).
pub const MAX_NESTED: u32 = 4;

/// `-ENAMETOOLONG`.
pub const ENAMETOOLONG: i32 = -36;
/// `-ETIME`, what `down_timeout` returns.
pub const ETIME: i32 = -62;

/// The wait status of `modprobe` exiting with 1: what `__request_module`
/// returns when the module is not found or its init fails.
pub const MODPROBE_FAILED: i32 = 1 << 8;

/// modprobe's name comparison: equal, with `-` and `_` alike.
pub fn same_name(a: &[u8], b: &[u8]) -> bool {
    let norm = |c: u8| if c == b'-' { b'_' } else { c };
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| norm(x) == norm(y))
}

/// Whether directory entry `file` of [`MODULE_DIR`] is the module `want`:
/// `want.ko`, `-` and `_` alike.
pub fn file_is_module(file: &str, want: &str) -> bool {
    !want.is_empty()
        && file
            .strip_suffix(".ko")
            .is_some_and(|stem| same_name(stem.as_bytes(), want.as_bytes()))
}

/// What one modprobe did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The module was loaded already: nothing to do.
    Loaded,
    /// The module was found and inserted.
    Inserted,
    /// No such module in [`MODULE_DIR`].
    NotFound,
    /// The module was found but not inserted (its errno).
    Failed(i32),
}

/// `__request_module`'s result for what modprobe did (`wait`: the caller
/// waits for modprobe to finish, `UMH_WAIT_PROC`; else it is told only
/// that modprobe started, `UMH_WAIT_EXEC`: 0).
pub fn result(wait: bool, o: Outcome) -> i32 {
    match o {
        _ if !wait => 0,
        Outcome::Loaded | Outcome::Inserted => 0,
        Outcome::NotFound | Outcome::Failed(_) => MODPROBE_FAILED,
    }
}

/// A nesting slot (`kmod_concurrent_max`), given back on drop.
pub struct Slot<'a>(&'a core::sync::atomic::AtomicU32);

impl<'a> Slot<'a> {
    /// One of [`MAX_NESTED`] slots of `in_use`, or `None` when all are
    /// taken.
    pub fn take(in_use: &'a core::sync::atomic::AtomicU32) -> Option<Self> {
        use core::sync::atomic::Ordering;
        in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_NESTED).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(in_use))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, core::sync::atomic::Ordering::AcqRel);
    }
}

#[cfg(target_arch = "arm")]
pub use target::request_module;

#[cfg(target_arch = "arm")]
mod target {
    use super::*;
    use crate::console::FixedBuf;
    use core::fmt::Write;
    use core::sync::atomic::AtomicU32;

    /// Requests in progress (nested: see the module docs).
    static IN_USE: AtomicU32 = AtomicU32::new(0);

    /// `__request_module(wait, "%s", name)`: 0, [`MODPROBE_FAILED`], or
    /// `-ENAMETOOLONG` / `-ETIME` (see the module docs).
    pub fn request_module(wait: bool, name: &[u8]) -> i32 {
        if name.len() >= MODULE_NAME_LEN {
            return ENAMETOOLONG;
        }
        let Some(_slot) = Slot::take(&IN_USE) else {
            let shown = core::str::from_utf8(name).unwrap_or("?");
            crate::pr_warn!(
                "request_module: modprobe {shown} cannot be processed, kmod busy with {MAX_KMOD_CONCURRENT} threads for more than 5 seconds now"
            );
            return ETIME;
        };
        result(wait, modprobe(name))
    }

    /// `modprobe -q -- name`.
    fn modprobe(name: &[u8]) -> Outcome {
        // A name that is not UTF-8 names no module and no file.
        let Ok(name) = core::str::from_utf8(name) else {
            return Outcome::NotFound;
        };
        if crate::module::MODULES
            .lock()
            .iter()
            .any(|m| same_name(m.name.as_bytes(), name.as_bytes()))
        {
            return Outcome::Loaded;
        }
        // The file's path, copied out so the rootfs lock is not held while
        // the module loads (its init may request another).
        let mut path = FixedBuf::<96>::default();
        let mut found = false;
        let _ = crate::fs::entries(MODULE_DIR, &mut |file, data| {
            found = data.is_some() && file_is_module(file, name);
            if found {
                let _ = write!(path, "{MODULE_DIR}/{file}");
            }
            !found
        });
        if !found {
            return Outcome::NotFound;
        }
        let path = path.as_str();
        match crate::fs::with_file(path, |bytes| crate::module::insmod(path, bytes, &[])) {
            Ok(Ok(_)) => Outcome::Inserted,
            // Loaded meanwhile (by a request nested in its own init).
            Ok(Err(crate::errno::Errno::EEXIST)) => Outcome::Loaded,
            Ok(Err(e)) | Err(e) => {
                crate::pr_debug!("request_module: modprobe -q -- {name}: {path}: {e}");
                Outcome::Failed(-e.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::AtomicU32;

    #[test]
    fn names_compare_as_modprobe() {
        assert!(same_name(b"nls_euc_jp", b"nls_euc-jp"));
        assert!(same_name(b"nls-euc-jp", b"nls_euc_jp"));
        assert!(!same_name(b"nls_euc_jp", b"nls_euc_j"));
        assert!(!same_name(b"NLS_CP932", b"nls_cp932"), "case matters");
        assert!(file_is_module("nls_cp932.ko", "nls_cp932"));
        assert!(file_is_module("nls_koi8-u.ko", "nls_koi8_u"));
        assert!(!file_is_module("nls_cp932", "nls_cp932"), "not a .ko");
        assert!(!file_is_module("nls_cp932.ko.xz", "nls_cp932"));
        assert!(!file_is_module("nls_cp9320.ko", "nls_cp932"));
        assert!(!file_is_module(".ko", ""), "an empty name is no file");
    }

    #[test]
    fn results_as_kmod() {
        assert_eq!(result(true, Outcome::Inserted), 0);
        assert_eq!(result(true, Outcome::Loaded), 0);
        assert_eq!(result(true, Outcome::NotFound), 256);
        assert_eq!(
            result(true, Outcome::Failed(-22)),
            256,
            "never the init's errno"
        );
        assert_eq!(result(false, Outcome::NotFound), 0, "UMH_WAIT_EXEC");
    }

    #[test]
    fn slots_nest_up_to_the_limit_and_come_back() {
        let n = AtomicU32::new(0);
        let mut held = Vec::new();
        for _ in 0..MAX_NESTED {
            held.push(Slot::take(&n).expect("a free slot"));
        }
        assert!(Slot::take(&n).is_none());
        held.pop();
        assert!(Slot::take(&n).is_some());
        drop(held);
        assert_eq!(n.load(core::sync::atomic::Ordering::Relaxed), 0);
    }
}
