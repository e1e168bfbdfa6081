//! `cargo xtask fuzz [--time SECONDS] [--seed N] [--runs N] [--replay FILE...]`:
//! a structure-aware fuzzer for the module loader.
//!
//! Issue 8 asks that no module file panics, freezes or exhausts the kernel.
//! The loader (`kobold-loader`) runs the same code on the host, so this
//! fuzzer drives its whole pipeline — `validate` → `layout` → (the
//! kernel's `module_alloc` window check) → `link` → `ksymtab::exports` →
//! `ksymtab::params`, all in [`run_pipeline`] — with mutated modules, and
//! fails on:
//!
//! * a **panic** (each input runs under `catch_unwind`);
//! * an input **slower than one second** ([`SLOW`]): the pipeline runs on
//!   a worker thread watched by the main thread; an input over the limit
//!   is run a second time (a stall of the host is not a finding) and is a
//!   crash if it is slow again, or at once if it takes [`HANG`];
//! * a **large allocation**: a counting `#[global_allocator]`
//!   ([`CountingAlloc`]) watches the worker while it runs the pipeline. The
//!   bound ([`alloc_bound`]) is `2 × 16 MiB + 64 × file length + 64 KiB`:
//!   the two regions the kernel would `module_alloc` in its 16 MiB module
//!   window, plus a constant factor of the file for the loader's tables
//!   (a section header is 40 bytes, its `Section` 56; a symbol 16 bytes,
//!   its `Symbol` 32 and address 4; `Vec` growth doubles), plus slack.
//!   No single allocation may exceed it (the worker is stopped at the
//!   allocator, before the memory is touched), nor may the bytes live at
//!   once (peak) — quadratic copies of strings count.
//!
//! Coverage-guided fuzzing needs a nightly compiler (sanitizer coverage);
//! this is a plain mutation loop instead, made to go deep by knowing the
//! format: it parses the ELF header, the section headers, the symbol
//! tables and relocation tables of its input and changes their fields
//! (`e_shnum`, `e_shstrndx`, `sh_offset`/`sh_size`/`sh_link`/`sh_info`/
//! `sh_addralign`/`sh_type`/`sh_flags`, `st_name`/`st_value`/`st_size`/
//! `st_shndx`/`st_info`, `r_offset`, `r_info` with real ARM relocation
//! types) to interesting values (0, ±1, page sizes, 0xfff00000, the file
//! length, another entry's value), flips bytes, truncates, splices two
//! modules, replicates a table's entries up to 160,000 times (150,000
//! COMMON symbols, 100,000 distinct branches) and points many names at the
//! same string. The random generator is a seeded xorshift: the seed is
//! printed, and `--seed N` repeats a run input for input.
//!
//! A cheap stand-in for coverage is *stage coverage*: every input is
//! classified by how far it got ([`Stage`]) and by the shape of the error
//! that stopped it (the `Debug` text without numbers and names). Inputs
//! that reach a new (stage, error) pair, or that get past validation, join
//! an in-memory corpus, and parents are drawn from the deeper stages more
//! often. Each input is linked against a random symbol table
//! ([`FuzzResolver`], seeded by a hash of the input, so a file alone
//! reproduces its run): undefined names resolve to kernel, module-window
//! or arbitrary addresses, functions or data, or to nothing.
//!
//! The seeds are the sample modules (C and Rust), built as
//! `cargo xtask build` builds them. On a crash the input is written to
//! `target/kobold/fuzz/crash-*.ko` and the command fails; crashes worth
//! keeping go to `loader/tests/fuzz/`, whose files a unit test below
//! replays through the same checks. `--replay FILE...` does the same by
//! hand.

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::cell::Cell;
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use kobold_layout::{MODULES_VADDR, modules_end};
use kobold_loader::ksymtab::{self, ParamType};
use kobold_loader::layout::layout;
use kobold_loader::link::{Resolver, entry_points, link};
use kobold_loader::relocate::Target;

use crate::{modules, process};

#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// How long to fuzz, in seconds.
    #[arg(long, default_value_t = 60)]
    pub time: u64,
    /// The random seed (printed at the start of every run); default: from
    /// the clock.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop after this many executions (as well as after --time).
    #[arg(long)]
    pub runs: Option<u64>,
    /// Run these files through the pipeline and its checks instead of
    /// fuzzing (crash reproducers).
    #[arg(long, num_args = 1..)]
    pub replay: Vec<PathBuf>,
    /// Largest input to make, in bytes (table replication makes inputs
    /// of megabytes to find scaling bugs).
    #[arg(long, default_value_t = DEFAULT_MAX_INPUT)]
    pub max_input: usize,
}

/// An input slower than this is run again; slow twice is a crash.
pub const SLOW: Duration = Duration::from_secs(1);
/// An input still running after this is a crash at once.
pub const HANG: Duration = Duration::from_secs(5);
/// Inputs are kept below this size (table replication can grow them);
/// `--max-input` changes it.
pub const DEFAULT_MAX_INPUT: usize = 4 << 20;
static MAX_INPUT: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_INPUT);

fn max_input() -> usize {
    MAX_INPUT.load(Ordering::Relaxed)
}
/// Inputs above this size are run but not kept in the corpus.
const MAX_CORPUS_INPUT: usize = 512 << 10;
/// Corpus entries per stage.
const BUCKET: usize = 400;
/// Where crash files go.
pub const CRASH_DIR: &str = "target/kobold/fuzz";
/// The committed reproducers.
pub const REGRESSION_DIR: &str = "loader/tests/fuzz";

/// The kernel's module window (no highmem: the larger one, 16 MiB).
fn window() -> u32 {
    modules_end(false) - MODULES_VADDR
}

/// The largest allocation, single or live at once, an input of `file_len`
/// bytes may cause: twice the module window (core and init images), 64
/// bytes per byte of file (the loader's own tables), 64 KiB of slack.
pub fn alloc_bound(file_len: usize) -> usize {
    2 * window() as usize + 64 * file_len + (64 << 10)
}

// ---------------------------------------------------------------------
// The counting allocator.

/// The system allocator, counting on threads that asked it to: the largest
/// single request and the peak of live bytes, and stopping a thread whose
/// request exceeds its bound (see `guard`).
pub struct CountingAlloc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Per-thread accounting; `const`-initialised and without a destructor,
/// so the allocator may touch it at any time.
struct Track {
    on: Cell<bool>,
    bound: Cell<usize>,
    largest: Cell<usize>,
    live: Cell<isize>,
    peak: Cell<isize>,
    /// A worker's flag: where to record an over-bound request before the
    /// thread parks itself. Without one, the request is only counted.
    stop: Cell<Option<&'static AtomicUsize>>,
}

thread_local! {
    static TRACK: Track = const {
        Track {
            on: Cell::new(false),
            bound: Cell::new(usize::MAX),
            largest: Cell::new(0),
            live: Cell::new(0),
            peak: Cell::new(0),
            stop: Cell::new(None),
        }
    };
}

