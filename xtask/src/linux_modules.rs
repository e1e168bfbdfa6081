//! `cargo xtask linux-modules`: Debian's own armhf `.ko` files against
//! Kobold (issue 11).
//!
//! 1. **The package.** Debian's `linux-image-6.1.0-N-armmp` (armhf) is
//!    fetched when the command runs, never committed: `dpkg
//!    --add-architecture armhf`, `apt-get update`, `apt-get download` of the
//!    newest `linux-image-6.1.0-*-armmp:armhf` into [`CACHE`], unpacked with
//!    `dpkg-deb -x`. The unpacked tree is reused on the next run; `--deb
//!    FILE` unpacks a package already downloaded; `KOBOLD_DEBIAN_ROOT` names
//!    an unpacked tree. When none of that works, the command (and the QEMU
//!    cases that need the package) says why and skips.
//! 2. **What the kernel exports.** The names come from the *built* kernel,
//!    never from a list kept here: xtask boots it and reads
//!    `/sys/kernel/kobold/exports/linux-6.1`, where the kernel lists its 6.1
//!    personality's table (`module::linux61::exports()`), as a distribution
//!    reads `Module.symvers`.
//! 3. **Which modules Kobold can satisfy.** Each module's imports (its
//!    undefined, non-weak symbols) must be in that table or exported by
//!    another module of the package that is itself satisfiable (loaded
//!    first, as modprobe loads `depends=`). The symbols missing for the
//!    rest are ranked by how many modules each would unlock on its own
//!    ([`unlocked_by`]: the modules that would become satisfiable, over the
//!    dependency closure, if the kernel exported that one symbol more; a
//!    module whose dependency still misses another symbol is not counted),
//!    and how many modules import it directly.
//! 4. **Loading them.** One boot of a kernel whose initramfs holds the
//!    satisfiable modules, and for each, a script: `cat /proc/meminfo`,
//!    `insmod` of its dependencies and itself, `rmmod` in reverse order
//!    (then of the modules its init requested, [`REQUESTS`]), `cat
//!    /proc/meminfo`. The modules are in the initramfs's `/lib/modules`,
//!    where the kernel's `request_module` finds them. A module counts as *loaded and unloaded cleanly*
//!    when every `insmod` and `rmmod` succeeded with no oops and `MemFree`
//!    came back (within [`MEMFREE_TOLERANCE_KB`]). A table, then the line
//!    `linux-modules: L loaded and unloaded cleanly, of T modules in the
//!    package`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::config::{Build, Console, DEFAULT_APPEND, Qemu, Variant};
use crate::harness::{self, Input, Outcome, Transcript};
use crate::{build, process};

/// Where the package is downloaded and unpacked (under the workspace).
pub const CACHE: &str = "target/linux-modules";

/// Where the kernel lists the 6.1 personality's export names
/// (`module::kernel::EXPORTS_DIR` + the ABI's name).
pub const EXPORTS_FILE: &str = "/sys/kernel/kobold/exports/linux-6.1";

/// How far `MemFree` may end from where it started after a module was
/// loaded and unloaded (the kmalloc heap keeps a grown region).
pub const MEMFREE_TOLERANCE_KB: i64 = 64;

/// The package's name pattern: `linux-image-6.1.0-N-armmp`.
const PACKAGE_PREFIX: &str = "linux-image-6.1.0-";
const PACKAGE_SUFFIX: &str = "-armmp";

#[derive(Clone, Debug, Default, Args)]
pub struct LinuxModulesArgs {
    /// Print every module's verdict and every missing symbol, not only the
    /// satisfiable modules and the top of the ranking.
    #[arg(long)]
    pub all: bool,
    /// Use this downloaded .deb instead of fetching one with apt.
    #[arg(long, value_name = "FILE")]
    pub deb: Option<PathBuf>,
    /// Only analyse the imports: do not boot the kernel to load modules
    /// (the 6.1 export names still come from one short boot).
    #[arg(long)]
    pub no_load: bool,
}

// ---------------------------------------------------------------------------
// The package.

/// Runs `cmd` quietly; `Err` with its stderr when it fails.
fn quiet(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("running {}", process::describe(cmd)))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            process::describe(cmd),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `lib/modules/VERSION/kernel` directory of an unpacked package.
pub fn modules_dir(pkg_root: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(pkg_root.join("lib/modules"))
        .ok()?
        .flatten()
        .map(|e| e.path().join("kernel"))
        .filter(|k| k.is_dir())
        .collect();
    found.sort();
    found.pop()
}

/// The newest `linux-image-6.1.0-N-armmp` among `apt-cache search`'s lines.
pub fn newest_package(search: &str) -> Option<String> {
    search
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|name| {
            let n = name
                .strip_prefix(PACKAGE_PREFIX)?
                .strip_suffix(PACKAGE_SUFFIX)?;
            let abi: u32 = n.parse().ok()?;
            Some((abi, name.to_string()))
        })
        .max()
        .map(|(_, name)| name)
}

