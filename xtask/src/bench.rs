//! `cargo xtask bench`: the figures behind docs/BENCHMARKS.md, printed, not
//! asserted (a slow machine must not fail a benchmark).
//!
//! 1. vmap areas: the cost of one alloc+free with 1k, 10k and 100k live
//!    areas, using the kernel's own allocator (`kobold_common::vmap`, built for
//!    the host). The window is fragmented with n/2 one-page holes that are
//!    too small for the request, the worst case for Linux's old list walk;
//!    the augmented tree answers in O(log n), which the visit count shows.
//! 2. Boot: wall-clock time from starting QEMU to the first shell prompt at
//!    -m 1024, and the guest's own printk timestamp of the last boot line.
//! 3. Modules: insmod and rmmod of each sample module, timed by the guest
//!    (`selftest modbench`, QEMU TCG: the figures compare builds, not
//!    hardware).
//! 4. Trust: `selftest soak 10000` (10,000 insmod/rmmod operations over the
//!    samples, counters compared) and `selftest faultinject` for three
//!    samples (how many allocation points one insmod has, each failed once).

use crate::config::{Build, Console, Qemu, Variant};
use anyhow::{Context, Result, bail};
use kobold_common::vmap::VmapAllocator;
use kobold_layout::PAGE_SIZE;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// One row of the vmap table.
pub struct VmapRow {
    pub live: u32,
    pub ns_per_pair: f64,
    pub visits: u32,
}