fn note_alloc(size: usize) {
    let _ = TRACK.try_with(|t| {
        if !t.on.get() {
            return;
        }
        if size > t.bound.get()
            && let Some(stop) = t.stop.get()
        {
            // Never hand out (or even try to get) the memory: record the
            // request and park this thread for good. The watchdog sees the
            // input hang, finds the flag set and reports the allocation.
            t.on.set(false);
            stop.store(size, Ordering::SeqCst);
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        t.largest.set(t.largest.get().max(size));
        let live = t.live.get().saturating_add(size as isize);
        t.live.set(live);
        t.peak.set(t.peak.get().max(live));
    });
}

fn note_free(size: usize) {
    let _ = TRACK.try_with(|t| {
        if t.on.get() {
            t.live.set(t.live.get().saturating_sub(size as isize));
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the bookkeeping only touches a `const` thread-local of `Cell`s
// (no allocation, no destructor) and never changes what is returned.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: AllocLayout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        note_free(layout.size());
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new_size: usize) -> *mut u8 {
        note_alloc(new_size);
        note_free(layout.size());
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocation figures of one guarded run.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllocStats {
    pub largest: usize,
    pub peak: usize,
}

/// Runs `f` with this thread's allocations counted and bounded by
/// `bound`.
fn guard<R>(bound: usize, f: impl FnOnce() -> R) -> (R, AllocStats) {
    TRACK.with(|t| {
        t.bound.set(bound);
        t.largest.set(0);
        t.live.set(0);
        t.peak.set(0);
        t.on.set(true);
    });
    let r = f();
    let stats = TRACK.with(|t| {
        t.on.set(false);
        AllocStats {
            largest: t.largest.get(),
            peak: t.peak.get().max(0) as usize,
        }
    });
    (r, stats)
}

// ---------------------------------------------------------------------
// The random generator.

/// xorshift64*: small, fast, and the same everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, never 0.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            ((self.next_u64() >> 11) % n as u64) as usize
        }
    }
    /// True with probability 1/n.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// FNV-1a, for the resolver's per-input and per-name decisions.
fn fnv(data: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

// ---------------------------------------------------------------------
// The pipeline.

/// How far an input got, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// `validate` refused it.
    Invalid,
    /// Valid, but `layout` refused it.
    Validated,
    /// Laid out, but the kernel would not allocate it (empty, or larger
    /// than the module window).
    LaidOut,
    /// Allocated, but `link` refused it.
    Allocated,
    /// Linked, but its export table is malformed.
    Linked,
    /// Exports read, but its parameter table is malformed or its entry
    /// points are wrong.
    Exported,
    /// Everything read: the kernel would call its init.
    Loaded,
}

impl Stage {
    pub const COUNT: usize = 7;
}

/// The result of one input.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Outcome {
    pub stage: Stage,
    /// The error's shape (see [`shape`]); empty when loaded.
    pub detail: String,
}

/// The `Debug` text of an error without its numbers and quoted strings:
/// one error kind per variant and field set, whatever the values.
pub fn shape(debug: &str) -> String {
    let mut out = String::new();
    let mut chars = debug.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                // Skip the string, honouring escapes.
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '0'..='9' if !out.ends_with(|p: char| p.is_alphanumeric() || p == '_') => {
                while chars.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn stop(stage: Stage, err: impl std::fmt::Debug) -> Outcome {
    Outcome {
        stage,
        detail: shape(&format!("{err:?}")),
    }
}

/// A random kernel symbol table: each undefined name resolves (or not) as
/// a hash of the name and the per-input seed decides, so the answer for
/// one name is the same every time it is asked.
pub struct FuzzResolver {
    seed: u64,
    /// Percentage of names left unresolved.
    miss_percent: u64,
}

impl FuzzResolver {
    pub fn new(rng: &mut Rng) -> FuzzResolver {
        let seed = rng.next_u64();
        let miss_percent = *rng.pick(&[0, 0, 0, 0, 2, 10, 50, 100]);
        FuzzResolver { seed, miss_percent }
    }
}

impl Resolver for FuzzResolver {
    fn resolve(&self, name: &str) -> Option<Target> {
        let h = Rng::new(fnv(name.as_bytes(), self.seed)).next_u64();
        if h % 100 < self.miss_percent {
            return None;
        }
        let bits = (h >> 8) as u32;
        let value = match (h >> 40) % 8 {
            // Kernel text and data, within BL range of the module window.
            0..=3 => 0xc000_8000 + (bits & 0x007f_fffc),
            // Another module.
            4 => MODULES_VADDR + (bits & 0x00ff_fffc),
            // Anywhere, Thumb bit and all: PLT veneers.
            5 | 6 => bits,
            // Edges.
            _ => *[0, 1, 0xffff_fffc, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff]
                .get((bits % 6) as usize)
                .unwrap_or(&0),
        };
        Some(Target {
            value,
            is_func: (h >> 63) == 0,
        })
    }
}

/// Runs one module through the loader as the kernel's `load_module` does,
/// up to calling its init. **Every call into `kobold-loader` is here**, so
/// an API change touches only this function.
pub fn run_pipeline(bytes: &[u8], rng: &mut Rng) -> Outcome {
    let m = match kobold_loader::validate(bytes) {
        Ok(m) => m,
        Err(e) => return stop(Stage::Invalid, e),
    };
    std::hint::black_box(m.modinfo_get("name"));
    // The 6.1 personality's readers (issue 11): the trailer, the ABI,
    // __versions.
    std::hint::black_box(kobold_loader::signature::split(bytes).is_ok());
    std::hint::black_box(kobold_loader::linux61::detect(&m).is_ok());
    std::hint::black_box(kobold_loader::linux61::versions(&m).map_or(0, Iterator::count));
    let l = match layout(&m) {
        Ok(l) => l,
        Err(e) => return stop(Stage::Validated, e),
    };
    // module_alloc: both regions come from the module window; an empty
    // core is "module has no loadable sections".
    let window = window();
    let total = l.core_size as u64 + l.init_size as u64;
    if l.core_size == 0 || total > window as u64 {
        return stop(Stage::LaidOut, ("module_alloc", l.core_size == 0));
    }
    let slack = ((window as u64 - total) / 4096) as usize;
    let core_base = MODULES_VADDR + 4096 * rng.below(slack + 1) as u32;
    let gap = (window as u64 - total) as u32 - (core_base - MODULES_VADDR);
    let init_base = core_base + l.core_size + 4096 * rng.below(gap as usize / 4096 + 1) as u32;
    let resolver = FuzzResolver::new(rng);
    // The kernel's memory is not zeroed: link must clear it.
    let mut core = vec![0xa5u8; l.core_size as usize];
    let mut init = vec![0xa5u8; l.init_size as usize];
    let linked = match link(
        &m, &l, &mut core, core_base, &mut init, init_base, &resolver,
    ) {
        Ok(linked) => linked,
        Err(e) => return stop(Stage::Allocated, e),
    };
    let exports = match ksymtab::exports(&m, &l, &core, core_base) {
        Ok(e) => e,
        Err(e) => return stop(Stage::Linked, e),
    };
    for e in &exports {
        std::hint::black_box(e.name(&core));
    }
    // The kernel types a parameter by its ops: one of its param_ops_*.
    let ops: Vec<(u32, ParamType)> = ParamType::ALL
        .iter()
        .filter_map(|&t| resolver.resolve(t.ops_symbol()).map(|s| (s.value, t)))
        .collect();
    let classify = |addr: u32| ops.iter().find(|o| o.0 == addr).map(|o| o.1);
    let params = match ksymtab::params(&m, &l, &core, core_base, init_base, &classify) {
        Ok(p) => p,
        Err(e) => return stop(Stage::Exported, e),
    };
    // Arguments name parameters (some of them, and some that are not).
    for (i, p) in params.iter().enumerate() {
        let name = p.name(&core).unwrap_or("");
        std::hint::black_box(ksymtab::find_param(&params, &core, name));
        if i == 0 {
            std::hint::black_box(ksymtab::find_param(&params, &core, "no_such-param"));
        }
    }
    if let Err(e) = entry_points(&m, &l, &linked) {
        return stop(Stage::Exported, e);
    }
    // As a 6.1 module: its 20-byte kernel_param, ftrace's NOPs, its
    // struct module (results only watched: they do not change the stage).
    std::hint::black_box(
        ksymtab::params_abi(
            &m,
            &l,
            &core,
            core_base,
            init_base,
            kobold_loader::linux61::Abi::Linux61,
            &classify,
        )
        .is_ok(),
    );
    let mcount = kobold_loader::linux61::mcount_address(&m, &linked);
    let mut images = kobold_loader::linux61::Images {
        core: &mut core,
        core_base,
        init: &mut init,
        init_base,
    };
    std::hint::black_box(kobold_loader::linux61::patch_mcount(&m, &l, &mut images, mcount).is_ok());
    if let Some(at) = kobold_loader::linux61::this_module_offset(&m, &l) {
        std::hint::black_box(kobold_loader::linux61::fill_this_module(
            &mut core, at, "fuzz", 1,
        ));
    }
    Outcome {
        stage: Stage::Loaded,
        detail: String::new(),
    }
}

/// The per-input generator: seeded by the input alone, so a saved file
/// reproduces its run without the fuzzer's state.
fn input_rng(bytes: &[u8]) -> Rng {
    Rng::new(fnv(bytes, 0x6b6f_626f_6c64))
}

// ---------------------------------------------------------------------
// Running inputs under watch.

/// Why an input is a crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crash {
    Panic(String),
    Slow(Duration),
    Hang,
    Alloc { size: usize, bound: usize },
    Peak { size: usize, bound: usize },
}

impl std::fmt::Display for Crash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Crash::Panic(msg) => write!(f, "panic: {msg}"),
            Crash::Slow(d) => write!(
                f,
                "slow: {:.2} s twice (limit {} s)",
                d.as_secs_f64(),
                SLOW.as_secs()
            ),
            Crash::Hang => write!(f, "hang: still running after {} s", HANG.as_secs()),
            Crash::Alloc { size, bound } => {
                write!(f, "allocation of {size} bytes (bound {bound})")
            }
            Crash::Peak { size, bound } => {
                write!(f, "{size} bytes live at once (bound {bound})")
            }
        }
    }
}

