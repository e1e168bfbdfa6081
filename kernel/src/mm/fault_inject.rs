//! Fault injection: make allocations fail on purpose, to prove that every
//! caller copes (Linux's lib/fault-inject.c with `failslab` and
//! `fail_page_alloc`, Documentation/fault-injection/fault-injection.txt).
//!
//! Three *sites* consult a [`FaultAttr`] before they allocate:
//!
//! - [`Site::Slab`] (`failslab=`): every heap request — `kmalloc` and the
//!   Rust global allocator, small and large. (Linux's `kmalloc_large` goes
//!   straight to the page allocator and so only meets `fail_page_alloc`;
//!   Kobold hooks the heap entry point itself, so a boot parameter can
//!   target "any heap allocation", and a large request then also meets
//!   `fail_page_alloc` underneath.) The size is the request in bytes.
//! - [`Site::PageAlloc`] (`fail_page_alloc=`): the buddy allocator's entry
//!   point `alloc_pages`, size `1 << order` pages, as Linux's
//!   `should_fail_alloc_page`.
//! - [`Site::VmapArea`] (`fail_vmap_area=`, Kobold's own): the reservation
//!   of a vmap area (vmalloc, vmap, ioremap, module_alloc); size in bytes,
//!   guard page included.
//!
//! The decision is Linux's `should_fail()`: nothing while `probability` is
//! 0 or `times` is 0; while `space` is larger than the request it is
//! consumed and the call passes; with `interval > 1` only every
//! `interval`-th remaining call is a candidate; a candidate fails with
//! `probability` percent (a seeded xorshift here, so runs repeat exactly);
//! each failure decrements `times` unless it is -1 (no limit). A failure
//! prints Linux's `FAULT_INJECTION: forcing a failure.` notice (rate
//! limited as Linux's: 10 messages per 5 s).
//!
//! Boot parameters use Linux's `setup_fault_attr` syntax
//! `<interval>,<probability>,<space>,<times>`; anything else is reported as
//! Linux does ("FAULT_INJECTION: failed to parse arguments") and ignored.
//! Kobold has no debugfs, so Linux's filters (ignore-gfp-wait,
//! ignore-gfp-highmem, min-order, cache-filter, task-filter, stacktrace
//! depth) do not exist: every call of a site is eligible.
//!
//! [`fail_nth`] is Linux's `/proc/self/fail-nth` for the whole kernel:
//! from now on count every call of every site and fail exactly the n-th,
//! whatever the attributes say; [`disarm`] stops counting and says how
//! many calls were seen and whether the n-th came. A self-test loops over
//! n = 1, 2, ... until an operation completes without reaching its n-th
//! allocation, so that every allocation of the operation has failed once.
//!
//! The logic is the pure [`FaultState`], tested on the host; the kernel
//! keeps one behind a lock, with an atomic "anything armed?" flag so that
//! the hooks cost one load when fault injection is off.

use crate::sync::Mutex;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

/// Where an allocation is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    /// The kernel heap (`failslab`).
    Slab = 0,
    /// The buddy allocator (`fail_page_alloc`).
    PageAlloc = 1,
    /// vmap area reservation (`fail_vmap_area`).
    VmapArea = 2,
}

impl Site {
    pub const ALL: [Site; 3] = [Site::Slab, Site::PageAlloc, Site::VmapArea];

    /// The attribute's name (Linux's debugfs directory, and the boot
    /// parameter without `=`).
    pub const fn name(self) -> &'static str {
        match self {
            Site::Slab => "failslab",
            Site::PageAlloc => "fail_page_alloc",
            Site::VmapArea => "fail_vmap_area",
        }
    }
}

/// A small deterministic PRNG (xorshift32) standing in for `prandom_u32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prng(u32);

impl Prng {
    /// A generator started at `seed` (0 is replaced: xorshift sticks at 0).
    pub const fn new(seed: u32) -> Self {
        Prng(if seed == 0 { 0x2545_f491 } else { seed })
    }

