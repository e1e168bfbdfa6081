//! `cargo xtask bench --vs-linux`: Kobold and Debian's Linux 6.1 armmp on
//! the same QEMU (`-M vexpress-a9`, same memory, same devices), in one run,
//! side by side. Nothing is asserted: the tables are printed with the ratio
//! per row (issue 12, "Benchmarks side by side").
//!
//! What runs:
//! - Linux: Debian's `vmlinuz` (a zImage; QEMU boots it with `-kernel`) and
//!   `vexpress-v2p-ca9.dtb` from the kernel package (`KOBOLD_DEBIAN_ROOT`,
//!   or fetched as `cargo xtask linux-modules` fetches it), with an
//!   initramfs made here: Debian's `busybox-static:armhf` (fetched with
//!   `apt-get download`, cached in [`CACHE`]), the three Debian modules of
//!   [`MODULES`] and a small `/init` that mounts proc, sysfs and devtmpfs,
//!   writes a marker to `/dev/kmsg` and starts `sh` on the serial port.
//! - Kobold: the release highmem kernel with the same three `.ko` files,
//!   loaded through its Linux 6.1 personality.
//! - The physical floor: QEMU running an "empty kernel", 16 bytes written
//!   here that call semihosting `SYS_EXIT` at once; the wall time of that
//!   run is what QEMU itself costs (start-up, machine creation, exit).
//!
//! How time is measured (guest time, not the host's):
//! - Boot: the printk timestamp of the last kernel line before the prompt.
//!   For Linux it is the `/dev/kmsg` marker `/init` writes just before it
//!   starts the shell; for Kobold the last boot line (`Freeing unused kernel
//!   memory`). Both kernels stamp printk from the board's 24 MHz counter,
//!   which QEMU derives from its virtual clock.
//! - insmod+rmmod: Linux runs [`PAIRS`] pairs per module in a shell loop
//!   between two `/dev/kmsg` markers (after one warm-up pair) and the pair
//!   time is the difference of the markers' printk times over the count;
//!   every pair includes what a Linux user pays: the shell forking and
//!   exec'ing busybox's `insmod` and `rmmod`, reading the file, and the
//!   `finit_module`/`delete_module` system calls (busybox 1.35 tries
//!   `finit_module` first). Kobold has no processes:
//!   `selftest modbench FILE...` times insmod and rmmod in the kernel (mean
//!   of 50 after a warm-up) with the same counter.
//! - Guest instructions: every run is made twice, the second time with
//!   `-icount shift=0,sleep=off`. With icount QEMU's virtual clock advances
//!   by 2^shift ns per executed instruction, so with shift=0 one instruction
//!   is one nanosecond of guest time and the same timestamps read in ns are
//!   instruction counts (deterministic, independent of the host's load).
//!   `sleep=off` makes an idle guest (WFI) jump to its next timer at once
//!   instead of waiting in real time: idle time still advances the clock, so
//!   the icount figure is instructions plus idle ns.
//! - Instructions alone: Kobold does not wait in `wfi` in the measured
//!   spans (its boot up to its last line, `selftest modbench`), so its
//!   icount ns are its instructions. Linux does idle: its boot waits on timers,
//!   and in its pairs `rmmod`'s RCU grace period and the shell's wait for
//!   its child sleep until the next 4 ms tick. So the guest reports the
//!   idle time it accounted itself and the table subtracts it. The source
//!   is tick-sched's per-CPU `idle_sleeptime` (+ `iowait_sleeptime`) in
//!   `/proc/timer_list`, in ns: Debian's armmp has `NO_HZ_COMMON`
//!   (`NO_HZ_FULL=y`, no `nohz_full=` given, so plain NO_HZ idle), and
//!   `vexpress-a9` runs one CPU. An idle window runs from the `ktime_get()`
//!   of `tick_nohz_start_idle()` (idle entry, or the exit of an interrupt
//!   taken in idle) to the `ktime_get()` of `tick_nohz_stop_idle()` (the
//!   next interrupt's `tick_irq_enter()`). `/proc/stat`'s idle and
//!   `/proc/uptime`'s idle are the same sum rounded to 10 ms, too coarse
//!   for a 7-million-instruction pair. The read (`grep` of
//!   `/proc/timer_list`, about 2 million instructions) runs outside the
//!   markers: `/bench.sh` reads before the start marker and after the end
//!   marker of each span ([`bench_script`]), `/init` right after its shell
//!   marker ([`init_script`]); the [`CHECKS`] spans show that no idle falls
//!   between a read and a marker (`:` gives 0 idle) and that a span of
//!   `sleep 1` leaves little beyond what one fork+exec of `/bin/true` costs
//!   (0.17-0.20 million more: the `nanosleep`, the wake-up, the ticks of
//!   that second).
//! - What stays inexact: the instructions inside an accounted window (from
//!   the entry stamp to `wfi`: at most 372 from idle entry, 1,622 after an
//!   interrupt in idle; from `wfi` through the interrupt entry to the exit
//!   stamp: at most 203; counted by single-stepping the guest with gdb) are
//!   subtracted as idle, so the row undercounts by at most 1,825
//!   instructions per window (36 windows in 10 crc7 pairs: at most 2,820
//!   per pair, 0.04%); and the clocksource (sp804, 1 MHz) stamps each
//!   window to 1 µs, ±1,000 ns per window, as printk's µs do each marker.
//!   docs/BENCHMARKS.md has the measurements.

use crate::config::{Build, Console, QEMU, Qemu, Variant};
use crate::harness::printk_time;
use crate::linux_modules;
use anyhow::{Context, Result, bail};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Where the busybox package, the empty kernel and the initramfs go.
pub const CACHE: &str = "target/vs-linux";
/// The Debian modules both kernels load: (file stem, module name).
pub const MODULES: [(&str, &str); 3] = [
    ("crc-itu-t", "crc_itu_t"),
    ("crc7", "crc7"),
    ("libarc4", "libarc4"),
];
/// insmod+rmmod pairs per module in Linux's timed loop.
pub const PAIRS: u32 = 10;
/// Memory of every run (the same for both kernels).
const MEM_MB: u32 = 256;
/// The marker `/init` writes to /dev/kmsg before it starts the shell.
const SHELL_MARKER: &str = "kobold-bench: shell";
/// Wall-clock runs of each kernel and of the empty one for the floor.
const FLOOR_RUNS: usize = 7;