impl Crash {
    fn tag(&self) -> &'static str {
        match self {
            Crash::Panic(_) => "panic",
            Crash::Slow(_) => "slow",
            Crash::Hang => "hang",
            Crash::Alloc { .. } => "alloc",
            Crash::Peak { .. } => "peak",
        }
    }
}

type Job = Arc<Vec<u8>>;
type Report = (Result<Outcome, String>, AllocStats, Duration);

/// The pipeline's thread. A worker that hangs or is stopped by the
/// allocator is abandoned; [`Runner::run`] then starts another.
struct Worker {
    jobs: Sender<Job>,
    reports: Receiver<Report>,
    /// Set by the allocator to the size of an over-bound request, when it
    /// parks the worker (leaked: one word per worker ever started).
    stopped: &'static AtomicUsize,
}

impl Worker {
    fn spawn() -> Worker {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (report_tx, reports) = mpsc::channel();
        let stopped: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
        std::thread::Builder::new()
            .name("fuzz-worker".into())
            .spawn(move || {
                TRACK.with(|t| t.stop.set(Some(stopped)));
                for job in job_rx {
                    let bound = alloc_bound(job.len());
                    let started = Instant::now();
                    let (result, stats) = guard(bound, || {
                        catch_unwind(AssertUnwindSafe(|| {
                            run_pipeline(&job, &mut input_rng(&job))
                        }))
                        .map_err(|p| panic_message(&*p))
                    });
                    if report_tx.send((result, stats, started.elapsed())).is_err() {
                        break;
                    }
                }
            })
            .expect("spawning the fuzz worker");
        Worker {
            jobs,
            reports,
            stopped,
        }
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".into()
    }
}

/// Runs inputs one at a time on a `Worker`, with the watchdog.
pub struct Runner {
    worker: Worker,
    slow: Duration,
    hang: Duration,
}

impl Runner {
    pub fn new(slow: Duration, hang: Duration) -> Runner {
        Runner {
            worker: Worker::spawn(),
            slow,
            hang,
        }
    }