/// Unpacks `deb` into `dir/root` (replacing what was there).
fn unpack(deb: &Path, dir: &Path) -> Result<PathBuf> {
    let root = dir.join("root");
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    process::step(format!("unpacking {} with dpkg-deb -x", deb.display()));
    quiet(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&root))?;
    Ok(root)
}

/// Downloads the newest package with apt into `cache` and unpacks it.
fn fetch(cache: &Path) -> Result<PathBuf> {
    process::step("fetching Debian's linux-image-6.1.0-*-armmp:armhf with apt");
    let foreign = quiet(Command::new("dpkg").arg("--print-foreign-architectures"))?;
    if !foreign.lines().any(|l| l.trim() == "armhf") {
        quiet(Command::new("dpkg").args(["--add-architecture", "armhf"]))?;
    }
    let search = |()| {
        quiet(Command::new("apt-cache").args([
            "search",
            "--names-only",
            r"^linux-image-6\.1\.0-[0-9]+-armmp$",
        ]))
    };
    // The lists may already know the package (no update needed); if not,
    // update them once.
    let name = match search(()).ok().as_deref().and_then(newest_package) {
        Some(n) => n,
        None => {
            quiet(Command::new("apt-get").args(["update", "-qq"]))?;
            newest_package(&search(())?)
                .context("apt-cache search finds no linux-image-6.1.0-*-armmp package")?
        }
    };
    fs::create_dir_all(cache).with_context(|| format!("creating {}", cache.display()))?;
    process::step(format!("apt-get download {name}:armhf"));
    quiet(
        Command::new("apt-get")
            .args(["download", "-qq"])
            .arg(format!("{name}:armhf"))
            .current_dir(cache),
    )?;
    let deb = fs::read_dir(cache)?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&name) && n.ends_with("_armhf.deb"))
        })
        .context("apt-get download left no .deb")?;
    unpack(&deb, cache)
}

/// The unpacked package's root (holding `lib/modules`): `deb` unpacked,
/// or `KOBOLD_DEBIAN_ROOT`, or the cache, or (with `allow_fetch`) a fresh
/// download. `Ok(None)` with the reason when there is none.
pub fn package_root(
    root: &Path,
    deb: Option<&Path>,
    allow_fetch: bool,
) -> Result<std::result::Result<PathBuf, String>> {
    let cache = root.join(CACHE);
    if let Some(deb) = deb {
        return unpack(deb, &cache).map(Ok);
    }
    if let Some(dir) = std::env::var_os("KOBOLD_DEBIAN_ROOT") {
        let dir = PathBuf::from(dir);
        return Ok(match modules_dir(&dir) {
            Some(_) => Ok(dir),
            None => Err(format!(
                "KOBOLD_DEBIAN_ROOT={} holds no lib/modules/*/kernel",
                dir.display()
            )),
        });
    }
    let cached = cache.join("root");
    if modules_dir(&cached).is_some() {
        return Ok(Ok(cached));
    }
    if !allow_fetch {
        return Ok(Err(format!(
            "Debian's package is not unpacked in {CACHE} (run `cargo xtask linux-modules`)"
        )));
    }
    Ok(fetch(&cache)
        .map_err(|e| format!("Debian's archive is unreachable or apt cannot download ({e:#})")))
}

/// For QEMU cases: the unpacked package, fetched if need be; the reason to
/// skip otherwise. Looked up once per run.
pub fn package_for_tests() -> std::result::Result<PathBuf, String> {
    static ROOT: std::sync::OnceLock<std::result::Result<PathBuf, String>> =
        std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let root = crate::workspace_root().map_err(|e| format!("{e:#}"))?;
        package_root(&root, None, true).map_err(|e| format!("{e:#}"))?
    })
    .clone()
}

/// The bytes of the package's module `file` (e.g. `tuner-types.ko`), for
/// a QEMU case's initramfs; empty when the package is not there (the case
/// is then skipped).
pub fn debian_module(file: &str) -> Vec<u8> {
    let Ok(pkg) = package_for_tests() else {
        return Vec::new();
    };
    let Some(dir) = modules_dir(&pkg) else {
        return Vec::new();
    };
    find_file(&dir, file)
        .and_then(|p| fs::read(p).ok())
        .unwrap_or_default()
}

/// A file called `name` under `dir`, searched recursively.
pub fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find_file(&p, name) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

// ---------------------------------------------------------------------------
// The modules' imports.