    pub fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

/// Linux's `struct fault_attr` (the fields a boot parameter sets, and the
/// running state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultAttr {
    /// Percent chance that a candidate call fails (0 = off; ≥ 100 always).
    pub probability: u32,
    /// Only every `interval`-th call that gets this far is a candidate.
    pub interval: u32,
    /// Failures left; -1 = unlimited, 0 = done.
    pub times: i32,
    /// Size budget consumed by passing calls before failures may start.
    pub space: i32,
    /// Linux's `verbose`: 0 silent, ≥ 1 prints the notice on failure.
    pub verbose: u32,
    /// Candidate calls counted for `interval`.
    pub count: u32,
    pub rng: Prng,
}

impl FaultAttr {
    /// Linux's `FAULT_ATTR_INITIALIZER`: off, interval 1, times 1, verbose.
    pub const fn new(seed: u32) -> Self {
        FaultAttr {
            probability: 0,
            interval: 1,
            times: 1,
            space: 0,
            verbose: 1,
            count: 0,
            rng: Prng::new(seed),
        }
    }

    /// Linux's `setup_fault_attr`: `"<interval>,<probability>,<space>,<times>"`.
    /// On success the four values replace the attribute's (the running
    /// count restarts).
    pub fn setup(&mut self, s: &str) -> Result<(), ParseError> {
        let mut it = s.split(',');
        let mut field = || it.next().ok_or(ParseError);
        let interval = parse_u32(field()?)?;
        let probability = parse_u32(field()?)?;
        let space = parse_i32(field()?)?;
        let times = parse_i32(field()?)?;
        if it.next().is_some() {
            return Err(ParseError);
        }
        self.interval = interval;
        self.probability = probability;
        self.space = space;
        self.times = times;
        self.count = 0;
        Ok(())
    }

    /// Linux's `should_fail(attr, size)` without the fail-nth part.
    pub fn should_fail(&mut self, size: usize) -> bool {
        if self.probability == 0 || self.times == 0 {
            return false;
        }
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        if i64::from(self.space) > size {
            // space > size ≥ 0, so the difference fits an i32.
            self.space = (i64::from(self.space) - size) as i32;
            return false;
        }
        if self.interval > 1 {
            self.count = self.count.wrapping_add(1);
            if !self.count.is_multiple_of(self.interval) {
                return false;
            }
        }
        if self.probability <= self.rng.next_u32() % 100 {
            return false;
        }
        if self.times != -1 {
            // atomic_dec_not_zero: times is not 0 here.
            self.times = self.times.wrapping_sub(1);
        }
        true
    }
}

impl fmt::Display for FaultAttr {
    /// The second line of Linux's notice.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "interval {}, probability {}, space {}, times {}",
            self.interval, self.probability, self.space, self.times
        )
    }
}

/// A malformed `<interval>,<probability>,<space>,<times>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError;

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FAULT_INJECTION: failed to parse arguments")
    }
}

/// `%lu`: decimal or 0x-hex, no sign, no overflow.
fn parse_u32(s: &str) -> Result<u32, ParseError> {
    let s = s.trim();
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse::<u32>(),
    };
    r.map_err(|_| ParseError)
}

/// `%d`: optional minus sign.
fn parse_i32(s: &str) -> Result<i32, ParseError> {
    let s = s.trim();
    match s.strip_prefix('-') {
        Some(rest) => {
            let v = parse_u32(rest)?;
            0i32.checked_sub_unsigned(v).ok_or(ParseError)
        }
        None => i32::try_from(parse_u32(s)?).map_err(|_| ParseError),
    }
}

/// Calls and injected failures of one site.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SiteCounters {
    /// Calls seen while fault injection was armed (any site or fail_nth).
    pub calls: u64,
    /// Sum of their sizes (bytes, or pages for `fail_page_alloc`).
    pub size: u64,
    /// Failures injected.
    pub failures: u64,
}

/// The kernel-wide `fail-nth` counter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Nth {
    armed: bool,
    target: u32,
    seen: u32,
    fired: bool,
}

/// Why a call was made to fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fired {
    /// The attribute's own rules.
    Attr,
    /// The n-th call after [`fail_nth`].
    Nth(u32),
}