    fn once(&mut self, input: &Job) -> Result<Report, Crash> {
        if self.worker.jobs.send(input.clone()).is_err() {
            self.worker = Worker::spawn();
            let _ = self.worker.jobs.send(input.clone());
        }
        let started = Instant::now();
        loop {
            let left = self.hang.saturating_sub(started.elapsed());
            match self
                .worker
                .reports
                .recv_timeout(left.min(Duration::from_millis(50)))
            {
                Ok(report) => return Ok(report),
                Err(RecvTimeoutError::Timeout) => {
                    let size = self.worker.stopped.load(Ordering::SeqCst);
                    if size != 0 || started.elapsed() >= self.hang {
                        // The worker is parked in the allocator or stuck:
                        // leave it, start a fresh one.
                        self.worker = Worker::spawn();
                        return Err(if size != 0 {
                            Crash::Alloc {
                                size,
                                bound: alloc_bound(input.len()),
                            }
                        } else {
                            Crash::Hang
                        });
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.worker = Worker::spawn();
                    return Err(Crash::Panic("the worker thread died".into()));
                }
            }
        }
    }

    /// Runs `input`; `Err` if it is a crash.
    pub fn run(&mut self, input: &Job) -> Result<Outcome, Crash> {
        let (mut result, mut stats, mut took) = self.once(input)?;
        if took > self.slow {
            // Once more, in case the host stalled.
            (result, stats, took) = self.once(input)?;
            if took > self.slow {
                return Err(Crash::Slow(took));
            }
        }
        // A panic first: its hook's backtrace is not the input's doing.
        let outcome = result.map_err(Crash::Panic)?;
        let bound = alloc_bound(input.len());
        if stats.largest > bound {
            return Err(Crash::Alloc {
                size: stats.largest,
                bound,
            });
        }
        if stats.peak > bound {
            return Err(Crash::Peak {
                size: stats.peak,
                bound,
            });
        }
        Ok(outcome)
    }
}

// ---------------------------------------------------------------------
// The ELF structure the mutators work on.

const EHDR: usize = 52;
const SHDR: usize = 40;
const SHT_SYMTAB: u32 = 2;
const SHT_REL: u32 = 9;
const SHT_NOBITS: u32 = 8;

fn rd32(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn rd16(d: &[u8], at: usize) -> Option<u16> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn wr32(d: &mut [u8], at: usize, v: u32) {
    if let Some(b) = at.checked_add(4).and_then(|end| d.get_mut(at..end)) {
        b.copy_from_slice(&v.to_le_bytes());
    }
}

fn wr16(d: &mut [u8], at: usize, v: u16) {
    if let Some(b) = at.checked_add(2).and_then(|end| d.get_mut(at..end)) {
        b.copy_from_slice(&v.to_le_bytes());
    }
}

/// A section header as found in the input (positions, for writing back).
#[derive(Clone, Copy, Debug)]
struct Shdr {
    /// File offset of the header.
    at: usize,
    sh_type: u32,
    offset: u32,
    size: u32,
}

impl Shdr {
    /// File range of the contents, if inside the file.
    fn range(&self, len: usize) -> Option<std::ops::Range<usize>> {
        let start = self.offset as usize;
        let end = start.checked_add(self.size as usize)?;
        (self.sh_type != SHT_NOBITS && end <= len).then_some(start..end)
    }
}

/// The section headers that lie inside the file.
fn headers(d: &[u8]) -> Vec<Shdr> {
    let (Some(shoff), Some(shnum)) = (rd32(d, 32), rd16(d, 48)) else {
        return Vec::new();
    };
    (0..shnum as usize)
        .map_while(|i| {
            let at = (shoff as usize).checked_add(i * SHDR)?;
            Some(Shdr {
                at,
                sh_type: rd32(d, at + 4)?,
                offset: rd32(d, at + 16)?,
                size: rd32(d, at + 20)?,
            })
        })
        .collect()
}

/// File offsets of every entry of size `entsize` of sections of `sh_type`.
fn entries(d: &[u8], sh_type: u32, entsize: usize) -> Vec<usize> {
    headers(d)
        .iter()
        .filter(|h| h.sh_type == sh_type)
        .filter_map(|h| h.range(d.len()))
        .flat_map(|r| {
            r.step_by(entsize)
                .filter(move |&at| at + entsize <= d.len())
        })
        .collect()
}

const INTERESTING: &[u32] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    16,
    0x20,
    0x7f,
    0x80,
    0xff,
    0x100,
    0xfff,
    0x1000,
    0x1001,
    0x2000,
    0xffff,
    0x10000,
    0x00ff_f000,
    0x0100_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xbf00_0000,
    0xc000_0000,
    0xfff0_0000,
    0xffff_f000,
    0xffff_fffc,
    0xffff_fffe,
    0xffff_ffff,
];

/// ARM relocation types the loader knows, and some it does not.
const REL_TYPES: &[u32] = &[
    0,  // NONE
    1,  // PC24
    2,  // ABS32
    3,  // REL32
    5,  // ABS16
    8,  // ABS8
    10, // THM_CALL
    28, // CALL
    29, // JUMP24
    30, // THM_JUMP24
    38, // TARGET1
    40, // V4BX
    41, // TARGET2
    42, // PREL31
    43, // MOVW_ABS_NC
    44, // MOVT_ABS
    45, // MOVW_PREL_NC
    46, // MOVT_PREL
    47, // THM_MOVW_ABS_NC
    48, // THM_MOVT_ABS
    49, // THM_MOVW_PREL_NC
    50, // THM_MOVT_PREL
    51, // THM_JUMP19
    102, 255,
];

const SH_TYPES: &[u32] = &[
    0,
    1,
    2,
    3,
    4,
    8,
    9,
    11,
    14,
    15,
    17,
    0x7000_0001,
    0x7000_0003,
    0x6fff_fff0,
];

/// A new value for a 32-bit field that held `old`, in an input of `len`
/// bytes; `same` is the value of the same field of another entry.
fn value(rng: &mut Rng, old: u32, len: usize, same: u32) -> u32 {
    match rng.below(9) {
        0 | 1 => *rng.pick(INTERESTING),
        2 => old.wrapping_add(1 + rng.below(16) as u32),
        3 => old.wrapping_sub(1 + rng.below(16) as u32),
        4 => old ^ (1 << rng.below(32)),
        5 => same,
        6 => rng.below(len + 1) as u32,
        7 => (len as u32).wrapping_sub(old),
        _ => rng.u32(),
    }
}

/// Mutations, by name (for the statistics) and function.
type Mutator = fn(&mut Rng, &mut Vec<u8>, &[u8]) -> bool;

const MUTATORS: &[(&str, Mutator, usize)] = &[
    ("header", mut_header, 2),
    ("section", mut_section, 8),
    ("symbol", mut_symbol, 8),
    ("reloc", mut_reloc, 8),
    ("place", mut_place, 4),
    ("bytes", mut_bytes, 4),
    ("truncate", mut_truncate, 1),
    ("splice", mut_splice, 2),
    ("graft", mut_graft, 2),
    ("replicate", mut_replicate, 2),
    ("same-name", mut_same_name, 2),
    ("huge", mut_huge, 2),
    ("common", mut_common, 2),
];

#[allow(clippy::ptr_arg)] // the one signature of all mutators
fn mut_header(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    if d.len() < EHDR {
        return false;
    }
    let shnum = rd16(d, 48).unwrap_or(0);
    match rng.below(6) {
        0 => {
            let v = match rng.below(4) {
                0 => shnum.wrapping_add(1),
                1 => shnum.wrapping_sub(1),
                2 => *rng.pick(&[0, 1, 0xff00, 0xffff]),
                _ => rng.u32() as u16,
            };
            wr16(d, 48, v);
        }
        1 => {
            let v = match rng.below(3) {
                0 => rng.below(shnum as usize + 2) as u16,
                1 => *rng.pick(&[0, 0xffff, 0xff00]),
                _ => rng.u32() as u16,
            };
            wr16(d, 50, v);
        }
        2 => {
            let old = rd32(d, 32).unwrap_or(0);
            let v = value(rng, old, d.len(), old);
            wr32(d, 32, v);
        }
        3 => wr16(d, 46, *rng.pick(&[0, 39, 40, 41, 64])),
        4 => {
            let at = 16 + 2 * rng.below(2);
            wr16(d, at, rng.u32() as u16);
        }
        _ => {
            let at = rng.below(16);
            d[at] = rng.u32() as u8;
        }
    }
    true
}

#[allow(clippy::ptr_arg)] // the one signature of all mutators
fn mut_section(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    let hs = headers(d);
    if hs.is_empty() {
        return false;
    }
    let h = *rng.pick(&hs);
    let other = *rng.pick(&hs);
    let field = *rng.pick(&[0usize, 4, 8, 16, 20, 24, 28, 32, 36]);
    let Some(old) = rd32(d, h.at + field) else {
        return false;
    };
    let same = rd32(d, other.at + field).unwrap_or(0);
    let v = match field {
        4 if rng.one_in(2) => *rng.pick(SH_TYPES),
        // sh_flags: toggle WRITE, ALLOC, EXECINSTR, MERGE, STRINGS, INFO_LINK,
        // GROUP.
        8 if rng.one_in(2) => old ^ *rng.pick(&[1, 2, 4, 0x10, 0x20, 0x40, 0x200]),
        24 | 28 if rng.one_in(2) => rng.below(hs.len() + 2) as u32,
        32 if rng.one_in(2) => *rng.pick(&[0, 1, 2, 3, 4, 8, 0x1000, 0x2000, 0x8000_0000]),
        36 if rng.one_in(2) => *rng.pick(&[0, 1, 4, 8, 12, 16, 40]),
        _ => value(rng, old, d.len(), same),
    };
    wr32(d, h.at + field, v);
    true
}

#[allow(clippy::ptr_arg)] // the one signature of all mutators
fn mut_symbol(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    let syms = entries(d, SHT_SYMTAB, 16);
    if syms.is_empty() {
        return false;
    }
    let nsec = rd16(d, 48).unwrap_or(0) as u32;
    for _ in 0..1 + rng.below(3) {
        let at = *rng.pick(&syms);
        let other = *rng.pick(&syms);
        match rng.below(5) {
            0 => {
                let v = rd32(d, other).unwrap_or(0);
                let v = if rng.one_in(2) {
                    v
                } else {
                    value(rng, rd32(d, at).unwrap_or(0), d.len(), v)
                };
                wr32(d, at, v);
            }
            f @ (1 | 2) => {
                let old = rd32(d, at + 4 * f).unwrap_or(0);
                let same = rd32(d, other + 4 * f).unwrap_or(0);
                let v = value(rng, old, d.len(), same);
                wr32(d, at + 4 * f, v);
            }
            3 => {
                // st_info: binding LOCAL/GLOBAL/WEAK/junk, type NOTYPE/OBJECT/
                // FUNC/SECTION/FILE/junk.
                let bind = *rng.pick(&[0u8, 1, 2, 10, 15]);
                let kind = *rng.pick(&[0u8, 1, 2, 3, 4, 6, 13]);
                d[at + 12] = bind << 4 | kind;
                if rng.one_in(4) {
                    d[at + 13] = rng.u32() as u8;
                }
            }
            _ => {
                let v = match rng.below(4) {
                    0 => 0,
                    1 => *rng.pick(&[0xfff1, 0xfff2, 0xff00, 0xffff, 0xfff3]),
                    2 => rng.below(nsec as usize + 2) as u16,
                    _ => rd16(d, other + 14).unwrap_or(0),
                };
                wr16(d, at + 14, v);
            }
        }
    }
    true
}

#[allow(clippy::ptr_arg)] // the one signature of all mutators
fn mut_reloc(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    let rels = entries(d, SHT_REL, 8);
    if rels.is_empty() {
        return false;
    }
    let nsyms = entries(d, SHT_SYMTAB, 16).len() as u32;
    for _ in 0..1 + rng.below(4) {
        let at = *rng.pick(&rels);
        let other = *rng.pick(&rels);
        let info = rd32(d, at + 4).unwrap_or(0);
        match rng.below(4) {
            0 => {
                let old = rd32(d, at).unwrap_or(0);
                let same = rd32(d, other).unwrap_or(0);
                let v = if rng.one_in(3) {
                    old & !3 | rng.below(4) as u32
                } else {
                    value(rng, old, d.len(), same)
                };
                wr32(d, at, v);
            }
            1 => wr32(d, at + 4, info & !0xff | *rng.pick(REL_TYPES)),
            2 => {
                let sym = match rng.below(4) {
                    0 => rng.below(nsyms as usize + 1) as u32,
                    1 => nsyms,
                    2 => rd32(d, other + 4).unwrap_or(0) >> 8,
                    _ => rng.u32() >> 8,
                };
                wr32(d, at + 4, sym << 8 | info & 0xff);
            }
            _ => {
                let v = rd32(d, other + 4).unwrap_or(0);
                wr32(d, at + 4, v);
            }
        }
    }
    true
}

/// The relocated place: a new branch immediate, MOVW/MOVT immediate or
/// word, so PLT counting and addend decoding see new values.
#[allow(clippy::ptr_arg)] // the one signature of all mutators
fn mut_place(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    let hs = headers(d);
    let mut places = Vec::new();
    for h in hs.iter().filter(|h| h.sh_type == SHT_REL) {
        let Some(r) = h.range(d.len()) else { continue };
        let Some(target) = rd32(d, h.at + 28).and_then(|i| hs.get(i as usize)) else {
            continue;
        };
        let Some(t) = target.range(d.len()) else {
            continue;
        };
        for e in r.step_by(8) {
            if let Some(off) = rd32(d, e) {
                let at = t.start + off as usize;
                if at + 4 <= t.end {
                    places.push(at);
                }
            }
        }
    }
    if places.is_empty() {
        return false;
    }
    for _ in 0..1 + rng.below(8) {
        let at = *rng.pick(&places);
        let old = rd32(d, at).unwrap_or(0);
        let v = match rng.below(4) {
            0 => old & 0xff00_0000 | rng.u32() >> 8,
            1 => old & 0xf800_f800 | rng.u32() & 0x07ff_07ff,
            2 => *rng.pick(INTERESTING),
            _ => rng.u32(),
        };
        wr32(d, at, v);
    }
    true
}

#[allow(clippy::ptr_arg)] // the one signature of all mutators
fn mut_bytes(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    if d.is_empty() {
        return false;
    }
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(d.len());
        match rng.below(3) {
            0 => d[at] ^= 1 << rng.below(8),
            1 => d[at] = *rng.pick(&[0, 1, 0x7f, 0x80, 0xff]),
            _ => d[at] = rng.u32() as u8,
        }
    }
    true
}