/// One `.ko` of the package.
#[derive(Clone, Debug, Default)]
pub struct Ko {
    /// Path under `lib/modules/VERSION/kernel`.
    pub rel: String,
    pub path: PathBuf,
    /// The module's name (`.modinfo` `name=`, else the file's, `-` as `_`).
    pub name: String,
    /// Undefined, non-weak symbols.
    pub imports: BTreeSet<String>,
    /// Names in its `__ksymtab_strings`.
    pub exports: BTreeSet<String>,
    /// Why the loader refused the file, if it did.
    pub invalid: Option<String>,
}

/// Reads what [`Ko`] holds from a module file's bytes.
pub fn read_ko(rel: &str, path: &Path, file: &[u8]) -> Ko {
    let stem = Path::new(rel)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .replace('-', "_");
    let mut ko = Ko {
        rel: rel.to_string(),
        path: path.to_path_buf(),
        name: stem,
        ..Ko::default()
    };
    let elf = match kobold_loader::signature::split(file) {
        Ok((elf, _)) => elf,
        Err(e) => {
            ko.invalid = Some(e.to_string());
            return ko;
        }
    };
    let m = match kobold_loader::validate(elf) {
        Ok(m) => m,
        Err(e) => {
            ko.invalid = Some(e.to_string());
            return ko;
        }
    };
    if let Some(n) = m.modinfo_get("name") {
        ko.name = n.to_string();
    }
    const STB_WEAK: u8 = 2;
    ko.imports = m
        .symbols
        .iter()
        .skip(1)
        .filter(|s| s.is_undefined() && s.binding() != STB_WEAK && !s.name.is_empty())
        .map(|s| s.name.to_string())
        .collect();
    for s in m.sections.iter().filter(|s| s.name == "__ksymtab_strings") {
        for name in s.data.unwrap_or(&[]).split(|&b| b == 0) {
            if let Ok(n) = std::str::from_utf8(name)
                && !n.is_empty()
            {
                ko.exports.insert(n.to_string());
            }
        }
    }
    ko
}

/// Every `.ko` under `dir`, sorted by path.
pub fn scan(dir: &Path) -> Result<Vec<Ko>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ko") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = Vec::with_capacity(files.len());
    for p in files {
        let bytes = fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
        let rel = p
            .strip_prefix(dir)
            .unwrap_or(&p)
            .to_string_lossy()
            .into_owned();
        out.push(read_ko(&rel, &p, &bytes));
    }
    Ok(out)
}

/// What the kernel's exports make of the package.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Satisfiable modules, each after every module it needs.
    pub order: Vec<usize>,
    /// For each satisfiable module: the modules it needs, in load order
    /// (itself last).
    pub closure: HashMap<usize, Vec<usize>>,
    /// For each module that is not: the symbols neither the kernel nor any
    /// module of the package exports.
    pub missing: BTreeMap<usize, BTreeSet<String>>,
    /// Missing symbols: (name, modules that would load with it alone,
    /// modules needing it), best first.
    pub ranking: Vec<(String, usize, usize)>,
}

