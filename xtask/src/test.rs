//! `cargo xtask test`: the whole suite, cheapest first.
//!
//! 1. Lints (skipped with `--skip-lint`): rustfmt on the workspace and on
//!    the Rust sample modules; clippy `-D warnings` on the Rust modules
//!    (for the kernel's target), on the host workspace, and on the kernel
//!    for its real target; rustdoc `-D warnings` on the host workspace and
//!    on the kernel for its target.
//! 2. Host tests: `cargo test --workspace`.
//! 3. [`FUZZ_SECONDS`] of `cargo xtask fuzz` on the module loader, with the
//!    fixed seed [`FUZZ_SEED`].
//! 4. The differential test ([`crate::difftest`]): `modlink` against GNU
//!    ld, section by section.
//! 5. The initramfs images and both kernel variants built (only those the
//!    selected tests need), and the generated DTB if a case boots with it.
//! 6. Image checks ([`crate::checks`]), no QEMU.
//! 7. QEMU boots ([`crate::cases`]), [`JOBS`] at a time, each with a timeout.
//! 8. The `map` test: `cargo xtask map` at -m 1024 ([`crate::map`]), its
//!    SVG checked against the boot log it was drawn from, written to
//!    [`MAP_OUTPUT`].
//! 9. The gdb session ([`crate::gdb::session_test`], named
//!    [`crate::gdb::SESSION_TEST`]): `gdb-multiarch --batch` breaks in a
//!    module's init at source level and prints its parameters; skipped,
//!    saying so, where `gdb-multiarch` is not installed.
//!
//! Steps 1 to 5 stop the run at the first failure. Steps 6 to 9 print
//! `test <name> ... ok|FAILED` per test, the failures' details, and the
//! closing line `N passed, M failed`.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::build::{self, rel};
use crate::cases::{self, Case, Kernel};
use crate::checks::{self, Images};
use crate::config::{Build, Console, GENERATED_DTB, KERNEL_PACKAGE, KERNEL_TARGET, Qemu, Variant};
use crate::figures::Figures;
use crate::harness::{self, Input, Outcome, Transcript};
use crate::{process, run, setup};

/// The name of step 8, for `--filter`.
pub const MAP_TEST: &str = "map";
/// Where step 8 draws its map.
pub const MAP_OUTPUT: &str = "target/kobold/test-map.svg";

/// How long the loader is fuzzed (`cargo xtask fuzz --time`).
pub const FUZZ_SECONDS: u64 = 20;
/// The test suite's fuzzing seed: fixed, so that `cargo xtask test` is
/// reproducible (a slower machine runs a shorter prefix of the same
/// inputs). `cargo xtask fuzz` alone picks a fresh seed each run, which is
/// how new ground is covered.
pub const FUZZ_SEED: u64 = 0x4b6f_626f_6c64;

/// QEMU instances run at once (CI machines have 2 cores).
pub const JOBS: usize = 2;
/// Output lines shown for a failed QEMU test.
const TAIL_LINES: usize = 40;
/// How long a session may sit silent at the prompt after its last command
/// before it counts as hung (instead of waiting for the full timeout).
const SETTLE: Duration = Duration::from_secs(5);

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Run only the image checks and QEMU tests whose name contains SUBSTR
    /// (lints and host tests still run).
    #[arg(long, value_name = "SUBSTR")]
    pub filter: Option<String>,

    /// Skip the lints: rustfmt, clippy and rustdoc.
    #[arg(long)]
    pub skip_lint: bool,
}

/// One test's verdict.
#[derive(Debug)]
pub struct Verdict {
    pub name: &'static str,
    /// Empty when the test passed.
    pub failure: String,
}