/// ARM code of the empty kernel: `mov r0, #0x18` (SYS_EXIT); `ldr r1,
/// [pc]` (the word after `svc`); `svc 0x123456` (ARM semihosting);
/// `.word 0x20026` (ADP_Stopped_ApplicationExit). QEMU loads it like a raw
/// Linux image and jumps to its first word.
pub const EMPTY_KERNEL: [u32; 4] = [0xe3a0_0018, 0xe59f_1000, 0xef12_3456, 0x0002_0026];

/// The empty kernel's bytes (little endian).
pub fn empty_kernel() -> Vec<u8> {
    EMPTY_KERNEL.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Linux's `/init`.
pub fn init_script() -> String {
    format!(
        "#!/bin/busybox sh\n\
         /bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin /tmp\n\
         /bin/busybox --install -s\n\
         mount -t proc proc /proc\n\
         mount -t sysfs sysfs /sys\n\
         mount -t devtmpfs devtmpfs /dev\n\
         echo '{SHELL_MARKER}' > /dev/kmsg\n\
         {IDLE_FN}\n\
         idle boot\n\
         exec sh </dev/ttyAMA0 >/dev/ttyAMA0 2>&1\n"
    )
}

/// Linux's `/bench.sh`: per module, one warm-up pair, then `pairs` pairs
/// between two /dev/kmsg markers.
pub fn bench_script(pairs: u32) -> String {
    let mut s = format!("{IDLE_FN}\n");
    let span = |s: &mut String, name: &str, body: &str| {
        s.push_str(&format!(
            "idle before:{name}\n\
             echo 'kobold-bench: start {name}' > /dev/kmsg\n\
             {body}\n\
             echo 'kobold-bench: end {name}' > /dev/kmsg\n\
             idle after:{name}\n"
        ));
    };
    for (name, body) in CHECKS {
        span(&mut s, name, body);
    }
    for (file, name) in MODULES {
        s.push_str(&format!("insmod /lib/modules/{file}.ko && rmmod {name}\n"));
        span(
            &mut s,
            file,
            &format!(
                "i=0; while [ $i -lt {pairs} ]; do insmod /lib/modules/{file}.ko; rmmod {name}; i=$((i+1)); done"
            ),
        );
    }
    s.push_str("echo kobold-bench: done\n");
    s
}

/// Spans of `/bench.sh` that check the idle subtraction (name, shell
/// command): `:` (the two markers alone), one fork+exec of `/bin/true`,
/// and `sleep 1` twice (a second of idle, so the subtraction must leave
/// little beyond what `/bin/true` costs, and about the same twice).
pub const CHECKS: [(&str, &str); 4] = [
    ("check-empty", ":"),
    ("check-true", "/bin/true"),
    ("check-sleep1", "sleep 1"),
    ("check-sleep1-again", "sleep 1"),
];

/// The shell function `idle TAG`: writes Linux's own idle and iowait
/// time of every CPU (tick-sched's `idle_sleeptime` and
/// `iowait_sleeptime` in `/proc/timer_list`, ns) to /dev/kmsg, one
/// `kobold-bench: idle TAG <line>` record per line; [`idle_reads`] sums
/// them per tag. It runs outside the marked spans (its own fork+exec of
/// `grep` costs about 2 million instructions).
const IDLE_FN: &str = "idle() { grep -E '(idle|iowait)_sleeptime' /proc/timer_list | \
     while read -r l; do echo \"kobold-bench: idle $1 $l\"; done > /dev/kmsg; }";

/// Linux's idle ns per `idle TAG` read in a console log: the sum of the
/// `... NS nsecs` lines with that tag (every CPU, idle and iowait), in the
/// order the tags first appear.
pub fn idle_reads(log: &str) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for line in log.lines() {
        let Some((_, rest)) = line.split_once("kobold-bench: idle ") else {
            continue;
        };
        let w: Vec<&str> = rest.split_whitespace().collect();
        let Some(at) = w.iter().position(|x| *x == "nsecs") else {
            continue;
        };
        let (Some(tag), Some(ns)) = (
            w.first(),
            at.checked_sub(1)
                .and_then(|i| w.get(i))
                .and_then(|n| n.parse::<u64>().ok()),
        ) else {
            continue;
        };
        match out.iter_mut().find(|(t, _)| t == tag) {
            Some((_, v)) => *v += ns,
            None => out.push(((*tag).to_string(), ns)),
        }
    }
    out
}

/// The idle ns Linux accounted between `idle before:NAME` and `idle
/// after:NAME` (None when either read is missing or they go backwards).
pub fn idle_in_span(reads: &[(String, u64)], name: &str) -> Option<u64> {
    let get = |tag: String| reads.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
    get(format!("after:{name}"))?.checked_sub(get(format!("before:{name}"))?)
}

/// The µs between `kobold-bench: start NAME` and `... end NAME` in a
/// console log, per module name.
pub fn marker_spans(log: &str) -> Vec<(String, u64)> {
    let mut starts: Vec<(String, u64)> = Vec::new();
    let mut spans = Vec::new();
    for line in log.lines() {
        let Some(at) = line.find('[') else { continue };
        let Some((t, text)) = printk_time(&line[at..]) else {
            continue;
        };
        if let Some(name) = text.trim().strip_prefix("kobold-bench: start ") {
            starts.push((name.to_string(), t));
        } else if let Some(name) = text.trim().strip_prefix("kobold-bench: end ")
            && let Some((_, t0)) = starts.iter().find(|(n, _)| n == name)
        {
            spans.push((name.to_string(), t.saturating_sub(*t0)));
        }
    }
    spans
}

/// The printk time (µs) of the line holding `text`.
pub fn time_of(log: &str, text: &str) -> Option<u64> {
    log.lines()
        .filter(|l| l.contains(text))
        .find_map(|l| printk_time(&l[l.find('[')?..]).map(|(t, _)| t))
}