/// Which modules the kernel's export names (`kernel`) satisfy, with the
/// package's own exports between modules (see the module doc).
pub fn analyse(kos: &[Ko], kernel: &HashSet<String>) -> Analysis {
    // Who exports what (first module in path order for duplicates).
    let mut provider: HashMap<&str, usize> = HashMap::new();
    for (i, k) in kos.iter().enumerate() {
        if k.invalid.is_none() {
            for e in &k.exports {
                provider.entry(e.as_str()).or_insert(i);
            }
        }
    }
    let mut a = Analysis::default();
    let mut sat = vec![false; kos.len()];
    // Fixpoint: a module is satisfiable when each import is the kernel's
    // or a satisfiable module's.
    loop {
        let mut changed = false;
        for (i, k) in kos.iter().enumerate() {
            if sat[i] || k.invalid.is_some() {
                continue;
            }
            let ok = k.imports.iter().all(|s| {
                kernel.contains(s) || provider.get(s.as_str()).is_some_and(|&p| p != i && sat[p])
            });
            if ok {
                sat[i] = true;
                a.order.push(i);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for &i in &a.order {
        let mut need = Vec::new();
        closure(kos, kernel, &provider, i, &mut need);
        a.closure.insert(i, need);
    }
    let mut needed: BTreeMap<String, usize> = BTreeMap::new();
    for (i, k) in kos.iter().enumerate() {
        if sat[i] || k.invalid.is_some() {
            continue;
        }
        let missing: BTreeSet<String> = k
            .imports
            .iter()
            .filter(|s| !kernel.contains(*s) && !provider.contains_key(s.as_str()))
            .cloned()
            .collect();
        for s in &missing {
            *needed.entry(s.clone()).or_default() += 1;
        }
        a.missing.insert(i, missing);
    }
    a.ranking = needed
        .into_iter()
        .map(|(s, all)| {
            let alone = unlocked_by(kos, kernel, &provider, &sat, &s);
            (s, alone, all)
        })
        .collect();
    a.ranking
        .sort_by(|x, y| (y.1, y.2).cmp(&(x.1, x.2)).then(x.0.cmp(&y.0)));
    a
}

/// How many modules would become satisfiable if the kernel also exported
/// `extra`: the fixpoint of [`analyse`] again, over the dependency
/// closure, but started from the modules already satisfiable (`sat`) and
/// grown only from the users of `extra` (satisfiability only grows, so
/// the result is the same as a fixpoint from scratch). A module whose only
/// missing symbol is `extra` is not counted when a module it needs still
/// misses another symbol; a module missing nothing itself is counted when
/// `extra` is all its dependencies lacked.
pub fn unlocked_by(
    kos: &[Ko],
    kernel: &HashSet<String>,
    provider: &HashMap<&str, usize>,
    sat: &[bool],
    extra: &str,
) -> usize {
    // users[s]: modules (valid, not yet satisfiable) importing `s`.
    let users = |s: &str| -> Vec<usize> {
        kos.iter()
            .enumerate()
            .filter(|(i, k)| !sat[*i] && k.invalid.is_none() && k.imports.contains(s))
            .map(|(i, _)| i)
            .collect()
    };
    let mut now = sat.to_vec();
    let mut unlocked = 0;
    let mut work = users(extra);
    while let Some(i) = work.pop() {
        if now[i] {
            continue;
        }
        let ok = kos[i].imports.iter().all(|s| {
            s == extra
                || kernel.contains(s)
                || provider.get(s.as_str()).is_some_and(|&p| p != i && now[p])
        });
        if ok {
            now[i] = true;
            unlocked += 1;
            // Its users may be satisfiable now (only through symbols it is
            // the chosen provider of).
            for e in &kos[i].exports {
                if provider.get(e.as_str()) == Some(&i) {
                    work.extend(users(e));
                }
            }
        }
    }
    unlocked
}

/// The modules `i` needs (depth first, providers before users), then `i`.
fn closure(
    kos: &[Ko],
    kernel: &HashSet<String>,
    provider: &HashMap<&str, usize>,
    i: usize,
    out: &mut Vec<usize>,
) {
    if out.contains(&i) {
        return;
    }
    for s in &kos[i].imports {
        if kernel.contains(s) {
            continue;
        }
        if let Some(&p) = provider.get(s.as_str())
            && p != i
        {
            closure(kos, kernel, provider, p, out);
        }
    }
    out.push(i);
}

// ---------------------------------------------------------------------------
// Booting.

fn qemu(root: &Path, initrd: Option<PathBuf>) -> Qemu {
    Qemu {
        mem_mb: 256,
        kernel: Build::release(Variant::Highmem).uimage(root),
        append: Some(DEFAULT_APPEND.to_string()),
        dtb: None,
        semihosting: true,
        console: Console::SerialOnly,
        gdb: false,
        initrd,
        paused_qmp: None,
    }
}

fn drive(q: &Qemu, commands: Vec<String>, timeout: Duration) -> Result<Transcript> {
    let mut cmd = q.command();
    harness::drive(
        &mut cmd,
        Input::Lines(commands),
        harness::Options {
            timeout: Some(timeout),
            live: false,
            settle: Some(Duration::from_secs(10)),
            type_ahead: false,
            release: None,
            power_off_at_end: None,
        },
    )
}

/// The 6.1 export names, read from the built kernel (one short boot).
pub fn kernel_exports(root: &Path) -> Result<HashSet<String>> {
    let t = drive(
        &qemu(root, None),
        vec![format!("cat {EXPORTS_FILE}"), "poweroff".into()],
        Duration::from_secs(60),
    )?;
    let out = t
        .output_of(&format!("cat {EXPORTS_FILE}"))
        .context("the kernel never reached the shell")?;
    parse_exports(&out)
}

/// The names `cat EXPORTS_FILE` printed, one per line.
pub fn parse_exports(out: &str) -> Result<HashSet<String>> {
    if out.contains("No such file") {
        bail!("the kernel has no {EXPORTS_FILE}: rebuild it from this tree");
    }
    Ok(out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(' '))
        .map(str::to_string)
        .collect())
}

/// What one command of the load script is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `cat /proc/meminfo` before (`true`) or after module `usize`'s turn.
    Meminfo(usize, bool),
    Insmod(usize),
    Rmmod(usize),
}

/// The initramfs path of module `i`: the package's file name in
/// `/lib/modules`, where the kernel's in-kernel modprobe
/// (`module::kmod`, behind `request_module`) looks for modules.
fn guest_path(kos: &[Ko], i: usize) -> String {
    let file = Path::new(&kos[i].rel)
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("");
    format!("/lib/modules/{file}")
}

/// Modules whose init asks for another through `request_module`, which
/// the kernel's in-kernel modprobe then loads from `/lib/modules`; their
/// users do not unload them (no `depends=` names them), so the script does.
/// 6.1's fs/nls/nls_euc-jp.c calls `load_nls("cp932")` and
/// nls_koi8-ru.c `load_nls("koi8-u")`; `load_nls` requests `nls_CHARSET`.
pub const REQUESTS: &[(&str, &str)] = &[("nls_euc_jp", "nls_cp932"), ("nls_koi8_ru", "nls_koi8_u")];

/// The modules `kos[i]`'s init requests ([`REQUESTS`]) that the package
/// has, outside `need`.
fn requested(kos: &[Ko], i: usize, need: &[usize]) -> Vec<usize> {
    REQUESTS
        .iter()
        .filter(|(user, _)| *user == kos[i].name)
        .filter_map(|(_, wanted)| kos.iter().position(|k| k.name == *wanted))
        .filter(|r| !need.contains(r))
        .collect()
}

/// The load script: per satisfiable module, meminfo, `insmod` of its
/// closure, `rmmod` in reverse, then `rmmod` of what its init requested
/// (pinned until its user is gone), meminfo; `poweroff` last.
pub fn script(kos: &[Ko], a: &Analysis) -> Vec<(String, Option<(usize, Step)>)> {
    let mut out = Vec::new();
    for &i in &a.order {
        let need = a.closure.get(&i).cloned().unwrap_or_else(|| vec![i]);
        let extra = requested(kos, i, &need);
        out.push((
            "cat /proc/meminfo".into(),
            Some((i, Step::Meminfo(i, true))),
        ));
        for &n in &need {
            out.push((
                format!("insmod {}", guest_path(kos, n)),
                Some((i, Step::Insmod(n))),
            ));
        }
        for &n in need.iter().rev() {
            out.push((format!("rmmod {}", kos[n].name), Some((i, Step::Rmmod(n)))));
        }
        for &n in &extra {
            out.push((format!("rmmod {}", kos[n].name), Some((i, Step::Rmmod(n)))));
        }
        out.push((
            "cat /proc/meminfo".into(),
            Some((i, Step::Meminfo(i, false))),
        ));
    }
    out.push(("poweroff".into(), None));
    out
}

/// How one module's turn went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Turn {
    pub ran: bool,
    pub failure: Option<String>,
    pub memfree: Option<(i64, i64)>,
}