pub fn test(root: &Path, args: &TestArgs) -> Result<u8> {
    let filter = args.filter.as_deref();
    let mut cases = cases::select(filter);
    cases.extend(crate::labs::cases(root, filter)?);
    let image_checks = checks::select(filter);
    let map_test = filter.is_none_or(|f| MAP_TEST.contains(f));
    let gdb_test = filter.is_none_or(|f| crate::gdb::SESSION_TEST.contains(f));
    if cases.is_empty() && image_checks.is_empty() && !map_test && !gdb_test {
        bail!(
            "no test name contains `{}`: see the names in xtask/src/cases.rs and xtask/src/checks.rs",
            filter.unwrap_or_default()
        );
    }
    setup::ensure_rust_target()?;
    setup::ensure_qemu()?;
    // The test kernels trust Debian's module signing certificate when the
    // package is there (the Debian cases load its signed modules); the
    // keyring is written before lint so clippy and the build agree.
    if let Some(cert) = crate::signing::debian_cert_for_tests(root) {
        crate::signing::trust(&[cert]);
    }
    crate::signing::write_keyring(root)?;
    if !args.skip_lint {
        lint(root)?;
    }
    process::step("running host tests");
    process::run(
        process::cargo().args(["test", "--workspace"]),
        "fix the failing host tests above",
    )?;

    setup::ensure_cross_gcc()?;
    process::step(format!("fuzzing the module loader for {FUZZ_SECONDS} s"));
    let fuzz = crate::fuzz::FuzzArgs {
        time: FUZZ_SECONDS,
        seed: Some(FUZZ_SEED),
        runs: None,
        replay: Vec::new(),
        max_input: crate::fuzz::DEFAULT_MAX_INPUT,
    };
    if crate::fuzz::fuzz(root, &fuzz)? != 0 {
        bail!(
            "the fuzzer found a crash (see above): fix the loader, keep the input in loader/tests/fuzz/"
        );
    }

    process::step("differential test: modlink against GNU ld");
    let (variants, sections) = crate::difftest::difftest()?;
    process::step(format!(
        "difftest: {variants} variants, {sections} sections byte-identical"
    ));
    run_qemu_tests(root, &cases, &image_checks, map_test, gdb_test)
}

/// `cargo xtask labs`: the lab book's labs alone.
pub fn labs(root: &Path, filter: Option<&str>) -> Result<u8> {
    let cases = crate::labs::cases(root, filter)?;
    if cases.is_empty() {
        bail!("no lab name contains `{}`", filter.unwrap_or_default());
    }
    setup::ensure_rust_target()?;
    setup::ensure_qemu()?;
    setup::ensure_cross_gcc()?;
    run_qemu_tests(root, &cases, &[], false, false)
}

