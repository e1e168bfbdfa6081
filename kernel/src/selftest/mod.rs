//! Self-tests run from the shell (`selftest NAME [ARGS]`): the kernel
//! exercising one of its subsystems and checking that it leaks nothing
//! (the role of Linux's lib/test_*.c modules, run on demand).
//!
//! One file per test, each registered once, in [`TESTS`] (name, argument
//! synopsis, entry point). The shell's `selftest` command runs them through
//! `run` and prints its usage text from the same table ([`USAGE`]). A
//! test prints what it measured and returns a [`SelftestError`] when a
//! check failed, so the shell prints `selftest NAME: FAIL (detail)`; the
//! QEMU cases in `xtask/src/cases.rs` type them and read the lines.
//!
//! A test that checks for leaks must not leak when it fails: every page,
//! kmap, vm area and module it holds is held in a guard of `guard` that
//! gives it back on drop, so an early `?` cleans up too.

/// The registered tests, in the order `help` lists them: name, argument
/// synopsis (with a leading space, or empty), entry point. The one list,
/// expanded twice: by `register!` below into [`TESTS`] and [`USAGE`]
/// (host-built), and by `kernel.rs` into the entry points (target only), so
/// the usage text cannot drift from what runs.
macro_rules! tests {
    ($register:ident) => {
        $register! {
            "heap" "" => heap::run,
            "highmem" "" => highmem::run,
            "vmalloc" "" => vmalloc::run,
            "modules" "" => modules::run,
            "modcycle" "" => modcycle::run,
            "modbench" " [FILE...]" => modbench::run,
            "faultinject" " [MODULE]" => faultinject::run,
            "soak" " [N [SEED]]" => soak::run,
            "linux61" " [stackprot|fortify]" => linux61::run,
            "nls" "" => nls::run,
            "jiffies" "" => jiffies::run,
        }
    };
}

// The tests themselves reach the hardware: target only, as is `kernel.rs`
// (`run` and what the tests share). `soak`'s model is host-tested.
#[cfg(target_arch = "arm")]
pub mod faultinject;
#[cfg(target_arch = "arm")]
pub mod guard;
#[cfg(target_arch = "arm")]
pub mod heap;
#[cfg(target_arch = "arm")]
pub mod highmem;
#[cfg(target_arch = "arm")]
pub mod jiffies;
#[cfg(target_arch = "arm")]
mod kernel;
#[cfg(target_arch = "arm")]
pub mod linux61;
#[cfg(target_arch = "arm")]
pub mod modbench;
#[cfg(target_arch = "arm")]
pub mod modcycle;
#[cfg(target_arch = "arm")]
pub mod modules;
#[cfg(target_arch = "arm")]
pub mod nls;
pub mod soak;
#[cfg(target_arch = "arm")]
pub mod vmalloc;

#[cfg(target_arch = "arm")]
pub use kernel::{HELLO, read_module, run, with_module};

use crate::errno::Errno;
use crate::module::ModName;
use core::fmt;

/// Why a self-test did not pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelftestError {
    /// No test of that name.
    UnknownTest,
    /// The arguments do not fit the test's synopsis.
    Usage,
    /// A check failed; what it checked (the test printed the figures).
    Failed(&'static str),
    /// An operation the test needs failed with this errno.
    Errno(Errno),
    /// The module file the test loads could not be read.
    File { module: ModName, errno: Errno },
}

impl From<Errno> for SelftestError {
    fn from(e: Errno) -> Self {
        SelftestError::Errno(e)
    }
}

/// What goes between the parentheses of `selftest NAME: FAIL (...)`. An
/// errno prints as its name (`ENOMEM`), as the shell always did.
impl fmt::Display for SelftestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelftestError::UnknownTest => f.write_str("unknown test"),
            SelftestError::Usage => f.write_str("EINVAL: bad arguments"),
            SelftestError::Failed(what) => write!(f, "check failed: {what}"),
            SelftestError::Errno(e) => f.write_str(e.name()),
            SelftestError::File { module, errno } => {
                write!(f, "{module}.ko: {errno} ({})", errno.name())
            }
        }
    }
}

/// A test's entry point: its arguments, where its report goes.
pub type Run = fn(&[&str], &mut dyn fmt::Write) -> Result<(), SelftestError>;

/// One registered self-test.
pub struct Test {
    pub name: &'static str,
    /// The arguments' synopsis, with a leading space (`" [N [SEED]]"`), or
    /// empty.
    pub args: &'static str,
}