/// Measures alloc+free of a 2-page area among `live` areas.
pub fn vmap_row(live: u32, pairs: u32) -> Result<VmapRow> {
    let mut a = VmapAllocator::new(0x4000_0000, 0xc000_0000).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut areas = Vec::with_capacity(live as usize * 2);
    for _ in 0..live * 2 {
        areas.push(
            a.alloc(PAGE_SIZE, PAGE_SIZE)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    for x in areas.iter().step_by(2) {
        a.free(*x).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let start = Instant::now();
    let mut visits = 0;
    for _ in 0..pairs {
        let x = a
            .alloc(2 * PAGE_SIZE, PAGE_SIZE)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        visits = visits.max(a.last_visits());
        a.free(x).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let ns = start.elapsed().as_nanos() as f64 / pairs as f64;
    Ok(VmapRow {
        live: a.busy_count() as u32,
        ns_per_pair: ns,
        visits,
    })
}

/// The release highmem kernel on the serial console.
pub(crate) fn bench_qemu(root: &Path, mem_mb: u32, initrd: Option<std::path::PathBuf>) -> Qemu {
    Qemu {
        mem_mb,
        kernel: Build::release(Variant::Highmem).uimage(root),
        append: Some("console=ttyAMA0".into()),
        dtb: None,
        semihosting: true,
        console: Console::SerialOnly,
        gdb: false,
        initrd,
        paused_qmp: None,
    }
}

/// Boots once; returns (wall time to the prompt, guest time of the last
/// boot line in µs).
fn boot_once(root: &Path) -> Result<(Duration, u64)> {
    let qemu = bench_qemu(root, 1024, None);
    let mut cmd = qemu.command();
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().context("starting qemu-system-arm")?;
    let mut out = child.stdout.take().context("QEMU's stdout")?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let to_prompt = loop {
        let n = out.read(&mut buf).context("reading QEMU's console")?;
        if n == 0 {
            bail!("QEMU exited before the prompt");
        }
        seen.extend_from_slice(&buf[..n]);
        if seen.windows(4).any(|w| w == b"/ # ") {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            bail!("no prompt after 60 s");
        }
    };
    let text = String::from_utf8_lossy(&seen);
    let guest_us = text
        .lines()
        .rev()
        .find_map(crate::harness::printk_time)
        .map_or(0, |(us, _)| us);
    child
        .stdin
        .take()
        .context("QEMU's stdin")?
        .write_all(b"poweroff\n")?;
    child.wait()?;
    Ok((to_prompt, guest_us))
}

/// Boots with the initramfs at -m 256, runs `selftest TEST` and returns
/// the lines it printed that start with `prefix`.
fn selftest_lines(root: &Path, test: &str, prefix: &str, timeout: Duration) -> Result<Vec<String>> {
    let pass = format!("selftest {}: PASS", test.split(' ').next().unwrap_or(test));
    let fail = pass.replace("PASS", "FAIL");
    let qemu = bench_qemu(root, 256, Some(root.join(crate::modules::INITRD)));
    let mut child = qemu
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting qemu-system-arm")?;
    let mut stdin = child.stdin.take().context("QEMU's stdin")?;
    let mut out = child.stdout.take().context("QEMU's stdout")?;
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let mut typed = false;
    loop {
        let n = out.read(&mut buf).context("reading QEMU's console")?;
        if n == 0 {
            bail!("QEMU exited during the module benchmark");
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if !typed && text.contains("/ # ") {
            stdin.write_all(format!("selftest {test}\n").as_bytes())?;
            typed = true;
        }
        if text.contains(&pass) || text.contains(&fail) {
            break;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            bail!("selftest {test} did not finish in {} s", timeout.as_secs());
        }
    }
    stdin.write_all(b"poweroff\n")?;
    child.wait()?;
    let text = String::from_utf8_lossy(&seen);
    if !text.contains(&pass) {
        bail!("selftest {test} failed:\n{text}");
    }
    Ok(text
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_string)
        .collect())
}

/// Module signature verification on the host, with the kernel's verifier
/// (`kobold_loader::pkcs7::verify`: SHA-256 of the module, then one
/// RSA-4096 public-key operation), per module: the sample `hello.ko`
/// (build key) and Debian's `crc7.ko` (the certificate from its vmlinuz)
/// when the package is there. Mean of 50 after a warm-up.
pub fn signature_rows(root: &Path) -> Result<()> {
    use kobold_loader::pkcs7::verify;
    crate::modules::build_modules(root)?;
    let own = crate::signing::cert_der(&crate::signing::cert_path(root))?;
    let mut rows: Vec<(String, Vec<u8>, Vec<u8>)> = Vec::new();
    let hello = std::fs::read(root.join(crate::modules::OUT_DIR).join("hello.ko"))?;
    rows.push(("hello.ko (Kobold build key)".into(), hello, own));
    if let Some(cert) = crate::signing::debian_cert_for_tests(root) {
        let crc7 = crate::linux_modules::debian_module("crc7.ko");
        rows.push(("crc7.ko (Debian's key)".into(), crc7, std::fs::read(cert)?));
    }
    println!(
        "module signature verification on the host (SHA-256 + RSA-4096 PKCS#1 v1.5), mean of 50"
    );
    println!("{:<32} {:>8} {:>12}", "module", "bytes", "us/verify");
    for (name, file, cert) in rows {
        let (elf, sig) =
            kobold_loader::signature::split(&file).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let sig = sig.ok_or_else(|| anyhow::anyhow!("{name}: not signed"))?;
        verify(elf, sig.pkcs7, &cert).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let t = std::time::Instant::now();
        for _ in 0..50 {
            verify(elf, sig.pkcs7, &cert).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / 50.0;
        println!("{name:<32} {:>8} {us:>12.0}", file.len());
    }
    Ok(())
}

/// `cargo xtask bench`.
pub fn bench(root: &Path) -> Result<u8> {
    signature_rows(root)?;
    println!("vmap area alloc+free (2 pages) among n live areas with n one-page holes below");
    println!("{:>9}  {:>12}  {:>14}", "live", "ns/pair", "nodes visited");
    for n in [1_000u32, 10_000, 100_000] {
        let r = vmap_row(n, 20_000)?;
        println!("{:>9}  {:>12.0}  {:>14}", r.live, r.ns_per_pair, r.visits);
    }
    crate::build::build(root, Build::release(Variant::Highmem))?;
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(boot_once(root)?);
    }
    runs.sort();
    let (wall, guest) = runs[1];
    println!(
        "boot to the shell prompt at -m 1024 (median of 3): {:.0} ms wall clock, last boot line at {}.{:06} s guest time",
        wall.as_secs_f64() * 1000.0,
        guest / 1_000_000,
        guest % 1_000_000
    );
    crate::modules::build_initrd(root, &[])?;
    println!(
        "insmod + rmmod of the sample modules at -m 256 (guest time, mean of 50 after a warm-up)"
    );
    for line in selftest_lines(root, "modbench", "modbench:", Duration::from_secs(120))? {
        println!("{line}");
    }
    println!("soak: 10,000 insmod/rmmod operations over every sample module, then the counters");
    for line in selftest_lines(root, "soak 10000", "soak:", Duration::from_secs(600))? {
        println!("{line}");
    }
    println!("fault injection: every allocation of one insmod failed in turn");
    for module in ["hello", "memuser", "rust_hello"] {
        let test = format!("faultinject {module}");
        for line in selftest_lines(root, &test, "faultinject:", Duration::from_secs(300))? {
            println!("{line}");
        }
    }
    Ok(0)
}