fn mut_truncate(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    if d.is_empty() {
        return false;
    }
    let hs = headers(d);
    let cut = if !hs.is_empty() && rng.one_in(2) {
        // At a section's start or end, or inside the header table.
        let h = rng.pick(&hs);
        match rng.below(3) {
            0 => h.offset as usize,
            1 => (h.offset.saturating_add(h.size) as usize).saturating_sub(1),
            _ => h.at + rng.below(SHDR),
        }
    } else {
        rng.below(d.len())
    };
    if cut >= d.len() {
        return false;
    }
    d.truncate(cut);
    true
}

/// Byte-level splice: this input's start, another's end.
fn mut_splice(rng: &mut Rng, d: &mut Vec<u8>, other: &[u8]) -> bool {
    if d.is_empty() || other.is_empty() {
        return false;
    }
    let at = rng.below(d.len());
    let from = if rng.one_in(2) {
        at.min(other.len() - 1)
    } else {
        rng.below(other.len())
    };
    d.truncate(at);
    d.extend_from_slice(&other[from..]);
    true
}

/// Section-level splice: append another module's section contents and
/// point one of this module's sections (or several) at them.
fn mut_graft(rng: &mut Rng, d: &mut Vec<u8>, other: &[u8]) -> bool {
    let ours = headers(d);
    let theirs = headers(other);
    if ours.is_empty() || theirs.is_empty() {
        return false;
    }
    let base = d.len().next_multiple_of(4);
    d.resize(base, 0);
    for _ in 0..1 + rng.below(3) {
        let (h, t) = (*rng.pick(&ours), *rng.pick(&theirs));
        let Some(r) = t.range(other.len()) else {
            continue;
        };
        let at = d.len();
        d.extend_from_slice(&other[r]);
        wr32(d, h.at + 16, at as u32);
        wr32(d, h.at + 20, t.size);
        if rng.one_in(2) {
            // Its whole header too (type, flags, link, info, align, entsize).
            let src = other.get(t.at..t.at + SHDR).unwrap_or_default().to_vec();
            if src.len() == SHDR && h.at + SHDR <= d.len() {
                d[h.at..h.at + 16].copy_from_slice(&src[..16]);
                d[h.at + 24..h.at + SHDR].copy_from_slice(&src[24..]);
            }
        }
    }
    true
}