impl Turn {
    pub fn clean(&self) -> bool {
        self.ran
            && self.failure.is_none()
            && self
                .memfree
                .is_some_and(|(b, a)| (a - b).abs() <= MEMFREE_TOLERANCE_KB)
    }
}

fn memfree(out: &str) -> Option<i64> {
    out.lines()
        .find_map(|l| l.strip_prefix("MemFree:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The verdict of each module's turn, from the outputs of the script's
/// commands in order (fewer outputs than commands: the kernel stopped).
pub fn judge(
    steps: &[(String, Option<(usize, Step)>)],
    outputs: &[String],
) -> BTreeMap<usize, Turn> {
    let mut turns: BTreeMap<usize, Turn> = BTreeMap::new();
    for ((_, step), out) in steps.iter().zip(outputs) {
        let Some((owner, step)) = *step else {
            continue;
        };
        let t = turns.entry(owner).or_default();
        t.ran = true;
        let oops = out
            .lines()
            .find(|l| l.contains("Internal error") || l.contains("Unable to handle kernel"));
        if let Some(l) = oops
            && t.failure.is_none()
        {
            t.failure = Some(format!("oops: {}", l.trim()));
        }
        match step {
            Step::Meminfo(_, before) => {
                let v = memfree(out).unwrap_or(-1);
                let (b, a) = t.memfree.unwrap_or((v, v));
                t.memfree = Some(if before { (v, a) } else { (b, v) });
            }
            Step::Insmod(_) | Step::Rmmod(_) => {
                let failed = out
                    .lines()
                    .any(|l| l.starts_with("insmod:") || l.starts_with("rmmod:"));
                if failed && t.failure.is_none() {
                    // The kernel's reason (e.g. `Unknown symbol X (err -2)`)
                    // comes before the shell's line.
                    let why: Vec<&str> = out
                        .lines()
                        .map(|l| harness::strip_printk_time(l).trim())
                        .filter(|l| !l.is_empty())
                        .take(2)
                        .collect();
                    t.failure = Some(why.join(" / "));
                }
            }
        }
    }
    turns
}

/// The outputs of a transcript's commands, in order.
fn outputs(t: &Transcript) -> Vec<String> {
    t.segments
        .iter()
        .map(|seg| {
            let text = harness::normalize(&t.raw[seg.start..seg.end]);
            match text.split_once('\n') {
                Some((echo, rest)) if echo.trim() == seg.command.trim() => rest.to_string(),
                _ => text,
            }
        })
        .collect()
}

/// `cargo xtask linux-modules`.
pub fn linux_modules(root: &Path, args: &LinuxModulesArgs) -> Result<u8> {
    let pkg = match package_root(root, args.deb.as_deref(), true)? {
        Ok(p) => p,
        Err(why) => {
            println!("linux-modules: skipped: {why}");
            return Ok(0);
        }
    };
    let dir = modules_dir(&pkg).context("the package holds no lib/modules/*/kernel")?;
    let kos = scan(&dir)?;
    let total = kos.len();
    process::step(format!("{total} modules in {}", dir.display()));
    build::build(root, Build::release(Variant::Highmem))?;
    let kernel = kernel_exports(root)?;
    process::step(format!(
        "the kernel's 6.1 personality exports {} symbols",
        kernel.len()
    ));
    let a = analyse(&kos, &kernel);
    let invalid = kos.iter().filter(|k| k.invalid.is_some()).count();
    println!(
        "linux-modules: {} of {total} modules have all their imports ({} refused by the loader's checks)",
        a.order.len(),
        invalid
    );
    for (i, k) in kos.iter().enumerate() {
        if let Some(why) = &k.invalid {
            println!("  invalid  {}: {why}", k.rel);
        } else if a.closure.contains_key(&i) {
            println!("  ok       {}", k.rel);
        } else if args.all
            && let Some(m) = a.missing.get(&i)
        {
            let shown: Vec<&str> = m.iter().take(6).map(String::as_str).collect();
            let more = m.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" (+{more})")
            } else {
                String::new()
            };
            println!("  missing  {}: {}{more}", k.rel, shown.join(", "));
        }
    }
    let top = if args.all { a.ranking.len() } else { 25 };
    println!(
        "missing symbols, ranked by the modules each would unlock on its own, dependencies included ({} symbols):",
        a.ranking.len()
    );
    println!("  {:<40} {:>7} {:>9}", "symbol", "unlocks", "needed by");
    for (s, alone, all) in a.ranking.iter().take(top) {
        println!("  {s:<40} {alone:>7} {all:>9}");
    }
    if args.no_load {
        return Ok(0);
    }
    let loaded = load_all(root, &kos, &a)?;
    println!(
        "linux-modules: {loaded} loaded and unloaded cleanly, of {total} modules in the package"
    );
    Ok(0)
}

/// Boots once with every satisfiable module and runs the script; prints
/// the table; returns how many were clean.
fn load_all(root: &Path, kos: &[Ko], a: &Analysis) -> Result<usize> {
    if a.order.is_empty() {
        println!("linux-modules: no module to load");
        return Ok(0);
    }
    let mut files = Vec::new();
    for &i in &a.order {
        let bytes = fs::read(&kos[i].path)?;
        files.push((guest_path(kos, i)[1..].to_string(), bytes));
    }
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, b)| (p.as_str(), b.clone())).collect();
    let archive = crate::modules::add_files(&crate::modules::cpio(&[])?, &refs)?;
    let initrd = root.join(CACHE).join("initramfs.cpio");
    // With KOBOLD_DEBIAN_ROOT nothing was fetched, so the cache may not exist yet.
    fs::create_dir_all(root.join(CACHE))
        .with_context(|| format!("creating {}", root.join(CACHE).display()))?;
    fs::write(&initrd, &archive).with_context(|| format!("writing {}", initrd.display()))?;
    let steps = script(kos, a);
    process::step(format!(
        "booting with {} modules, {} commands",
        a.order.len(),
        steps.len()
    ));
    let timeout = Duration::from_secs(60 + 3 * steps.len() as u64);
    let t = drive(
        &qemu(root, Some(initrd)),
        steps.iter().map(|(c, _)| c.clone()).collect(),
        timeout,
    )?;
    let log = root.join(CACHE).join("session.log");
    fs::write(&log, &t.raw).with_context(|| format!("writing {}", log.display()))?;
    if t.outcome != Outcome::Exited(Some(0)) {
        process::note(format!(
            "QEMU did not power off cleanly ({}): see {}",
            t.outcome,
            log.display()
        ));
    }
    let turns = judge(&steps, &outputs(&t));
    println!(
        "  {:<44} {:<8} {:>12}  note",
        "module", "result", "MemFree kB"
    );
    let mut clean = 0;
    for &i in &a.order {
        let turn = turns.get(&i).cloned().unwrap_or_default();
        let result = if !turn.ran {
            "not run"
        } else if turn.clean() {
            clean += 1;
            "clean"
        } else {
            "FAILED"
        };
        let mem = turn
            .memfree
            .map(|(b, a)| format!("{:+}", a - b))
            .unwrap_or_default();
        println!(
            "  {:<44} {result:<8} {mem:>12}  {}",
            kos[i].rel,
            turn.failure.unwrap_or_default()
        );
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ko(name: &str, imports: &[&str], exports: &[&str]) -> Ko {
        Ko {
            rel: format!("{name}.ko"),
            name: name.into(),
            imports: imports.iter().map(|s| s.to_string()).collect(),
            exports: exports.iter().map(|s| s.to_string()).collect(),
            ..Ko::default()
        }
    }

    #[test]
    fn newest_package_is_picked() {
        let s = "linux-image-6.1.0-9-armmp - Linux 6.1\n\
                 linux-image-6.1.0-57-armmp - Linux 6.1\n\
                 linux-image-6.1.0-57-armmp-dbg - debug\n\
                 linux-image-6.1.0-50-armmp - Linux 6.1\n";
        assert_eq!(
            newest_package(s).as_deref(),
            Some("linux-image-6.1.0-57-armmp")
        );
        assert_eq!(newest_package(""), None);
    }

    #[test]
    fn satisfiable_modules_and_ranking() {
        let kernel: HashSet<String> = ["_printk", "kmalloc_trace"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let kos = vec![
            ko("user", &["lib_fn", "_printk"], &[]),
            ko("lib", &["_printk"], &["lib_fn"]),
            ko("a", &["__gnu_mcount_nc"], &[]),
            ko("b", &["__gnu_mcount_nc", "jiffies"], &[]),
            ko("c", &["__gnu_mcount_nc", "broken_fn"], &[]),
            ko("broken", &["nope"], &["broken_fn"]),
            ko("none", &[], &[]),
        ];
        let a = analyse(&kos, &kernel);
        // `lib` is loaded before its user, whatever the path order.
        let pos = |i| a.order.iter().position(|&x| x == i).unwrap();
        assert!(pos(1) < pos(0));
        assert_eq!(a.closure[&0], [1, 0]);
        assert_eq!(a.closure[&6], [6]);
        assert_eq!(a.order.len(), 3);
        // __gnu_mcount_nc alone unlocks `a` only: it is needed by a, b and
        // c, but b also misses jiffies and c needs `broken`, which misses
        // `nope` (c's own missing set is __gnu_mcount_nc alone).
        assert_eq!(a.ranking[0], ("__gnu_mcount_nc".to_string(), 1, 3));
        assert!(a.ranking.contains(&("jiffies".to_string(), 0, 1)));
        assert!(a.ranking.contains(&("nope".to_string(), 1, 1)));
        assert_eq!(
            a.missing[&4],
            BTreeSet::from(["__gnu_mcount_nc".to_string()])
        );
    }

    /// "Would load if S were exported" is computed over the dependency
    /// closure, never from a module's own missing set alone.
    #[test]
    fn unlocks_follow_dependencies() {
        let kernel: HashSet<String> = ["_printk"].iter().map(|s| s.to_string()).collect();
        let kos = vec![
            // Misses only S itself, but its dependency misses T: S alone
            // does not load it.
            ko("user_t", &["S", "t_fn"], &[]),
            ko("lib_t", &["T"], &["t_fn"]),
            // Misses nothing itself; its dependency misses only S: S loads
            // both, and the module above the dependency too.
            ko("user_s", &["s_fn", "_printk"], &["us_fn"]),
            ko("lib_s", &["S"], &["s_fn"]),
            ko("top", &["us_fn"], &[]),
            // Misses S, and a symbol no module of the package exports.
            ko("orphan", &["S", "gone"], &[]),
            // A cycle missing nothing: never satisfiable, never unlocked.
            ko("cyc_a", &["b_fn"], &["a_fn"]),
            ko("cyc_b", &["a_fn"], &["b_fn"]),
            // Needs S from a module that is not valid (refused by the
            // loader): the symbol is missing from the package.
            ko("bad_user", &["bad_fn"], &[]),
            Ko {
                invalid: Some("bad ELF".into()),
                ..ko("bad", &[], &["bad_fn"])
            },
        ];
        let a = analyse(&kos, &kernel);
        assert!(a.order.is_empty());
        let get = |s: &str| a.ranking.iter().find(|r| r.0 == s).cloned().unwrap();
        // S: lib_s, user_s, top (not user_t, not orphan); imported by
        // user_t, lib_s, orphan.
        assert_eq!(get("S"), ("S".into(), 3, 3));
        // T: lib_t only (user_t still misses S).
        assert_eq!(get("T"), ("T".into(), 1, 1));
        assert_eq!(get("gone"), ("gone".into(), 0, 1));
        assert_eq!(get("bad_fn"), ("bad_fn".into(), 1, 1));
        assert_eq!(a.ranking[0].0, "S");
        // With both S and T, user_t loads: the check agrees with a full
        // fixpoint.
        let mut both = kernel.clone();
        both.insert("S".into());
        let b = analyse(&kos, &both);
        assert_eq!(b.order.len(), 3);
        // ... where T now unlocks lib_t and user_t.
        assert_eq!(b.ranking.iter().find(|r| r.0 == "T").unwrap().1, 2);
    }

    #[test]
    fn script_and_verdicts() {
        let kos = vec![ko("user", &["lib_fn"], &[]), ko("lib", &[], &["lib_fn"])];
        let a = analyse(&kos, &HashSet::new());
        let steps = script(&kos, &a);
        let cmds: Vec<&str> = steps.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            cmds,
            [
                "cat /proc/meminfo",
                "insmod /lib/modules/lib.ko",
                "rmmod lib",
                "cat /proc/meminfo",
                "cat /proc/meminfo",
                "insmod /lib/modules/lib.ko",
                "insmod /lib/modules/user.ko",
                "rmmod user",
                "rmmod lib",
                "cat /proc/meminfo",
                "poweroff",
            ]
        );
        let mem = |kb: u32| format!("MemTotal: 1 kB\nMemFree:  {kb} kB\n");
        let outs: Vec<String> = vec![
            mem(1000),
            String::new(),
            String::new(),
            mem(1000),
            mem(1000),
            String::new(),
            "[    1.000000] user: Unknown symbol x (err -2)\ninsmod: can't insert '/lib/modules/user.ko': unknown symbol in module, or unknown parameter\n".into(),
            "rmmod: can't unload module 'user': No such file or directory\n".into(),
        ];
        let turns = judge(&steps, &outs);
        assert!(turns[&1].clean());
        let t = &turns[&0];
        assert!(!t.clean());
        assert_eq!(
            t.failure.as_deref(),
            Some(
                "user: Unknown symbol x (err -2) / insmod: can't insert '/lib/modules/user.ko': unknown symbol in module, or unknown parameter"
            )
        );
        // The kernel stopped before the last meminfo: not clean.
        assert_eq!(t.memfree, Some((1000, 1000)));
        let leak = judge(
            &steps[..4],
            &[mem(1000), String::new(), String::new(), mem(900)],
        );
        assert!(!leak[&1].clean());
    }

    #[test]
    fn requested_modules_are_unloaded_after_their_user() {
        let mut kos = vec![
            ko("nls_cp932", &[], &[]),
            ko("nls_euc_jp", &["load_nls"], &[]),
        ];
        kos[1].rel = "fs/nls/nls_euc-jp.ko".into();
        let a = analyse(&kos, &HashSet::from(["load_nls".to_string()]));
        let steps = script(&kos, &a);
        let cmds: Vec<&str> = steps.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            cmds[4..],
            [
                "cat /proc/meminfo",
                "insmod /lib/modules/nls_euc-jp.ko",
                "rmmod nls_euc_jp",
                "rmmod nls_cp932",
                "cat /proc/meminfo",
                "poweroff",
            ]
        );
        assert_eq!(steps[7].1, Some((1, Step::Rmmod(0))));
    }

    #[test]
    fn exports_file_is_parsed() {
        let e = parse_exports("_printk\n__gnu_mcount_nc\n\n").unwrap();
        assert_eq!(e.len(), 2);
        assert!(
            parse_exports("cat: /sys/kernel/kobold/exports/linux-6.1: No such file or directory\n")
                .is_err()
        );
    }

    /// Debian's own files, when unpacked here: the loader reads every
    /// module's imports without refusing any file.
    #[test]
    fn debian_package_scans() {
        let roots = [
            std::env::var_os("KOBOLD_DEBIAN_ROOT").map(PathBuf::from),
            Some(PathBuf::from("/work/debian/root")),
            Some(PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/linux-modules/root"
            ))),
        ];
        let Some(dir) = roots.into_iter().flatten().find_map(|r| modules_dir(&r)) else {
            eprintln!("skipped: Debian's linux-image-6.1 armhf package is not unpacked here");
            return;
        };
        let crypto = dir.join("lib");
        let kos = scan(&crypto).unwrap();
        assert!(kos.len() > 10);
        for k in &kos {
            assert_eq!(k.invalid, None, "{}", k.rel);
        }
        let crc7 = kos.iter().find(|k| k.rel == "crc7.ko").unwrap();
        assert_eq!(
            crc7.imports,
            BTreeSet::from(["__aeabi_unwind_cpp_pr0".to_string()])
        );
        assert!(crc7.exports.contains("crc7_be"));
        let none = analyse(&kos, &HashSet::new());
        assert!(none.ranking.iter().any(|r| r.0 == "__aeabi_unwind_cpp_pr0"));
    }
}