/// The printk time (µs) of the last timestamped line.
pub fn last_time(log: &str) -> Option<u64> {
    log.lines()
        .rev()
        .find_map(|l| printk_time(&l[l.find('[')?..]).map(|(t, _)| t))
}

/// One `selftest modbench` row (a column the row lacks reads 0).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModbenchRow {
    pub name: String,
    pub insmod_us: u64,
    pub rmmod_us: u64,
    /// The plain copy of the file's bytes.
    pub copy_ns: u64,
    /// insmod + rmmod.
    pub pair_ns: u64,
    /// The signature check alone (`module_sig_check`).
    pub verify_ns: u64,
    /// insmod minus `verify_ns`: the loader's own time.
    pub loader_ns: u64,
    /// The copy with `ldm`/`stm` (0: not measured).
    pub ldm_copy_ns: u64,
}

/// `selftest modbench FILE...` rows.
pub fn modbench_rows(log: &str) -> Vec<ModbenchRow> {
    log.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let at = w.iter().position(|x| *x == "modbench:")?;
            let w = &w[at + 1..];
            let num = |key: &str| -> Option<u64> {
                let i = w.iter().position(|x| *x == key)?;
                w.get(i + 1)?.parse().ok()
            };
            Some(ModbenchRow {
                name: (*w.first()?).to_string(),
                insmod_us: num("insmod")?,
                rmmod_us: num("rmmod")?,
                copy_ns: num("copy").unwrap_or(0),
                pair_ns: num("pair").unwrap_or(0),
                verify_ns: num("verify").unwrap_or(0),
                loader_ns: num("loader").unwrap_or(0),
                ldm_copy_ns: num("ldmcopy").unwrap_or(0),
            })
        })
        .collect()
}

/// The image sizes of the boot log's `Memory:` line (Linux's
/// `mem_init_print_info`, which Kobold prints too), in KB:
/// (kernel code, rwdata, rodata, init, bss).
pub fn memory_line_sizes(log: &str) -> Option<[u64; 5]> {
    let line = log
        .lines()
        .find(|l| l.contains("Memory:") && l.contains("kernel code"))?;
    let inner = line.split_once('(')?.1;
    let mut out = [0u64; 5];
    for (i, key) in ["kernel code", "rwdata", "rodata", "init", "bss"]
        .iter()
        .enumerate()
    {
        let part = inner
            .split(',')
            .map(str::trim)
            .find(|p| p.strip_suffix(key).is_some_and(|n| n.ends_with("K ")))?;
        out[i] = part.split('K').next()?.parse().ok()?;
    }
    Some(out)
}

/// Debian's `busybox` binary, fetched and cached; `Ok(Err(why))` when the
/// archive cannot be reached.
fn busybox(root: &Path) -> Result<std::result::Result<PathBuf, String>> {
    let cache = root.join(CACHE).join("busybox");
    let bin = cache.join("root/bin/busybox");
    if bin.is_file() {
        return Ok(Ok(bin));
    }
    fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    crate::process::step("apt-get download busybox-static:armhf");
    let got = Command::new("apt-get")
        .args(["download", "-qq", "busybox-static:armhf"])
        .current_dir(&cache)
        .output();
    let why = match got {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(why) = why {
        return Ok(Err(format!(
            "Debian's archive is unreachable or apt cannot download busybox-static:armhf ({why})"
        )));
    }
    let deb = fs::read_dir(&cache)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .context("apt-get download left no .deb")?;
    let out = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(cache.join("root"))
        .output()
        .context("running dpkg-deb")?;
    if !out.status.success() || !bin.is_file() {
        bail!("dpkg-deb -x {} gave no bin/busybox", deb.display());
    }
    Ok(Ok(bin))
}

/// What one boot saw.
struct Session {
    /// Wall time from spawning QEMU to the first prompt.
    to_prompt: Duration,
    /// The console output up to the end.
    log: String,
}

/// Runs `cmd`, waits for the first `/ # `, types `line`, waits for the
/// end of the line holding `until`,
/// then types `poweroff` (Kobold) or kills QEMU (Linux: `kill`).
fn session(
    mut cmd: Command,
    line: Option<&str>,
    until: &str,
    kill: bool,
    timeout: Duration,
) -> Result<Session> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().context("starting qemu-system-arm")?;
    let mut stdin = child.stdin.take().context("QEMU's stdin")?;
    let mut out = child.stdout.take().context("QEMU's stdout")?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut to_prompt = None;
    let result = loop {
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            break Err(anyhow::anyhow!(
                "timed out after {} s:\n{}",
                timeout.as_secs(),
                String::from_utf8_lossy(&seen)
            ));
        }
        match rx.recv_timeout(left) {
            Ok(bytes) => seen.extend_from_slice(&bytes),
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err(anyhow::anyhow!(
                    "QEMU exited early:\n{}",
                    String::from_utf8_lossy(&seen)
                ));
            }
        }
        let text = String::from_utf8_lossy(&seen);
        if to_prompt.is_none() && text.contains("/ # ") {
            to_prompt = Some(started.elapsed());
            if let Some(l) = line {
                stdin.write_all(format!("{l}\n").as_bytes())?;
            }
        }
        if to_prompt.is_some() {
            let after = text.split_once("/ # ").map_or("", |(_, a)| a);
            // The whole line holding `until`, not a part of it.
            if until.is_empty() {
                break Ok(());
            }
            if let Some(at) = after.find(until)
                && after[at..].contains('\n')
            {
                break Ok(());
            }
        }
    };
    if kill || result.is_err() {
        let _ = child.kill();
    } else {
        let _ = stdin.write_all(b"poweroff\n");
    }
    let _ = child.wait();
    result?;
    Ok(Session {
        to_prompt: to_prompt.unwrap_or_default(),
        log: String::from_utf8_lossy(&seen).into_owned(),
    })
}

/// Wall time of one run of `cmd` that exits by itself (fed `input`).
fn whole_run(cmd: Command, input: &[u8]) -> Result<Duration> {
    timed_run(cmd, input, None).map(|r| r.wall)
}