/// Replicates the entries of a symbol or relocation table (up to 160,000
/// of them) at the end of the file, varied a little, and points the table
/// there: the scaling bugs need counts no sample module has. Varied
/// relocations become ARM calls at distinct places of a grown target
/// section (each BL its own addend, so its own PLT entry) to distinct
/// symbols; varied symbols become globals or COMMON symbols.
fn mut_replicate(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    let hs = headers(d);
    let tables: Vec<Shdr> = hs
        .iter()
        .filter(|h| matches!(h.sh_type, SHT_SYMTAB | SHT_REL) && h.range(d.len()).is_some())
        .copied()
        .collect();
    if tables.is_empty() {
        return false;
    }
    let h = *rng.pick(&tables);
    let Some(r) = h.range(d.len()) else {
        return false;
    };
    let entsize = if h.sh_type == SHT_SYMTAB { 16 } else { 8 };
    let n = r.len() / entsize;
    if n == 0 {
        return false;
    }
    let count = match rng.below(4) {
        0 => 2 + rng.below(64),
        1 => 1 << (6 + rng.below(12)),
        2 => 100_000 + rng.below(60_001),
        _ => n * (2 + rng.below(4)),
    };
    // 0: copies; 1: offsets and values step; 2: COMMON symbols or
    // distinct branches.
    let vary = rng.below(3);
    let nsyms = entries(d, SHT_SYMTAB, 16).len().max(2) as u32;
    let grow_target = h.sh_type == SHT_REL && vary == 2;
    let bytes = count * entsize + if grow_target { count * 4 } else { 0 };
    if d.len() + bytes > max_input() {
        return false;
    }
    let src = d[r].to_vec();
    let mut place_span = 0u32;
    if h.sh_type == SHT_REL {
        let target = rd32(d, h.at + 28).and_then(|i| hs.get(i as usize)).copied();
        place_span = target.map_or(0, |t| t.size & !3);
        if grow_target && let Some(t) = target {
            // New contents for the target: `count` BL instructions.
            let at = d.len().next_multiple_of(4);
            d.resize(at, 0);
            for _ in 0..count {
                d.extend_from_slice(&(0xeb00_0000 | rng.u32() >> 8).to_le_bytes());
            }
            wr32(d, t.at + 16, at as u32);
            wr32(d, t.at + 20, 4 * count as u32);
            place_span = 4 * count as u32;
        }
    }
    // The null symbol stays first.
    let keep = usize::from(h.sh_type == SHT_SYMTAB);
    let start = d.len();
    d.extend_from_slice(&src[..keep * entsize]);
    for i in 0..count.saturating_sub(keep) {
        let e = (keep + i % (n - keep).max(1)).min(n - 1);
        let mut entry = src[e * entsize..(e + 1) * entsize].to_vec();
        let step = 4 * i as u32;
        match (h.sh_type, vary) {
            (SHT_SYMTAB, 1) => {
                entry[12] = 1 << 4 | entry[12] & 0xf;
                let v = rd32(&entry, 4).unwrap_or(0).wrapping_add(step);
                wr32(&mut entry, 4, v);
            }
            (SHT_SYMTAB, 2) => {
                // COMMON: st_value is the alignment, st_size the size.
                entry[12] = 1 << 4 | 1;
                wr32(&mut entry, 4, 4);
                wr32(&mut entry, 8, 4 + 4 * (i as u32 % 8));
                wr16(&mut entry, 14, 0xfff2);
            }
            (_, 1) if place_span >= 4 => wr32(&mut entry, 0, step % place_span),
            (_, 2) if place_span >= 4 => {
                wr32(&mut entry, 0, step % place_span);
                let sym = 1 + i as u32 % (nsyms - 1);
                wr32(&mut entry, 4, sym << 8 | 28);
            }
            _ => {}
        }
        d.extend_from_slice(&entry);
    }
    let size = (d.len() - start) as u32;
    wr32(d, h.at + 16, start as u32);
    wr32(d, h.at + 20, size);
    true
}

/// Many names at one string: every symbol's (or section's) name offset
/// the same.
#[allow(clippy::ptr_arg)] // the one signature of all mutators
fn mut_same_name(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    if rng.one_in(2) {
        let syms = entries(d, SHT_SYMTAB, 16);
        if syms.is_empty() {
            return false;
        }
        let name = rd32(d, *rng.pick(&syms)).unwrap_or(0);
        for at in syms {
            if rng.one_in(2) {
                wr32(d, at, name);
            }
        }
    } else {
        let hs = headers(d);
        if hs.is_empty() {
            return false;
        }
        let name = rd32(d, rng.pick(&hs).at).unwrap_or(0);
        for h in hs {
            if rng.one_in(3) {
                wr32(d, h.at, name);
            }
        }
    }
    true
}

/// Sizes near 4 GiB where sizes are: NOBITS, COMMON symbols, alignment.
#[allow(clippy::ptr_arg)] // the one signature of all mutators
fn mut_huge(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    let huge = *rng.pick(&[
        0xfff0_0000,
        0xffff_f000,
        0x8000_0000,
        0x0100_0000,
        0x00ff_f001,
    ]);
    if rng.one_in(2) {
        let hs = headers(d);
        let nobits: Vec<&Shdr> = hs.iter().filter(|h| h.sh_type == SHT_NOBITS).collect();
        let h = if nobits.is_empty() || rng.one_in(4) {
            let Some(h) = hs.get(rng.below(hs.len())) else {
                return false;
            };
            h
        } else {
            *rng.pick(&nobits)
        };
        wr32(d, h.at + 20, huge);
    } else {
        let syms = entries(d, SHT_SYMTAB, 16);
        if syms.is_empty() {
            return false;
        }
        let at = *rng.pick(&syms);
        wr32(d, at + 8, huge);
    }
    true
}

/// Turns global symbols into COMMON ones (`-fcommon` tentative
/// definitions: st_value the alignment, st_size the size).
#[allow(clippy::ptr_arg)] // the one signature of all mutators
fn mut_common(rng: &mut Rng, d: &mut Vec<u8>, _: &[u8]) -> bool {
    let syms = entries(d, SHT_SYMTAB, 16);
    let globals: Vec<usize> = syms
        .into_iter()
        .filter(|&at| d[at + 12] >> 4 != 0)
        .collect();
    if globals.is_empty() {
        return false;
    }
    for _ in 0..1 + rng.below(4) {
        let at = *rng.pick(&globals);
        wr16(d, at + 14, 0xfff2);
        wr32(d, at + 4, *rng.pick(&[1, 2, 4, 8, 4096, 3, 0x2000]));
        let size = if rng.one_in(3) {
            *rng.pick(INTERESTING)
        } else {
            rng.below(64) as u32
        };
        wr32(d, at + 8, size);
    }
    true
}