/// Builds [`TESTS`] and [`USAGE`] from `tests!`'s list (the entry points
/// are `kernel.rs`'s).
macro_rules! register {
    ($first:literal $first_args:literal => $first_run:path
     $(, $name:literal $args:literal => $run:path)* $(,)?) => {
        /// Every self-test, in the order `help` lists them.
        pub const TESTS: &[Test] = &[
            Test { name: $first, args: $first_args },
            $(Test { name: $name, args: $args },)*
        ];
        /// `selftest`'s synopsis, for `help` and the usage error.
        pub const USAGE: &str =
            concat!("selftest ", $first, $first_args, $("|", $name, $args),*);
    };
}

tests!(register);

/// The test called `name`.
pub fn find(name: &str) -> Option<&'static Test> {
    TESTS.iter().find(|t| t.name == name)
}

/// A test's checks: remembers the first that failed, so the report says
/// what went wrong rather than only that something did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict(Option<&'static str>);

impl Verdict {
    /// Records `what` as failed unless `ok`.
    pub fn check(&mut self, ok: bool, what: &'static str) {
        if !ok && self.0.is_none() {
            self.0 = Some(what);
        }
    }

    /// `Ok` if every check passed, else [`SelftestError::Failed`] with the
    /// first failure.
    pub fn result(self) -> Result<(), SelftestError> {
        self.0
            .map_or(Ok(()), |what| Err(SelftestError::Failed(what)))
    }
}

/// The memory counters a leak would move: free pages (buddy), heap bytes
/// in use (what `/proc/meminfo` shows as `Slab:`), `VmallocUsed` and the
/// number of vm areas (vmalloc and module windows).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub free_pages: u64,
    pub slab_bytes: usize,
    pub vmalloc_used: u64,
    pub areas: usize,
}

impl Counters {
    /// `free pages A -> B, VmallocUsed A -> B, heap used A -> B, areas A ->
    /// B`, the before/after figures most tests print.
    pub fn delta(&self, after: &Counters) -> Delta {
        Delta(*self, *after)
    }
}

/// Counters before and after, printed side by side ([`Counters::delta`]).
pub struct Delta(Counters, Counters);

impl fmt::Display for Delta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (b, a) = (self.0, self.1);
        write!(
            f,
            "free pages {} -> {}, VmallocUsed {} -> {}, heap used {} -> {}, areas {} -> {}",
            b.free_pages,
            a.free_pages,
            b.vmalloc_used,
            a.vmalloc_used,
            b.slab_bytes,
            a.slab_bytes,
            b.areas,
            a.areas
        )
    }
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "free pages {}, Slab {} bytes, VmallocUsed {}, areas {}",
            self.free_pages, self.slab_bytes, self.vmalloc_used, self.areas
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_lists_every_registered_test_in_order() {
        assert_eq!(
            USAGE,
            "selftest heap|highmem|vmalloc|modules|modcycle|modbench [FILE...]|faultinject [MODULE]|soak [N [SEED]]|linux61 [stackprot|fortify]|nls|jiffies"
        );
        let names: Vec<_> = TESTS.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "heap",
                "highmem",
                "vmalloc",
                "modules",
                "modcycle",
                "modbench",
                "faultinject",
                "soak",
                "linux61",
                "nls",
                "jiffies"
            ]
        );
        assert_eq!(find("soak").map(|t| t.args), Some(" [N [SEED]]"));
        assert!(find("nope").is_none());
    }

    #[test]
    fn errors_say_what_went_wrong() {
        assert_eq!(SelftestError::Errno(Errno::ENOMEM).to_string(), "ENOMEM");
        let missing = SelftestError::File {
            module: ModName::new("hello").unwrap(),
            errno: Errno::ENOENT,
        };
        assert_eq!(
            missing.to_string(),
            "hello.ko: No such file or directory (ENOENT)"
        );
        assert_eq!(
            SelftestError::Failed("counters moved").to_string(),
            "check failed: counters moved"
        );
        assert_eq!(
            SelftestError::from(Errno::EIO),
            SelftestError::Errno(Errno::EIO)
        );
    }

    #[test]
    fn a_verdict_keeps_the_first_failure() {
        let mut v = Verdict::default();
        v.check(true, "fine");
        assert_eq!(v.result(), Ok(()));
        v.check(false, "first");
        v.check(false, "second");
        assert_eq!(v.result(), Err(SelftestError::Failed("first")));
    }

    #[test]
    fn delta_prints_before_and_after() {
        let b = Counters {
            free_pages: 10,
            slab_bytes: 20,
            vmalloc_used: 30,
            areas: 4,
        };
        let a = Counters { areas: 5, ..b };
        assert_eq!(
            b.delta(&a).to_string(),
            "free pages 10 -> 10, VmallocUsed 30 -> 30, heap used 20 -> 20, areas 4 -> 5"
        );
    }
}