/// What one QEMU run measured on the host.
#[derive(Clone, Copy, Debug)]
struct Timed {
    /// Wall time to the first `/ # `, if one was seen.
    to_prompt: Option<Duration>,
    /// Wall time until QEMU exited.
    wall: Duration,
    /// QEMU's own CPU time, user + system, all its threads (the children's
    /// `getrusage` before and after; one QEMU runs at a time). Steadier than
    /// the wall time on a loaded machine, and blind to what the wall time
    /// also counts: waiting for this harness to notice the prompt and type.
    cpu: Duration,
}

/// The CPU time (user + system) of this process's waited-for children.
fn children_cpu() -> Duration {
    // SAFETY: getrusage writes one `struct rusage` into the zeroed value
    // it is given and reads nothing else.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Whether `/ # ` ends within the last `new` bytes of `seen` (it may begin
/// up to three bytes before them): each read looks only at what it added,
/// not at the whole output again (the harness runs unoptimised, and
/// rescanning everything on every read of a byte-by-byte console cost it
/// milliseconds of the CPU QEMU was using).
fn prompt_in(seen: &[u8], new: usize) -> bool {
    let from = seen.len().saturating_sub(new + 3);
    seen[from..].windows(4).any(|w| w == b"/ # ")
}

/// One run of `cmd` that exits by itself: `input` is typed at the first
/// `/ # ` (the harness reads QEMU's console through a pipe as it comes) or,
/// with `ahead` = the console's file, written at once and read by the shell
/// when it starts, while the console goes to that file and is looked at
/// only after QEMU exited. The second is QEMU and the kernel alone: the
/// console writes a byte per `write`, and a reader woken for each of them
/// (this harness, on the same two cores) cost the run ~5 ms of wall time
/// and ~2.5 ms of QEMU's CPU time (docs/BENCHMARKS.md). A file stands in
/// for a `-serial file:` console; an empty kernel prints nothing, so only
/// the kernel's side changes.
fn timed_run(mut cmd: Command, input: &[u8], ahead: Option<&Path>) -> Result<Timed> {
    if let Some(log) = ahead {
        let file = fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::from(file))
            .stderr(Stdio::null());
        let cpu_before = children_cpu();
        let started = Instant::now();
        let mut child = cmd.spawn().context("starting qemu-system-arm")?;
        let mut stdin = child.stdin.take().context("QEMU's stdin")?;
        stdin.write_all(input)?;
        // Block in `wait` (no polling, which would compete with QEMU); a
        // watchdog thread kills a run that has not ended in 60 s.
        let pid = child.id() as libc::pid_t;
        let (done, watch) = mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if watch.recv_timeout(Duration::from_secs(60)).is_err() {
                // SAFETY: kill(2) on our own child, which has not been
                // waited for yet (the main thread is still in `wait`), so
                // the pid cannot have been reused.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                return true;
            }
            false
        });
        let status = child.wait()?;
        let wall = started.elapsed();
        let _ = done.send(());
        if watchdog.join().unwrap_or(false) {
            bail!("the run did not end in 60 s");
        }
        let cpu = children_cpu().saturating_sub(cpu_before);
        let seen = fs::read(log)?;
        if !status.success() || !prompt_in(&seen, seen.len()) {
            bail!("{}: no prompt, or QEMU failed ({status})", log.display());
        }
        return Ok(Timed {
            to_prompt: None,
            wall,
            cpu,
        });
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let cpu_before = children_cpu();
    let started = Instant::now();
    let mut child = cmd.spawn().context("starting qemu-system-arm")?;
    let mut stdin = child.stdin.take().context("QEMU's stdin")?;
    let mut out = child.stdout.take().context("QEMU's stdout")?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let mut typed = input.is_empty();
    let mut to_prompt = None;
    loop {
        let n = out.read(&mut buf)?;
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if to_prompt.is_none() && prompt_in(&seen, n) {
            to_prompt = Some(started.elapsed());
            if !typed {
                stdin.write_all(input)?;
                typed = true;
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            bail!("the run did not end in 60 s");
        }
    }
    child.wait()?;
    let wall = started.elapsed();
    Ok(Timed {
        to_prompt,
        wall,
        cpu: children_cpu().saturating_sub(cpu_before),
    })
}

/// The value at fraction `q` (0.25, 0.5, 0.75) of `v`, sorted.
fn quantile(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(((v.len().saturating_sub(1)) as f64 * q).round() as usize)
        .copied()
        .unwrap_or_default()
}