/// Linux's ratelimit defaults: 10 messages per 5 s.
const RATELIMIT_BURST: u32 = 10;
const RATELIMIT_INTERVAL_NS: u64 = 5_000_000_000;

/// Every site's attribute, counters, and the fail-nth counter.
#[derive(Clone, Debug)]
pub struct FaultState {
    pub attrs: [FaultAttr; 3],
    pub counters: [SiteCounters; 3],
    nth: Nth,
    window_start_ns: u64,
    printed: u32,
    suppressed: u32,
}

impl Default for FaultState {
    fn default() -> Self {
        Self::new()
    }
}

impl FaultState {
    pub const fn new() -> Self {
        FaultState {
            attrs: [
                FaultAttr::new(0x0000_5eed),
                FaultAttr::new(0x000f_a11c),
                FaultAttr::new(0x00a4_ea00),
            ],
            counters: [SiteCounters {
                calls: 0,
                size: 0,
                failures: 0,
            }; 3],
            nth: Nth {
                armed: false,
                target: 0,
                seen: 0,
                fired: false,
            },
            window_start_ns: 0,
            printed: 0,
            suppressed: 0,
        }
    }

    /// Whether any call can fail: the hooks skip the lock when not.
    pub fn armed(&self) -> bool {
        self.nth.armed
            || self
                .attrs
                .iter()
                .any(|a| a.probability != 0 && a.times != 0)
    }

    /// One call of `site` for `size`: fail it?
    pub fn should_fail(&mut self, site: Site, size: usize) -> Option<Fired> {
        let c = &mut self.counters[site as usize];
        c.calls += 1;
        c.size = c.size.saturating_add(size as u64);
        let fired = if self.nth.armed {
            self.nth.seen = self.nth.seen.saturating_add(1);
            if !self.nth.fired && self.nth.seen == self.nth.target {
                self.nth.fired = true;
                Some(Fired::Nth(self.nth.target))
            } else {
                None
            }
        } else {
            None
        };
        let fired = fired.or_else(|| {
            self.attrs[site as usize]
                .should_fail(size)
                .then_some(Fired::Attr)
        });
        if fired.is_some() {
            c.failures += 1;
        }
        fired
    }

    /// Arms fail-nth: the `n`-th call from now (1 = the next) fails; 0
    /// disarms.
    pub fn fail_nth(&mut self, n: u32) {
        self.nth = Nth {
            armed: n != 0,
            target: n,
            seen: 0,
            fired: false,
        };
    }

    /// Disarms fail-nth: (calls seen since [`FaultState::fail_nth`],
    /// whether the n-th failed).
    pub fn disarm(&mut self) -> (u32, bool) {
        let r = (self.nth.seen, self.nth.fired);
        self.nth = Nth::default();
        r
    }

    /// Linux's `__ratelimit`: may a notice be printed at `now_ns`? Returns
    /// the number of notices suppressed before this one (to report).
    pub fn ratelimit(&mut self, now_ns: u64) -> Option<u32> {
        if self.printed == 0 || now_ns.saturating_sub(self.window_start_ns) >= RATELIMIT_INTERVAL_NS
        {
            self.window_start_ns = now_ns;
            self.printed = 0;
        }
        if self.printed < RATELIMIT_BURST {
            self.printed += 1;
            Some(core::mem::take(&mut self.suppressed))
        } else {
            self.suppressed = self.suppressed.saturating_add(1);
            None
        }
    }
}

static STATE: Mutex<FaultState> = Mutex::new(FaultState::new());

/// Depth of [`nofail`] sections.
static NOFAIL: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

/// Runs `f` with injection off, as Linux's failslab skips `__GFP_NOFAIL`
/// allocations: for code whose allocations are infallible (a crate's) and
/// bounded, after the caller reserved their budget fallibly (the module
/// signature verifier, module/signing.rs).
pub fn nofail<R>(f: impl FnOnce() -> R) -> R {
    NOFAIL.fetch_add(1, Ordering::Relaxed);
    let r = f();
    NOFAIL.fetch_sub(1, Ordering::Relaxed);
    r
}
static ARMED: AtomicBool = AtomicBool::new(false);