// ---------------------------------------------------------------------
// The loop.

/// Inputs kept, by the stage they reached.
struct Corpus {
    seeds: Vec<Job>,
    buckets: Vec<Vec<Job>>,
    seen: HashSet<(Stage, String)>,
}

impl Corpus {
    fn parent(&self, rng: &mut Rng) -> Job {
        let filled: Vec<usize> = (0..Stage::COUNT)
            .filter(|&s| !self.buckets[s].is_empty())
            .collect();
        if filled.is_empty() || rng.one_in(10) {
            return rng.pick(&self.seeds).clone();
        }
        // Deeper stages weigh more: stage s counts 2^s.
        let total: usize = filled.iter().map(|&s| 1usize << s).sum();
        let mut x = rng.below(total);
        for &s in &filled {
            if x < 1 << s {
                return rng.pick(&self.buckets[s]).clone();
            }
            x -= 1 << s;
        }
        rng.pick(&self.seeds).clone()
    }

    fn any(&self, rng: &mut Rng) -> Job {
        let n: usize = self.buckets.iter().map(Vec::len).sum();
        if n == 0 || rng.one_in(2) {
            return rng.pick(&self.seeds).clone();
        }
        let mut x = rng.below(n);
        for b in &self.buckets {
            if x < b.len() {
                return b[x].clone();
            }
            x -= b.len();
        }
        rng.pick(&self.seeds).clone()
    }

    /// Keeps `input` if it reached somewhere new, or past validation.
    fn offer(&mut self, rng: &mut Rng, input: &Job, outcome: &Outcome) {
        let new = self.seen.insert((outcome.stage, outcome.detail.clone()));
        if input.len() > MAX_CORPUS_INPUT || (!new && outcome.stage == Stage::Invalid) {
            return;
        }
        let bucket = &mut self.buckets[outcome.stage as usize];
        if bucket.len() < BUCKET {
            bucket.push(input.clone());
        } else if new || rng.one_in(4) {
            let at = rng.below(bucket.len());
            bucket[at] = input.clone();
        }
    }
}

/// One mutated child of `parent`: one to four stacked mutations.
fn mutate(rng: &mut Rng, corpus: &Corpus, parent: &[u8], counts: &mut [u64]) -> Vec<u8> {
    let mut d = parent.to_vec();
    let total: usize = MUTATORS.iter().map(|m| m.2).sum();
    let rounds = 1 + rng.below(4).saturating_sub(rng.below(2));
    for _ in 0..rounds {
        let other = corpus.any(rng);
        for _attempt in 0..4 {
            let mut x = rng.below(total);
            let mut chosen = 0;
            for (i, m) in MUTATORS.iter().enumerate() {
                if x < m.2 {
                    chosen = i;
                    break;
                }
                x -= m.2;
            }
            if (MUTATORS[chosen].1)(rng, &mut d, &other) {
                counts[chosen] += 1;
                break;
            }
        }
    }
    d.truncate(max_input());
    d
}

/// The seeds: the sample modules, built.
fn seeds(root: &Path) -> Result<Vec<Job>> {
    let mut kos = modules::build_modules(root)?;
    kos.extend(modules::build_rust_modules(root)?);
    let mut out = Vec::new();
    for ko in kos {
        let data = std::fs::read(&ko).with_context(|| format!("reading {}", ko.display()))?;
        out.push(Arc::new(data));
    }
    Ok(out)
}