/// Builds what the cases need, runs the image checks and the cases, prints
/// the verdicts and the closing `N passed, N failed` line.
fn run_qemu_tests(
    root: &Path,
    cases: &[&'static Case],
    image_checks: &[&'static checks::ImageCheck],
    map_test: bool,
    gdb_test: bool,
) -> Result<u8> {
    // Cases whose requirement is missing (Debian's package) are skipped,
    // saying why.
    let cases: Vec<&'static Case> = cases
        .iter()
        .copied()
        .filter(|c| match c.requires.map(|f| f()) {
            Some(Err(why)) => {
                process::note(format!("{}: skipped: {why}", c.name));
                false
            }
            _ => true,
        })
        .collect();
    let cases = &cases[..];
    if map_test || gdb_test || cases.iter().any(|c| c.initrd) {
        crate::modules::build_initrd(root, &[])?;
    }
    for case in cases.iter().filter(|c| !c.extra_files.is_empty()) {
        crate::modules::build_case_initrd(root, case.name, case.extra_files)?;
    }
    for variant in Variant::ALL {
        let needed = cases.iter().any(|c| c.variant == variant)
            || (variant == Variant::Highmem && (map_test || gdb_test || !image_checks.is_empty()));
        if needed {
            build::build(root, Build::release(variant))?;
        }
    }
    if cases.iter().any(|c| c.dtb) {
        run::write_generated_dtb(root)?;
    }

    let mut verdicts = Vec::new();
    if !image_checks.is_empty() {
        process::step(format!("running {} image checks", image_checks.len()));
        let images = Images::load(root);
        for check in image_checks {
            let failure = match &images {
                Ok(images) => (check.check)(images).err().map(|e| format!("{e:#}")),
                Err(e) => Some(format!("could not read the images: {e:#}")),
            };
            let verdict = Verdict {
                name: check.name,
                failure: failure.unwrap_or_default(),
            };
            report(&verdict);
            verdicts.push(verdict);
        }
    }
    if !cases.is_empty() {
        process::step(format!(
            "running {} qemu tests, {JOBS} at a time",
            cases.len()
        ));
        let figures = crate::figures::Figures::new(root);
        verdicts.extend(run_cases(root, cases, &figures));
    }
    if map_test {
        let verdict = Verdict {
            name: MAP_TEST,
            failure: map_test_run(root)
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default(),
        };
        report(&verdict);
        verdicts.push(verdict);
    }
    if gdb_test {
        let name = crate::gdb::SESSION_TEST;
        match crate::gdb::session_test(root) {
            Ok(Some(why)) => println!("test {name} ... skipped: {why}"),
            Ok(None) => {
                let verdict = Verdict {
                    name,
                    failure: String::new(),
                };
                report(&verdict);
                verdicts.push(verdict);
            }
            Err(e) => {
                let verdict = Verdict {
                    name,
                    failure: format!("{e:#}"),
                };
                report(&verdict);
                verdicts.push(verdict);
            }
        }
    }

    let failed: Vec<&Verdict> = verdicts.iter().filter(|v| !v.failure.is_empty()).collect();
    if !failed.is_empty() {
        println!("\nfailures:");
        for v in &failed {
            println!("\n---- {} ----\n{}", v.name, v.failure.trim_end());
        }
        println!();
    }
    println!(
        "{} passed, {} failed",
        verdicts.len() - failed.len(),
        failed.len()
    );
    Ok(if failed.is_empty() { 0 } else { 1 })
}

fn lint(root: &Path) -> Result<()> {
    process::step("checking formatting");
    process::run(
        process::cargo().args(["fmt", "--all", "--", "--check"]),
        "run `cargo fmt --all` to format the workspace",
    )?;
    process::step("checking formatting (Rust modules)");
    process::run(
        process::cargo().args([
            "fmt",
            "--all",
            "--manifest-path",
            "modules/rust/Cargo.toml",
            "--",
            "--check",
        ]),
        "run `cargo fmt --all --manifest-path modules/rust/Cargo.toml`",
    )?;
    process::step(format!("running clippy (Rust modules, {KERNEL_TARGET})"));
    process::run(
        process::cargo().args([
            "clippy",
            "--manifest-path",
            "modules/rust/Cargo.toml",
            "--target",
            KERNEL_TARGET,
            "--release",
            "--target-dir",
            "target/modules-rust",
            "--",
            "-D",
            "warnings",
        ]),
        "fix the clippy findings above",
    )?;
    process::step("running clippy (host)");
    process::run(
        process::cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        "fix the clippy findings above",
    )?;
    process::step(format!("running clippy ({KERNEL_TARGET})"));
    let mut clippy = process::cargo();
    crate::build::set_kallsyms_env(
        &mut clippy,
        crate::build::kallsyms_reserved(root, crate::config::Profile::Release),
    );
    process::run(
        clippy.args([
            "clippy",
            "-p",
            KERNEL_PACKAGE,
            "--target",
            KERNEL_TARGET,
            "--release",
            "--",
            "-D",
            "warnings",
        ]),
        "fix the clippy findings above",
    )?;
    // rustdoc's warnings (broken intra-doc links, links to private items,
    // stray HTML) are errors too: the docs are read, so they must build.
    process::step("checking the docs (host)");
    process::run(
        process::cargo().env("RUSTDOCFLAGS", "-D warnings").args([
            "doc",
            "--workspace",
            "--no-deps",
        ]),
        "fix the rustdoc warnings above",
    )?;
    process::step(format!("checking the docs ({KERNEL_TARGET})"));
    let mut doc = process::cargo();
    crate::build::set_kallsyms_env(
        &mut doc,
        crate::build::kallsyms_reserved(root, crate::config::Profile::Release),
    );
    process::run(
        doc.env("RUSTDOCFLAGS", "-D warnings").args([
            "doc",
            "-p",
            KERNEL_PACKAGE,
            "--target",
            KERNEL_TARGET,
            "--release",
            "--no-deps",
        ]),
        "fix the rustdoc warnings above",
    )
}

/// Step 8: the address-space map of a -m 1024 highmem boot with the
/// sample modules loaded, checked against its log by [`crate::map::draw`].
fn map_test_run(root: &Path) -> Result<()> {
    const MEM_MB: u32 = 1024;
    let files = crate::map::module_files(false, &[])?;
    let qemu = Qemu {
        mem_mb: MEM_MB,
        kernel: Build::release(Variant::Highmem).uimage(root),
        append: Some(crate::config::DEFAULT_APPEND.into()),
        dtb: None,
        semihosting: true,
        console: Console::SerialOnly,
        gdb: false,
        initrd: Some(root.join(crate::modules::INITRD)),
        paused_qmp: None,
    };
    let log = crate::map::session(&qemu, &files)?;
    let kernel = crate::KernelArgs {
        no_highmem: false,
        debug: false,
    };
    let title = crate::map::title(MEM_MB, kernel, crate::config::DEFAULT_APPEND);
    let map = crate::map::draw(&log, &title, &root.join(MAP_OUTPUT))?;
    if map.modules.len() != files.len() {
        bail!(
            "{} modules loaded, {} on the map:\n{log}",
            files.len(),
            map.modules.len()
        );
    }
    Ok(())
}

fn report(v: &Verdict) {
    let status = if v.failure.is_empty() { "ok" } else { "FAILED" };
    println!("test {} ... {status}", v.name);
}

/// Runs the cases on [`JOBS`] threads, reporting each as it finishes.
fn run_cases(root: &Path, cases: &[&'static Case], figures: &Figures) -> Vec<Verdict> {
    let queue = Mutex::new(cases.iter().copied().collect::<VecDeque<_>>());
    let verdicts = Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..JOBS.min(cases.len()) {
            s.spawn(|| {
                loop {
                    let Some(case) = queue.lock().expect("queue lock").pop_front() else {
                        break;
                    };
                    let verdict = run_case(root, case, figures);
                    report(&verdict);
                    verdicts.lock().expect("verdict lock").push(verdict);
                }
            });
        }
    });
    let mut verdicts = verdicts.into_inner().expect("verdict lock");
    // Report order is completion order; keep the table's order for the summary.
    verdicts.sort_by_key(|v| cases.iter().position(|c| c.name == v.name));
    verdicts
}

/// The QEMU invocation for a case.
pub fn qemu_for(root: &Path, case: &Case) -> Qemu {
    let build = Build::release(case.variant);
    Qemu {
        mem_mb: case.mem_mb,
        kernel: match case.kernel {
            Kernel::UImage => build.uimage(root),
            Kernel::Image => build.image(root),
        },
        append: case.append.map(str::to_string),
        dtb: case.dtb.then(|| root.join(GENERATED_DTB)),
        semihosting: case.semihosting,
        console: Console::SerialOnly,
        gdb: false,
        initrd: case.initrd.then(|| {
            if case.extra_files.is_empty() {
                root.join(crate::modules::INITRD)
            } else {
                crate::modules::case_initrd(root, case.name)
            }
        }),
        paused_qmp: case.type_ahead.then(|| qmp_socket(case)),
    }
}

/// The QMP socket of a typed-ahead case (short: a Unix socket's path is
/// limited to about 100 bytes).
fn qmp_socket(case: &Case) -> PathBuf {
    std::env::temp_dir().join(format!("kobold-{}-{}.qmp", std::process::id(), case.name))
}

fn run_case(root: &Path, case: &'static Case, figures: &Figures) -> Verdict {
    let qemu = qemu_for(root, case);
    if let Some(sock) = &qemu.paused_qmp {
        let _ = std::fs::remove_file(sock);
    }
    let mut cmd = qemu.command();
    let command_line = process::describe(&cmd);
    let input = Input::Lines(case.input.iter().map(|s| s.to_string()).collect());
    let options = harness::Options {
        timeout: Some(Duration::from_secs(case.timeout_s)),
        live: false,
        settle: Some(SETTLE),
        power_off_at_end: None,
        type_ahead: case.type_ahead,
        // Typed ahead: the CPU starts once the first character is in the
        // UART, so the test never depends on QEMU's I/O thread being quick.
        release: qemu.paused_qmp.clone().map(|qmp| harness::Release {
            qmp,
            flag_register: crate::config::UART0_FR,
            empty_bit: crate::config::UART_FR_RXFE,
        }),
    };
    let started = Instant::now();
    let driven = harness::drive(&mut cmd, input, options);
    if let Some(sock) = &qemu.paused_qmp {
        let _ = std::fs::remove_file(sock);
    }
    let transcript = match driven {
        Ok(t) => t,
        Err(e) => {
            return Verdict {
                name: case.name,
                failure: format!("{e:#}"),
            };
        }
    };
    let elapsed = started.elapsed();
    let problems = evaluate(case, &transcript, &|key| figures.value(key));
    let log = write_log(root, case, &command_line, &transcript, elapsed);
    if problems.is_empty() {
        return Verdict {
            name: case.name,
            failure: String::new(),
        };
    }
    let mut failure = String::new();
    for p in &problems {
        let _ = writeln!(failure, "{p}");
    }
    let _ = writeln!(failure, "qemu: {command_line}");
    let _ = writeln!(failure, "--- last {TAIL_LINES} lines of output ---");
    for l in transcript.tail(TAIL_LINES) {
        let _ = writeln!(failure, "{l}");
    }
    if !transcript.stderr.trim().is_empty() {
        let _ = writeln!(
            failure,
            "--- qemu stderr ---\n{}",
            transcript.stderr.trim_end()
        );
    }
    match log {
        Ok(path) => {
            let _ = writeln!(failure, "--- full log: {}", rel(root, &path));
        }
        Err(e) => {
            let _ = writeln!(failure, "--- could not write the log: {e:#}");
        }
    }
    Verdict {
        name: case.name,
        failure,
    }
}

/// Everything wrong with a transcript, per the case: exit status first
/// (a hang is its own verdict), then each failed check; `fill` gives the
/// values of computed checks' placeholders ([`crate::figures`]).
pub fn evaluate(case: &Case, t: &Transcript, fill: &harness::Fill<'_>) -> Vec<String> {
    let mut problems = Vec::new();
    match t.outcome {
        Outcome::TimedOut(after) => problems.push(format!(
            "hang: QEMU still running after {} s (timeout), killed",
            after.as_secs()
        )),
        Outcome::StuckAtPrompt(after) => problems.push(format!(
            "hang: the shell prompt came back after `{}` and QEMU did not exit \
             (silent for {} s), killed",
            case.input.last().copied().unwrap_or_default(),
            after.as_secs()
        )),
        Outcome::Exited(code) if code != Some(case.exit) => problems.push(format!(
            "QEMU ended with {}, expected exit status {}",
            t.outcome, case.exit
        )),
        Outcome::Exited(_) => {}
    }
    // Typed ahead, everything was sent at once: the checks tell what arrived.
    let typed = if case.type_ahead {
        case.input.len()
    } else {
        t.segments.len()
    };
    if typed < case.input.len() {
        problems.push(format!(
            "only {typed} of {} commands were typed: no shell prompt `{}` before `{}`",
            case.input.len(),
            harness::PROMPT,
            case.input[typed]
        ));
    }
    for check in case.expect {
        if let Err(e) = check.evaluate_with(t, fill) {
            problems.push(e);
        }
    }
    problems
}

fn write_log(
    root: &Path,
    case: &Case,
    command_line: &str,
    t: &Transcript,
    elapsed: Duration,
) -> Result<PathBuf> {
    let dir = root.join("target/kobold/test-logs");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{}.log", case.name));
    let mut log = format!(
        "qemu: {command_line}\ninput: {:?}\noutcome: {} after {:.1} s\n",
        case.input,
        t.outcome,
        elapsed.as_secs_f32()
    );
    if !t.stderr.is_empty() {
        let _ = write!(log, "--- stderr ---\n{}", t.stderr);
    }
    log.push_str("--- console ---\n");
    log.push_str(&t.text());
    std::fs::write(&path, log).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