fn update_armed(s: &FaultState) {
    ARMED.store(s.armed(), Ordering::Relaxed);
}

/// The hook: `true` when this allocation must fail. Prints Linux's notice
/// (rate limited) when it does. Takes no lock the allocators hold and
/// allocates nothing.
pub fn should_fail(site: Site, size: usize) -> bool {
    if !ARMED.load(Ordering::Relaxed) || NOFAIL.load(Ordering::Relaxed) > 0 {
        return false;
    }
    let mut s = STATE.lock();
    // Linux's fail_dump shows the attribute before `times` is decremented.
    let attr = s.attrs[site as usize];
    let Some(fired) = s.should_fail(site, size) else {
        return false;
    };
    let print = (attr.verbose > 0 || matches!(fired, Fired::Nth(_)))
        .then(|| s.ratelimit(crate::time::now_ns()))
        .flatten();
    update_armed(&s);
    drop(s);
    if let Some(suppressed) = print {
        if suppressed > 0 {
            crate::pr_warn!("fault_inject: {suppressed} callbacks suppressed");
        }
        crate::pr_notice!(
            "FAULT_INJECTION: forcing a failure.\nname {}, {attr}",
            site.name()
        );
    }
    true
}

/// Sets `site`'s attribute from a boot parameter value; on a malformed
/// value prints Linux's warning and leaves the attribute as it was.
pub fn setup(site: Site, value: &str) -> Result<(), ParseError> {
    let mut s = STATE.lock();
    let r = s.attrs[site as usize].setup(value);
    update_armed(&s);
    drop(s);
    if let Err(e) = r {
        crate::pr_warn!("{e}");
    }
    r
}

/// `site`'s attribute now.
pub fn attr(site: Site) -> FaultAttr {
    STATE.lock().attrs[site as usize]
}

/// Calls and failures of `site` so far.
pub fn counters(site: Site) -> SiteCounters {
    STATE.lock().counters[site as usize]
}

/// Counts every allocation (page, heap, vmap area) from now on and makes
/// the `n`-th fail (1 = the next one); `n == 0` disarms.
pub fn fail_nth(n: u32) {
    let mut s = STATE.lock();
    s.fail_nth(n);
    update_armed(&s);
}