fn save_crash(root: &Path, input: &[u8], crash: &Crash) -> Result<PathBuf> {
    let dir = root.join(CRASH_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("crash-{}-{:016x}.ko", crash.tag(), fnv(input, 0)));
    std::fs::write(&path, input).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `cargo xtask fuzz`.
pub fn fuzz(root: &Path, args: &FuzzArgs) -> Result<u8> {
    if !args.replay.is_empty() {
        return replay(&args.replay);
    }
    setup_quiet_panics();
    MAX_INPUT.store(args.max_input, Ordering::Relaxed);
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let seeds = seeds(root)?;
    if seeds.is_empty() {
        bail!("no sample modules to start from");
    }
    process::step(format!(
        "fuzz: seed {seed} (repeat with --seed {seed}), {} seed modules, {} s{}",
        seeds.len(),
        args.time,
        args.runs
            .map(|r| format!(", at most {r} runs"))
            .unwrap_or_default()
    ));
    let mut rng = Rng::new(seed);
    let mut corpus = Corpus {
        seeds: seeds.clone(),
        buckets: vec![Vec::new(); Stage::COUNT],
        seen: HashSet::new(),
    };
    let mut runner = Runner::new(SLOW, HANG);
    let mut counts = vec![0u64; MUTATORS.len()];
    let mut reached = [0u64; Stage::COUNT];
    let started = Instant::now();
    let deadline = Duration::from_secs(args.time);
    let mut last_status = Instant::now();
    let mut execs = 0u64;
    let mut crash = None;
    while started.elapsed() < deadline && args.runs.is_none_or(|r| execs < r) {
        // The seeds unchanged first, then children.
        let input = match seeds.get(execs as usize) {
            Some(s) => s.clone(),
            None => {
                let parent = corpus.parent(&mut rng);
                Arc::new(mutate(&mut rng, &corpus, &parent, &mut counts))
            }
        };
        execs += 1;
        match runner.run(&input) {
            Ok(outcome) => {
                reached[outcome.stage as usize] += 1;
                corpus.offer(&mut rng, &input, &outcome);
            }
            Err(c) => {
                crash = Some((input, c, execs));
                break;
            }
        }
        if last_status.elapsed() >= Duration::from_secs(10) {
            last_status = Instant::now();
            status(execs, started.elapsed(), &reached, &corpus);
        }
    }
    let elapsed = started.elapsed();
    // Back to the default panic hook (`cargo xtask test` goes on).
    drop(std::panic::take_hook());
    status(execs, elapsed, &reached, &corpus);
    let used: Vec<String> = MUTATORS
        .iter()
        .zip(&counts)
        .map(|(m, n)| format!("{} {n}", m.0))
        .collect();
    process::step(format!("fuzz: mutations: {}", used.join(", ")));
    let crashes = match &crash {
        Some((input, c, n)) => {
            let path = save_crash(root, input, c)?;
            eprintln!(
                "fuzz: CRASH at execution {n} (seed {seed}): {c}\n\
                 fuzz: input ({} bytes) saved to {}\n\
                 fuzz: replay with `cargo xtask fuzz --replay {}`; keep it as a regression \
                 test by copying it to {REGRESSION_DIR}/",
                input.len(),
                path.display(),
                path.display(),
            );
            1
        }
        None => 0,
    };
    println!(
        "fuzz: {execs} executions in {:.1} s, {crashes} crashes",
        elapsed.as_secs_f64()
    );
    Ok(if crashes == 0 { 0 } else { 1 })
}

fn status(execs: u64, elapsed: Duration, reached: &[u64], corpus: &Corpus) {
    let names = [
        "invalid",
        "validated",
        "laid-out",
        "allocated",
        "linked",
        "exported",
        "loaded",
    ];
    let stages: Vec<String> = names
        .iter()
        .zip(reached)
        .zip(&corpus.buckets)
        .map(|((n, r), b)| format!("{n} {r} ({})", b.len()))
        .collect();
    process::step(format!(
        "fuzz: {execs} executions, {:.0}/s, {} outcomes; stages reached (kept): {}",
        execs as f64 / elapsed.as_secs_f64().max(1e-3),
        corpus.seen.len(),
        stages.join(", ")
    ));
}

/// Panics are caught and reported as crashes; the default hook's message
/// (with its location) is kept, but only the first one is printed, and
/// what the hook allocates (a backtrace) is not counted.
fn setup_quiet_panics() {
    let default = std::panic::take_hook();
    let printed = std::sync::atomic::AtomicBool::new(false);
    std::panic::set_hook(Box::new(move |info| {
        TRACK.with(|t| t.on.set(false));
        if !printed.swap(true, Ordering::SeqCst) {
            default(info);
        }
    }));
}

/// Runs each file through [`Runner`]; the list of failures.
pub fn check_files(files: &[PathBuf], slow: Duration, hang: Duration) -> Result<Vec<String>> {
    let mut runner = Runner::new(slow, hang);
    let mut failures = Vec::new();
    for f in files {
        let data = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        match runner.run(&Arc::new(data)) {
            Ok(o) => process::step(format!("fuzz: {}: {:?} {}", f.display(), o.stage, o.detail)),
            Err(c) => failures.push(format!("{}: {c}", f.display())),
        }
    }
    Ok(failures)
}

fn replay(files: &[PathBuf]) -> Result<u8> {
    let failures = check_files(files, SLOW, HANG)?;
    for f in &failures {
        eprintln!("fuzz: CRASH {f}");
    }
    println!(
        "fuzz: {} executions, {} crashes",
        files.len(),
        failures.len()
    );
    Ok(if failures.is_empty() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_drops_numbers_and_names() {
        assert_eq!(
            shape(
                r#"Reloc { section: ".text", index: 12, symbol: "a\"b", error: OutOfRange { r_type: 28, from: 0xbf000000 } }"#
            ),
            "Reloc { section: , index: , symbol: , error: OutOfRange { r_type: , from:  } }"
        );
        assert_eq!(shape("Thumb2 (\"x\", 3)"), "Thumb2 (, )");
    }

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..8).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(
            xs,
            (0..8).map(|_| Rng::new(8).next_u64()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn allocator_counts_and_stops() {
        let (v, stats) = guard(1 << 20, || vec![0u8; 1000]);
        assert_eq!(v.len(), 1000);
        assert!(stats.largest >= 1000 && stats.peak >= 1000, "{stats:?}");
        // Without a worker's flag an over-bound request is only counted...
        let (v, stats) = guard(100, || vec![0u8; 1000]);
        assert_eq!((v.len(), stats.largest), (1000, 1000));
        // ...on a worker it parks the thread before any memory is taken.
        let flag: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
        std::thread::spawn(move || {
            TRACK.with(|t| t.stop.set(Some(flag)));
            guard(1 << 20, || vec![0u8; 1 << 40]);
        });
        let started = Instant::now();
        while flag.load(Ordering::SeqCst) == 0 {
            assert!(started.elapsed() < Duration::from_secs(30), "not stopped");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(flag.load(Ordering::SeqCst), 1 << 40);
    }

    /// A small module: a BL to an undefined function, an ABS32 to it, a
    /// COMMON symbol of `common_size` bytes.
    fn module(common_size: u64) -> Vec<u8> {
        use object::write::{Object, Relocation, StandardSection, Symbol, SymbolSection};
        use object::{
            Architecture, BinaryFormat, Endianness, RelocationFlags, SymbolFlags, SymbolKind,
            SymbolScope,
        };
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.section_id(StandardSection::Text);
        o.append_section_data(text, &0xebff_fffeu32.to_le_bytes(), 4);
        let data = o.section_id(StandardSection::Data);
        o.append_section_data(data, &[0; 4], 4);
        let printk = o.add_symbol(Symbol {
            name: b"printk".to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Undefined,
            flags: SymbolFlags::None,
        });
        o.add_symbol(Symbol {
            name: b"big".to_vec(),
            value: 4,
            size: common_size,
            kind: SymbolKind::Data,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Common,
            flags: SymbolFlags::None,
        });
        for (section, r_type) in [
            (text, object::elf::R_ARM_CALL),
            (data, object::elf::R_ARM_ABS32),
        ] {
            let rel = Relocation {
                offset: 0,
                symbol: printk,
                addend: 0,
                flags: RelocationFlags::Elf { r_type },
            };
            o.add_relocation(section, rel).unwrap();
        }
        o.write().unwrap()
    }

    #[test]
    fn pipeline_runs_a_module() {
        let mut r = Runner::new(Duration::from_secs(60), Duration::from_secs(60));
        let ok = r.run(&Arc::new(module(16))).unwrap();
        // The resolver may leave printk unknown; otherwise it loads.
        assert!(ok.stage >= Stage::Allocated, "{ok:?}");
        // 0xfff00000 bytes of COMMON: refused before any image is
        // allocated (or the watchdog says why not).
        let huge = r.run(&Arc::new(module(0xfff0_0000)));
        assert!(
            matches!(&huge, Ok(o) if o.stage <= Stage::LaidOut),
            "{huge:?}"
        );
        let bad = r.run(&Arc::new(b"\x7fELF".to_vec())).unwrap();
        assert_eq!(bad.stage, Stage::Invalid);
    }

    #[test]
    fn mutators_keep_inputs_bounded() {
        let seed = module(16);
        let corpus = Corpus {
            seeds: vec![Arc::new(seed.clone())],
            buckets: vec![Vec::new(); Stage::COUNT],
            seen: HashSet::new(),
        };
        let mut rng = Rng::new(1);
        let mut counts = vec![0; MUTATORS.len()];
        for _ in 0..3000 {
            let d = mutate(&mut rng, &corpus, &seed, &mut counts);
            assert!(d.len() <= max_input());
        }
        // Every mutator applies to a well-formed module.
        for (i, n) in counts.iter().enumerate() {
            assert!(*n > 0, "{} never applied", MUTATORS[i].0);
        }
    }

    /// The committed crash reproducers: none may panic, be slow, or
    /// allocate beyond the bound; each ends in an error or a load.
    #[test]
    fn regressions() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(REGRESSION_DIR);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|x| x == "ko"));
        files.sort();
        assert!(!files.is_empty(), "no reproducers in {}", dir.display());
        // The fuzzer's own limits: a reproducer of a slow loader must fail
        // here too (each takes milliseconds on a sound one, and a slow
        // run is retried once).
        let failures = check_files(&files, SLOW, HANG).unwrap();
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