/// `cargo xtask bench --floor [RUNS]`: the physical floor alone, with more
/// runs than `--vs-linux` makes, so that a change of a few milliseconds
/// shows through a loaded machine's noise. Each round runs the empty
/// kernel, the release highmem Kobold and each of `others` (other Kobold
/// images, e.g. a build of an older commit) one after the other, so that
/// load changes hit all alike. Each Kobold runs twice a round: `poweroff`
/// typed when the harness sees the prompt on the console's pipe (what a
/// user at a terminal does; the harness's reading is in the time), and
/// typed ahead with the console going to a file (QEMU and the kernel
/// alone; see `timed_run`). Wall time and QEMU's own CPU time are both
/// printed: the CPU time is steadier on a loaded machine.
pub fn floor(root: &Path, runs: usize, others: &[PathBuf]) -> Result<()> {
    let cache = root.join(CACHE);
    fs::create_dir_all(&cache)?;
    let empty = cache.join("empty-kernel.bin");
    fs::write(&empty, empty_kernel())?;
    crate::build::build(root, Build::release(Variant::Highmem))?;
    let empty_qemu = Qemu {
        mem_mb: MEM_MB,
        kernel: empty,
        append: None,
        dtb: None,
        semihosting: true,
        console: Console::SerialOnly,
        gdb: false,
        initrd: None,
        paused_qmp: None,
    };
    let mut kernels = vec![crate::bench::bench_qemu(root, MEM_MB, None)];
    for k in others {
        let mut q = crate::bench::bench_qemu(root, MEM_MB, None);
        q.kernel = k.clone();
        kernels.push(q);
    }
    let runs = runs.max(1);
    crate::process::step(format!("wall clock: {runs} interleaved rounds"));
    let mut empty_runs = Vec::new();
    // Per kernel: `poweroff` typed at the prompt, and typed ahead.
    let mut typed = vec![Vec::new(); kernels.len()];
    let mut ahead = vec![Vec::new(); kernels.len()];
    let console = cache.join("floor-console.log");
    for _ in 0..runs {
        empty_runs.push(timed_run(empty_qemu.command(), b"", None)?);
        for (i, k) in kernels.iter().enumerate() {
            let r = timed_run(k.command(), b"poweroff\n", None)?;
            r.to_prompt.context("no prompt")?;
            typed[i].push(r);
            ahead[i].push(timed_run(k.command(), b"poweroff\n", Some(&console))?);
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let col = |v: &[Timed], f: fn(&Timed) -> Duration| v.iter().map(f).collect::<Vec<_>>();
    let wall = |r: &Timed| r.wall;
    let cpu = |r: &Timed| r.cpu;
    let (ew, ec) = (
        quantile(&col(&empty_runs, wall), 0.5),
        quantile(&col(&empty_runs, cpu), 0.5),
    );
    println!();
    println!(
        "the physical floor, -m {MEM_MB}, {runs} interleaved rounds (ms: median [quartiles]; \
         wall, then QEMU's CPU time, user + system)"
    );
    let line = |name: &str, v: &[Timed]| {
        let (w, c) = (col(v, wall), col(v, cpu));
        println!(
            "  {name}: wall {:.1} [{:.1} {:.1}] = {}, CPU {:.1} [{:.1} {:.1}] = {}",
            ms(quantile(&w, 0.5)),
            ms(quantile(&w, 0.25)),
            ms(quantile(&w, 0.75)),
            ratio(quantile(&w, 0.5).as_secs_f64(), ew.as_secs_f64()),
            ms(quantile(&c, 0.5)),
            ms(quantile(&c, 0.25)),
            ms(quantile(&c, 0.75)),
            ratio(quantile(&c, 0.5).as_secs_f64(), ec.as_secs_f64()),
        );
    };
    line("empty kernel", &empty_runs);
    for (i, k) in kernels.iter().enumerate() {
        println!("  {}", k.kernel.display());
        line("  poweroff typed at the prompt  ", &typed[i]);
        let p: Vec<_> = typed[i].iter().filter_map(|r| r.to_prompt).collect();
        println!("    (the prompt after {:.1} ms)", ms(quantile(&p, 0.5)));
        line("  typed ahead, console to a file", &ahead[i]);
    }
    println!("  empty kernel: {}", describe(&empty_qemu.command()));
    if let Some(k) = kernels.first() {
        println!("  Kobold: {}", describe(&k.command()));
    }
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "-".into()
    }
}

/// The command line of a QEMU run, for the tables' footnotes.
fn describe(cmd: &Command) -> String {
    crate::process::describe(cmd)
}

/// What one kernel's pair of runs (plain TCG, icount) measured.
#[derive(Default, Clone)]
struct Figures {
    boot_us: u64,
    /// Boot, icount ns (instructions plus idle ns).
    boot_instr: u64,
    /// The idle ns the kernel itself accounted during the boot (icount run;
    /// Linux only).
    boot_idle: u64,
    /// Per module (name, µs per pair, icount ns per pair, accounted idle
    /// ns per pair in the icount run).
    pairs: Vec<(String, f64, f64, f64)>,
    /// Linux's check spans in the icount run: (name, icount ns, idle ns).
    checks: Vec<(String, u64, u64)>,
    sizes: Option<[u64; 5]>,
}

fn with_icount(mut cmd: Command, icount: bool) -> Command {
    if icount {
        cmd.args(["-icount", "shift=0,sleep=off"]);
    }
    cmd
}

/// `cargo xtask bench --vs-linux`.
pub fn vs_linux(root: &Path) -> Result<()> {
    let pkg = match linux_modules::package_root(root, None, true)? {
        Ok(p) => p,
        Err(why) => {
            println!("vs-linux: skipped: {why}");
            return Ok(());
        }
    };
    let busybox = match busybox(root)? {
        Ok(b) => b,
        Err(why) => {
            println!("vs-linux: skipped: {why}");
            return Ok(());
        }
    };
    let vmlinuz = fs::read_dir(pkg.join("boot"))
        .context("the package has no boot/")?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .context("the package has no boot/vmlinuz-*")?;
    let dtb = crate::linux_modules::find_file(&pkg.join("usr/lib"), "vexpress-v2p-ca9.dtb")
        .context("the package has no vexpress-v2p-ca9.dtb")?;
    let mods_dir = linux_modules::modules_dir(&pkg).context("no lib/modules in the package")?;
    let mut kos = Vec::new();
    for (file, _) in MODULES {
        let p = crate::linux_modules::find_file(&mods_dir, &format!("{file}.ko"))
            .with_context(|| format!("{file}.ko is not in the package"))?;
        kos.push((format!("lib/modules/{file}.ko"), fs::read(&p)?));
    }
    let cache = root.join(CACHE);
    fs::create_dir_all(&cache)?;

    // Linux's initramfs.
    let bb = fs::read(&busybox)?;
    let init = init_script().into_bytes();
    let script = bench_script(PAIRS).into_bytes();
    let mut members: Vec<(&str, u32, &[u8])> = vec![
        ("bin", 0o040755, b""),
        ("bin/busybox", 0o100755, &bb),
        ("init", 0o100755, &init),
        ("bench.sh", 0o100644, &script),
        ("lib", 0o040755, b""),
        ("lib/modules", 0o040755, b""),
    ];
    for (n, d) in &kos {
        members.push((n.as_str(), 0o100644, d.as_slice()));
    }
    let mut cpio = kobold_common::cpio::build(&members);
    cpio.resize(cpio.len().next_multiple_of(512), 0);
    let linux_initrd = cache.join("linux-initramfs.cpio");
    fs::write(&linux_initrd, &cpio)?;

    // Kobold's initramfs: the same three modules.
    let kob_members: Vec<(&str, u32, &[u8])> = [
        ("lib", 0o040755, &b""[..]),
        ("lib/modules", 0o040755, &b""[..]),
    ]
    .into_iter()
    .chain(
        kos.iter()
            .map(|(n, d)| (n.as_str(), 0o100644, d.as_slice())),
    )
    .collect();
    let mut kcpio = kobold_common::cpio::build(&kob_members);
    kcpio.resize(kcpio.len().next_multiple_of(512), 0);
    let kobold_initrd = cache.join("kobold-initramfs.cpio");
    fs::write(&kobold_initrd, &kcpio)?;

    let empty = cache.join("empty-kernel.bin");
    fs::write(&empty, empty_kernel())?;

    crate::build::build(root, Build::release(Variant::Highmem))?;
    let kobold_qemu = |initrd: Option<PathBuf>| crate::bench::bench_qemu(root, MEM_MB, initrd);
    let linux_cmd = || {
        let mut c = Command::new(QEMU);
        c.args(["-M", "vexpress-a9", "-m", &MEM_MB.to_string()])
            .args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
            .arg("-kernel")
            .arg(&vmlinuz)
            .arg("-dtb")
            .arg(&dtb)
            .arg("-initrd")
            .arg(&linux_initrd)
            .args(["-append", "console=ttyAMA0"]);
        c
    };
    let empty_qemu = Qemu {
        mem_mb: MEM_MB,
        kernel: empty.clone(),
        append: None,
        dtb: None,
        semihosting: true,
        console: Console::SerialOnly,
        gdb: false,
        initrd: None,
        paused_qmp: None,
    };

    let files: Vec<String> = MODULES
        .iter()
        .map(|(f, _)| format!("/lib/modules/{f}.ko"))
        .collect();
    let kobold_line = format!("selftest modbench {}", files.join(" "));
    let mut kob = Figures::default();
    let mut lin = Figures::default();
    let mut commands = Vec::new();
    let mut copies = Vec::new();
    for icount in [false, true] {
        let label = if icount { "icount" } else { "TCG" };
        crate::process::step(format!("Kobold ({label}): boot, {kobold_line}"));
        let cmd = with_icount(kobold_qemu(Some(kobold_initrd.clone())).command(), icount);
        commands.push(describe(&cmd));
        let s = session(
            cmd,
            Some(&kobold_line),
            "selftest modbench: ",
            false,
            Duration::from_secs(300),
        )?;
        let boot = s
            .log
            .split_once("/ # ")
            .and_then(|(b, _)| last_time(b))
            .unwrap_or(0);
        let _ = fs::write(cache.join(format!("kobold-{label}.log")), &s.log);
        if !s.log.contains("selftest modbench: PASS") {
            bail!("Kobold's modbench failed:\n{}", s.log);
        }
        let rows = modbench_rows(&s.log);
        if icount {
            kob.boot_instr = boot;
        } else {
            kob.boot_us = boot;
            kob.sizes = memory_line_sizes(&s.log);
        }
        for r in rows {
            // µs, from the ns column when there is one.
            let v = if r.pair_ns > 0 {
                r.pair_ns as f64 / 1000.0
            } else {
                (r.insmod_us + r.rmmod_us) as f64
            };
            match kob.pairs.iter_mut().find(|p| p.0 == r.name) {
                Some(p) => p.2 = v * 1000.0,
                None => kob.pairs.push((r.name.clone(), v, 0.0, 0.0)),
            }
            copies.push((icount, r));
        }

        crate::process::step(format!("Linux ({label}): boot, sh /bench.sh"));
        let cmd = with_icount(linux_cmd(), icount);
        commands.push(describe(&cmd));
        let s = session(
            cmd,
            Some("sh /bench.sh"),
            "kobold-bench: done",
            true,
            Duration::from_secs(600),
        )?;
        let boot = time_of(&s.log, SHELL_MARKER).unwrap_or(0);
        let idle = idle_reads(&s.log);
        if icount {
            lin.boot_instr = boot;
            lin.boot_idle = idle
                .iter()
                .find(|(t, _)| t == "boot")
                .map_or(0, |(_, v)| *v);
        } else {
            lin.boot_us = boot;
            lin.sizes = memory_line_sizes(&s.log);
        }
        for (name, span) in marker_spans(&s.log) {
            let idle_ns = idle_in_span(&idle, &name).unwrap_or(0);
            if CHECKS.iter().any(|(c, _)| *c == name) {
                if icount {
                    lin.checks.push((name, span * 1000, idle_ns));
                }
                continue;
            }
            let v = span as f64 / PAIRS as f64;
            let idle_per_pair = idle_ns as f64 / PAIRS as f64;
            match lin.pairs.iter_mut().find(|p| p.0 == name) {
                Some(p) => {
                    p.2 = v * 1000.0;
                    p.3 = idle_per_pair;
                }
                None => lin.pairs.push((name, v, 0.0, 0.0)),
            }
        }
        let _ = fs::write(cache.join(format!("linux-{label}.log")), &s.log);
    }

    // Floor: whole runs, wall clock.
    crate::process::step(format!("wall clock: {FLOOR_RUNS} runs each"));
    let mut t_empty = Vec::new();
    let mut t_kobold = Vec::new();
    let mut t_kobold_prompt = Vec::new();
    let mut t_linux_prompt = Vec::new();
    for _ in 0..FLOOR_RUNS {
        t_empty.push(whole_run(empty_qemu.command(), b"")?);
        t_kobold.push(whole_run(kobold_qemu(None).command(), b"poweroff\n")?);
        t_kobold_prompt.push(
            session(
                kobold_qemu(None).command(),
                None,
                "",
                true,
                Duration::from_secs(60),
            )?
            .to_prompt,
        );
    }
    for _ in 0..3 {
        t_linux_prompt
            .push(session(linux_cmd(), None, "", true, Duration::from_secs(120))?.to_prompt);
    }
    let (e, k, kp, lp) = (
        median(t_empty),
        median(t_kobold),
        median(t_kobold_prompt),
        median(t_linux_prompt),
    );

    println!();
    println!("Kobold vs Debian Linux 6.1 armmp, QEMU vexpress-a9, -m {MEM_MB}");
    println!(
        "{:<34} {:>14} {:>14} {:>8}",
        "measure", "Kobold", "Linux", "L/K"
    );
    let row = |what: &str, kv: f64, lv: f64, unit: &str| {
        println!(
            "{:<34} {:>14} {:>14} {:>8}",
            what,
            format!("{kv:.0} {unit}"),
            format!("{lv:.0} {unit}"),
            ratio(lv, kv)
        );
    };
    row(
        "boot to shell, guest time",
        kob.boot_us as f64,
        lin.boot_us as f64,
        "us",
    );
    row(
        "boot to shell, icount ns",
        kob.boot_instr as f64 * 1000.0,
        lin.boot_instr as f64 * 1000.0,
        "",
    );
    row(
        "  idle the kernel accounted, ns",
        0.0,
        lin.boot_idle as f64,
        "",
    );
    row(
        "  instructions (icount - idle)",
        kob.boot_instr as f64 * 1000.0,
        (lin.boot_instr * 1000).saturating_sub(lin.boot_idle) as f64,
        "",
    );
    row(
        "boot to prompt, wall (median)",
        kp.as_secs_f64() * 1e6,
        lp.as_secs_f64() * 1e6,
        "us",
    );
    for (name, kus, kin, _) in &kob.pairs {
        let (lus, lins, lidle) = lin
            .pairs
            .iter()
            .find(|p| &p.0 == name)
            .map_or((0.0, 0.0, 0.0), |p| (p.1, p.2, p.3));
        row(&format!("insmod+rmmod {name}, guest time"), *kus, lus, "us");
        row("  same, icount ns", *kin, lins, "");
        row("  idle the kernel accounted, ns", 0.0, lidle, "");
        row("  instructions (icount - idle)", *kin, lins - lidle, "");
    }
    println!();
    println!("Linux's idle subtraction checked (icount run; each span between two markers)");
    for (name, span, idle) in &lin.checks {
        let body = CHECKS
            .iter()
            .find(|(c, _)| c == name)
            .map_or("", |(_, b)| b);
        println!(
            "  {:<20} icount {span:>11} ns  idle {idle:>11} ns  instructions {:>9}",
            format!("`{body}`"),
            span.saturating_sub(*idle)
        );
    }
    println!("  (icount - idle undercounts by the instructions inside Linux's idle windows,");
    println!("  at most 1,825 per window, and each window is stamped to 1 us: docs/BENCHMARKS.md)");
    println!();
    println!("Kobold's insmod over a copy of the module's bytes (goal: within 10x);");
    println!("the signature check (verify) on its own row, and the loader without it");
    for (icount, r) in &copies {
        let how = if *icount {
            "icount: instructions"
        } else {
            "TCG guest time"
        };
        let (name, copy) = (&r.name, r.copy_ns);
        println!(
            "  {name:<10} {how:<21} insmod {} us, copy {copy} ns: {}",
            r.insmod_us,
            ratio(r.insmod_us as f64 * 1000.0, copy as f64)
        );
        println!(
            "  {:<10} {:<21} verify {} ns (its own row), loader {} ns: {} the copy",
            "",
            "",
            r.verify_ns,
            r.loader_ns,
            ratio(r.loader_ns as f64, copy as f64)
        );
        if r.ldm_copy_ns > 0 {
            println!(
                "  {:<10} {:<21} an ldm/stm copy: {} ns; loader over it: {}",
                "",
                "",
                r.ldm_copy_ns,
                ratio(r.loader_ns as f64, r.ldm_copy_ns as f64)
            );
        }
    }
    println!();
    println!("image size (KB, from each boot log's `Memory:` line)");
    println!(
        "{:<12} {:>8} {:>8} {:>8}",
        "section", "Kobold", "Linux", "L/K"
    );
    for (i, name) in ["text", "rwdata", "rodata", "init", "bss"]
        .iter()
        .enumerate()
    {
        let k = kob.sizes.map_or(0, |s| s[i]);
        let l = lin.sizes.map_or(0, |s| s[i]);
        println!(
            "{:<12} {:>8} {:>8} {:>8}",
            name,
            k,
            l,
            ratio(l as f64, k as f64)
        );
    }
    println!();
    println!("the physical floor (wall clock, median of {FLOOR_RUNS})");
    println!(
        "  empty kernel (semihosting exit at once): {:.1} ms",
        e.as_secs_f64() * 1e3
    );
    println!(
        "  Kobold, boot to shell then poweroff:     {:.1} ms = {} the empty run",
        k.as_secs_f64() * 1e3,
        ratio(k.as_secs_f64(), e.as_secs_f64())
    );
    println!();
    println!("commands (each ran once plain and once with -icount shift=0,sleep=off):");
    for c in commands.iter().take(2) {
        println!("  {c}");
    }
    println!("  Linux types `sh /bench.sh` at its prompt; Kobold types `{kobold_line}`");
    println!("  empty kernel: {}", describe(&empty_qemu.command()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fed in pieces of every size, `prompt_in` finds `/ # ` in the read
    /// that completes it (also when it is split across reads) and not
    /// before, as a scan of everything seen would.
    #[test]
    fn the_prompt_is_found_in_the_read_that_completes_it() {
        let text = b"[    0.0] Freeing\n/ #/ # poweroff\n/ # ";
        for piece in 1..=text.len() {
            let mut seen = Vec::new();
            for chunk in text.chunks(piece) {
                seen.extend_from_slice(chunk);
                let full = seen.windows(4).any(|w| w == b"/ # ");
                let first = !seen[..seen.len() - chunk.len()]
                    .windows(4)
                    .any(|w| w == b"/ # ");
                if first {
                    assert_eq!(prompt_in(&seen, chunk.len()), full, "piece {piece}");
                }
            }
        }
        assert!(!prompt_in(b"", 0));
        assert!(!prompt_in(b"/ #", 3));
    }

    #[test]
    fn spans_between_markers() {
        let log = "[    1.000000] kobold-bench: start crc7\r\n\
                   noise\n\
                   [    1.500250] kobold-bench: end crc7\n\
                   / # [    2.000000] kobold-bench: start libarc4\n\
                   [    2.000100] kobold-bench: end libarc4\n\
                   [    3.000000] kobold-bench: end nosuch\n";
        assert_eq!(
            marker_spans(log),
            vec![("crc7".to_string(), 500_250), ("libarc4".to_string(), 100)]
        );
        assert_eq!(time_of(log, "end libarc4"), Some(2_000_100));
        assert_eq!(last_time(log), Some(3_000_000));
        assert_eq!(last_time("no time\n[x] y\n"), None);
    }

    #[test]
    fn modbench_rows_parse() {
        let log = "modbench: crc7          4661 bytes  insmod    310 us  rmmod    40 us  copy   2100 ns  insmod/copy   147x  pair   350123 ns\n\
                   modbench: hello         3296 bytes  insmod    294 us  rmmod    34 us\n\
                   selftest modbench: PASS\n";
        let crc7 = ModbenchRow {
            name: "crc7".into(),
            insmod_us: 310,
            rmmod_us: 40,
            copy_ns: 2100,
            pair_ns: 350_123,
            ..Default::default()
        };
        let hello = ModbenchRow {
            name: "hello".into(),
            insmod_us: 294,
            rmmod_us: 34,
            ..Default::default()
        };
        assert_eq!(modbench_rows(log), vec![crc7.clone(), hello]);
        let log = "modbench: crc7          4661 bytes  insmod    310 us  rmmod    40 us  copy   2100 ns  insmod/copy   147x  pair   350123 ns  verify    44357 ns  loader    86000 ns  loader/copy   40x  ldmcopy    900 ns  loader/ldmcopy   95x\n";
        assert_eq!(
            modbench_rows(log),
            vec![ModbenchRow {
                verify_ns: 44_357,
                loader_ns: 86_000,
                ldm_copy_ns: 900,
                ..crc7
            }]
        );
    }

    #[test]
    fn memory_line() {
        let k = "[    0.066568] Memory: 260172K/262144K available (684K kernel code, 4K rwdata, 248K rodata, 12K init, 119K bss, 1908K reserved, 0K highmem)";
        assert_eq!(memory_line_sizes(k), Some([684, 4, 248, 12, 119]));
        let l = "[    0.000000] Memory: 234580K/262144K available (10240K kernel code, 1711K rwdata, 3424K rodata, 2048K init, 432K bss, 11180K reserved, 16384K cma-reserved, 0K highmem)";
        assert_eq!(memory_line_sizes(l), Some([10240, 1711, 3424, 2048, 432]));
        assert_eq!(memory_line_sizes("Memory: 1K/2K available"), None);
    }

    #[test]
    fn empty_kernel_is_four_arm_words() {
        let b = empty_kernel();
        assert_eq!(b.len(), 16);
        assert_eq!(&b[..4], &[0x18, 0x00, 0xa0, 0xe3]);
    }

    #[test]
    fn idle_reads_sum_per_tag() {
        let log = "[    1.508822] kobold-bench: idle boot .idle_sleeptime : 40133000 nsecs\r\n\
                   [    1.508912] kobold-bench: idle boot .iowait_sleeptime: 0 nsecs\n\
                   [    1.532974] kobold-bench: idle before:crc7 .idle_sleeptime : 60081000 nsecs\n\
                   [    1.532975] kobold-bench: idle before:crc7 .idle_sleeptime : 19000 nsecs\n\
                   [    1.533067] kobold-bench: idle before:crc7 .iowait_sleeptime: 1000 nsecs\n\
                   [    1.533402] kobold-bench: start crc7\n\
                   kobold-bench: idle after:crc7 .idle_sleeptime : 70100000 nsecs\n\
                   kobold-bench: idle after:crc7 .iowait_sleeptime: 2000 nsecs\n\
                   kobold-bench: idle before:x .idle_sleeptime : 5 nsecs\n\
                   kobold-bench: idle after:x .idle_sleeptime : 4 nsecs\n\
                   kobold-bench: idle junk .idle_sleeptime : 12x nsecs\n\
                   kobold-bench: idle junk2 nsecs\n\
                   kobold-bench: idle junk3 .idle_sleeptime : 7\n";
        let reads = idle_reads(log);
        assert_eq!(
            reads,
            vec![
                ("boot".to_string(), 40_133_000),
                ("before:crc7".to_string(), 60_101_000),
                ("after:crc7".to_string(), 70_102_000),
                ("before:x".to_string(), 5),
                ("after:x".to_string(), 4),
            ]
        );
        assert_eq!(idle_in_span(&reads, "crc7"), Some(10_001_000));
        // Backwards or missing reads give no figure.
        assert_eq!(idle_in_span(&reads, "x"), None);
        assert_eq!(idle_in_span(&reads, "boot"), None);
        assert_eq!(idle_in_span(&reads, "nosuch"), None);
    }

    #[test]
    fn scripts_name_every_module() {
        let s = bench_script(3);
        for (file, name) in MODULES {
            assert!(s.contains(&format!("insmod /lib/modules/{file}.ko; rmmod {name}")));
            assert!(s.contains(&format!("kobold-bench: start {file}")));
        }
        assert!(init_script().contains(SHELL_MARKER));
        // Every span (modules and checks) is read around its markers, and
        // the reads stay outside them.
        for name in MODULES
            .iter()
            .map(|m| m.0)
            .chain(CHECKS.iter().map(|c| c.0))
        {
            let before = s.find(&format!("idle before:{name}\n")).unwrap();
            let start = s.find(&format!("kobold-bench: start {name}'")).unwrap();
            let end = s.find(&format!("kobold-bench: end {name}'")).unwrap();
            let after = s.find(&format!("idle after:{name}\n")).unwrap();
            assert!(before < start && start < end && end < after, "{name}");
        }
        assert!(s.starts_with("idle() {"));
        // /init reads the boot's idle after its marker.
        let init = init_script();
        assert!(init.find(SHELL_MARKER).unwrap() < init.find("idle boot\n").unwrap());
        assert!(init.find("idle boot\n").unwrap() < init.find("exec sh").unwrap());
    }
}