/// Stops [`fail_nth`]: returns (allocations seen since it was armed,
/// whether the n-th was made to fail).
pub fn disarm() -> (u32, bool) {
    let mut s = STATE.lock();
    let r = s.disarm();
    update_armed(&s);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(s: &str) -> FaultAttr {
        let mut a = FaultAttr::new(1);
        a.setup(s).unwrap();
        a
    }

    #[test]
    fn parses_linux_syntax() {
        let a = attr("1,100,0,-1");
        assert_eq!(
            (a.interval, a.probability, a.space, a.times),
            (1, 100, 0, -1)
        );
        let a = attr("10,50,0x1000,3");
        assert_eq!(
            (a.interval, a.probability, a.space, a.times),
            (10, 50, 4096, 3)
        );
        for bad in [
            "",
            "1",
            "1,100",
            "1,100,0",
            "1,100,0,1,5",
            "x,1,1,1",
            "1,,0,1",
            "-1,1,1,1",
            "1,100,0,2147483648",
            "1,100,0,-2147483649",
            "1,100,0,1x",
        ] {
            let mut a = FaultAttr::new(1);
            assert_eq!(a.setup(bad), Err(ParseError), "{bad:?}");
            assert_eq!(a, FaultAttr::new(1), "a bad value changes nothing");
        }
        assert_eq!(attr("1,1,-2147483648,0").space, i32::MIN);
        assert_eq!(
            ParseError.to_string(),
            "FAULT_INJECTION: failed to parse arguments"
        );
    }

    #[test]
    fn off_by_default_and_times() {
        let mut a = FaultAttr::new(7);
        assert!((0..1000).all(|_| !a.should_fail(8)));
        let mut a = attr("1,100,0,2");
        assert!(a.should_fail(8));
        assert!(a.should_fail(8));
        assert_eq!(a.times, 0);
        assert!((0..100).all(|_| !a.should_fail(8)), "times exhausted");
        let mut a = attr("1,100,0,-1");
        assert!((0..100).all(|_| a.should_fail(8)), "unlimited");
        assert_eq!(a.times, -1);
    }

    #[test]
    fn interval_picks_every_nth() {
        let mut a = attr("3,100,0,-1");
        let pattern: Vec<bool> = (0..9).map(|_| a.should_fail(1)).collect();
        assert_eq!(
            pattern,
            [false, false, true, false, false, true, false, false, true]
        );
    }

    #[test]
    fn space_is_a_budget() {
        // Linux: space > size passes and is consumed; the first request
        // at least as large as what is left fails.
        let mut a = attr("1,100,100,1");
        assert!(!a.should_fail(40));
        assert!(!a.should_fail(40));
        assert_eq!(a.space, 20);
        assert!(a.should_fail(20));
        assert!(!a.should_fail(20), "times 1: once only");
        // A request at least as big as the whole budget fails at once.
        let mut a = attr("1,100,4096,1");
        assert!(a.should_fail(4096));
        let mut a = attr("1,100,4096,1");
        assert!(!a.should_fail(4095));
        assert!(a.should_fail(4095), "1 byte left");
    }

    #[test]
    fn probability_is_deterministic_and_about_right() {
        let run = || {
            let mut a = attr("1,30,0,-1");
            (0..10_000).filter(|_| a.should_fail(1)).count()
        };
        let n = run();
        assert_eq!(n, run(), "seeded: the same every time");
        assert!((2_700..3_300).contains(&n), "{n} failures of 10000 at 30%");
        let mut a = attr("1,100,0,-1");
        assert!((0..1000).all(|_| a.should_fail(1)));
        let mut a = attr("1,250,0,-1");
        assert!((0..1000).all(|_| a.should_fail(1)), "above 100 = always");
    }

    #[test]
    fn fail_nth_counts_every_site() {
        let mut s = FaultState::new();
        assert!(!s.armed());
        s.fail_nth(3);
        assert!(s.armed());
        assert_eq!(s.should_fail(Site::Slab, 8), None);
        assert_eq!(s.should_fail(Site::PageAlloc, 1), None);
        assert_eq!(s.should_fail(Site::VmapArea, 8192), Some(Fired::Nth(3)));
        assert_eq!(s.should_fail(Site::Slab, 8), None, "only the n-th");
        assert_eq!(s.disarm(), (4, true));
        assert!(!s.armed());
        assert_eq!(s.counters[Site::VmapArea as usize].failures, 1);
        assert_eq!(s.counters[Site::Slab as usize].calls, 2);
        s.fail_nth(10);
        for _ in 0..5 {
            assert_eq!(s.should_fail(Site::Slab, 1), None);
        }
        assert_eq!(s.disarm(), (5, false), "never reached");
        s.fail_nth(0);
        assert!(!s.armed());
    }

    #[test]
    fn attrs_are_per_site() {
        let mut s = FaultState::new();
        s.attrs[Site::PageAlloc as usize]
            .setup("1,100,0,1")
            .unwrap();
        assert!(s.armed());
        assert_eq!(s.should_fail(Site::Slab, 8), None);
        assert_eq!(s.should_fail(Site::VmapArea, 8), None);
        assert_eq!(s.should_fail(Site::PageAlloc, 1), Some(Fired::Attr));
        assert_eq!(s.should_fail(Site::PageAlloc, 1), None);
        assert!(!s.armed(), "times used up");
    }

    #[test]
    fn ratelimit_like_linux() {
        let mut s = FaultState::new();
        for _ in 0..10 {
            assert_eq!(s.ratelimit(1_000), Some(0));
        }
        assert_eq!(s.ratelimit(2_000), None);
        assert_eq!(s.ratelimit(3_000), None);
        assert_eq!(s.ratelimit(1_000 + RATELIMIT_INTERVAL_NS), Some(2));
        assert_eq!(s.ratelimit(1_000 + RATELIMIT_INTERVAL_NS), Some(0));
    }
}
