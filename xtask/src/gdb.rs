//! `cargo xtask gdb`: boot the kernel in QEMU with its gdb stub and attach
//! `gdb-multiarch` to it, with the project's gdb script
//! (`scripts/gdb/kobold.py`: `kobold-symbols`, Linux's `lx-symbols` for
//! Kobold) loaded.
//!
//! Linux's recipe (Documentation/gdb-kernel-debugging.txt) is two terminals:
//! `qemu ... -s -S` in one, `gdb vmlinux -ex 'target remote :1234'` and
//! `lx-symbols` in the other. Here both start from one command: gdb gets
//! this terminal, and QEMU's serial console goes to a Unix socket
//! (`target/kobold/gdb/console.sock`, connect with
//! `socat -,raw,echo=0 UNIX-CONNECT:target/kobold/gdb/console.sock`) and is
//! logged to `target/kobold/gdb/console.log`. QEMU waits at the first
//! instruction unless `--no-pause`; arguments after `--` go to gdb, so
//! `cargo xtask gdb -- --batch -ex ...` is scriptable.
//!
//! [`session_test`] is that, as a step of `cargo xtask test`: gdb in batch
//! mode breaks in a module's `init_module` at source level and prints a
//! module variable set from the command line. It runs on a port of its own
//! and in a directory of its own, so QEMU cases may run beside it, and
//! within [`SESSION_TIMEOUT`]; QEMU and gdb are killed however it ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::build::{self, rel};
use crate::config::{Build, Console, GDB_PORT, QEMU, Qemu};
use crate::run::{RunArgs, check_mem, write_generated_dtb};
use crate::{process, setup};

/// The debugger.
pub const GDB: &str = "gdb-multiarch";
/// The project's gdb script.
pub const SCRIPT: &str = "scripts/gdb/kobold.py";
/// Where the console socket and log go.
pub const DIR: &str = "target/kobold/gdb";

#[derive(Debug, Args)]
pub struct GdbArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// The TCP port of QEMU's gdb stub.
    #[arg(long, value_name = "PORT", default_value_t = GDB_PORT)]
    pub port: u16,

    /// Let the kernel run at once instead of waiting for gdb's `continue`.
    #[arg(long)]
    pub no_pause: bool,

    /// Arguments for gdb, after `--` (e.g. `--batch -ex 'info registers'`).
    #[arg(last = true, value_name = "GDB ARGS")]
    pub gdb_args: Vec<String>,
}

/// QEMU's extra arguments: the gdb stub on `port`, halted unless
/// `no_pause`, and the serial console on `sock`, logged to `log`.
pub fn qemu_extra_args(port: u16, no_pause: bool, sock: &Path, log: &Path) -> Vec<String> {
    let mut a = vec!["-gdb".to_string(), format!("tcp::{port}")];
    if !no_pause {
        a.push("-S".into());
    }
    a.push("-chardev".into());
    a.push(format!(
        "socket,id=con,path={},server=on,wait=off,logfile={}",
        sock.display(),
        log.display()
    ));
    a.push("-serial".into());
    a.push("chardev:con".into());
    a
}

/// gdb's arguments: the kernel ELF, the script, the connection, then the
/// user's.
pub fn gdb_args(elf: &Path, script: &Path, port: u16, extra: &[String]) -> Vec<String> {
    let mut a = vec![
        "-q".to_string(),
        elf.display().to_string(),
        "-ex".into(),
        "set pagination off".into(),
        "-ex".into(),
        "set confirm off".into(),
        "-x".into(),
        script.display().to_string(),
        "-ex".into(),
        format!("target remote :{port}"),
    ];
    a.extend(extra.iter().cloned());
    a
}

/// The name of `cargo xtask test`'s gdb step, for `--filter`.
pub const SESSION_TEST: &str = "gdb_session";
/// How long the whole gdb session may take.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(120);
/// The session's command line: `hello` loaded at boot with parameters
/// (`hello.count=3` reaches it as `insmod hello.ko count=3` would).
pub const SESSION_APPEND: &str = "console=ttyAMA0 modules-load=hello hello.count=3 hello.who=gdb";

/// The session's gdb commands: the breakpoint set before the module
/// exists (pending), hit in `hello_init` once `kobold-symbols` (re-run at
/// the "module coming" breakpoint) has loaded hello.ko's symbols at its
/// real addresses; then the parameters, read from the module's data.
pub fn session_commands() -> Vec<String> {
    let mut a = Vec::new();
    for c in [
        "set breakpoint pending on",
        "kobold-symbols",
        "break hello_init",
        "continue",
        "print count",
        "print who",
        "print count * 7",
    ] {
        a.push("-ex".to_string());
        a.push(c.to_string());
    }
    a
}

/// Checks the session's gdb output: the breakpoint hit in `hello_init` at
/// a line of modules/c/hello.c, and the variables' values.
pub fn check_session(out: &str) -> Result<()> {
    let hit = regex::Regex::new(
        r"(?m)^Breakpoint \d+, .*hello_init \(\) at \S*modules/c/hello\.c:(\d+)$",
    )
    .expect("valid regex");
    let Some(line) = hit.captures(out).and_then(|c| c[1].parse::<u32>().ok()) else {
        bail!("gdb did not stop in hello_init at modules/c/hello.c:LINE");
    };
    if line == 0 {
        bail!("hello_init's line number is 0");
    }
    for (what, want) in [
        ("print count", r"(?m)^\$1 = 3$"),
        ("print who", r#"(?m)^\$2 = 0x[0-9a-f]+ "gdb"$"#),
        ("print count * 7", r"(?m)^\$3 = 21$"),
    ] {
        if !regex::Regex::new(want).expect("valid regex").is_match(out) {
            bail!("`{what}` did not print what `{SESSION_APPEND}` set (wanted /{want}/)");
        }
    }
    Ok(())
}

/// `cargo xtask test`'s gdb step (the release highmem kernel and the
/// initramfs must be built). `Ok(None)`: skipped, with the reason.
pub fn session_test(root: &Path) -> Result<Option<String>> {
    if process::find_in_path(GDB).is_none() {
        return Ok(Some(format!(
            "{GDB} not found (sudo apt-get install gdb-multiarch)"
        )));
    }
    let build = Build::release(crate::config::Variant::Highmem);
    let dir = root.join(DIR).join(format!("test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let sock = dir.join("console.sock");
    let log = dir.join("console.log");
    // A port no one listens on now; QEMU takes it a moment later.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("finding a free TCP port")?
        .port();
    let qemu = Qemu {
        mem_mb: 128,
        kernel: build.uimage(root),
        append: Some(SESSION_APPEND.into()),
        dtb: None,
        semihosting: true,
        console: Console::SerialOnly,
        gdb: false,
        initrd: Some(root.join(crate::modules::INITRD)),
        paused_qmp: None,
    };
    let mut qargs = qemu.args();
    if let Some(i) = qargs.iter().position(|a| a == "stdio")
        && i > 0
        && qargs[i - 1] == "-serial"
    {
        qargs.drain(i - 1..=i);
    }
    let mut qcmd = Command::new(QEMU);
    qcmd.args(qargs)
        .args(qemu_extra_args(port, false, &sock, &log))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _qemu = KillOnDrop(
        qcmd.spawn()
            .with_context(|| format!("could not start `{}`", process::describe(&qcmd)))?,
    );
    let out_path = dir.join("gdb.out");
    let out = std::fs::File::create(&out_path)
        .with_context(|| format!("creating {}", out_path.display()))?;
    let mut extra = vec!["--batch".to_string()];
    extra.extend(session_commands());
    let mut g = Command::new(GDB);
    g.args(gdb_args(&build.elf(root), &root.join(SCRIPT), port, &extra))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    let mut gdb = KillOnDrop(
        g.spawn()
            .with_context(|| format!("could not start `{}`", process::describe(&g)))?,
    );
    let deadline = Instant::now() + SESSION_TIMEOUT;
    let timed_out = loop {
        if gdb.0.try_wait()?.is_some() {
            break false;
        }
        if Instant::now() >= deadline {
            break true;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(gdb);
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    let console = std::fs::read_to_string(&log).unwrap_or_default();
    let tail = |t: &str| {
        let lines: Vec<&str> = t.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    };
    let verdict = if timed_out {
        Err(anyhow::anyhow!(
            "gdb did not finish within {} s",
            SESSION_TIMEOUT.as_secs()
        ))
    } else {
        check_session(&text)
    };
    match verdict {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&dir);
            Ok(None)
        }
        Err(e) => bail!(
            "{e:#}\n--- gdb ({}) ---\n{}\n--- console ---\n{}",
            out_path.display(),
            tail(&text),
            tail(&console)
        ),
    }
}

/// Kills QEMU when gdb is done, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn gdb(root: &Path, args: &GdbArgs) -> Result<u8> {
    let run = &args.run;
    check_mem(run.mem)?;
    if run.gdb {
        bail!("`cargo xtask gdb` starts the gdb stub itself: drop --gdb (see --port, --no-pause)");
    }
    setup::ensure_rust_target()?;
    setup::ensure_qemu()?;
    setup::ensure_gdb()?;
    let dtb = match &run.dtb {
        Some(p) if p.as_os_str() == "auto" => Some(write_generated_dtb(root)?),
        Some(p) if !p.is_file() => bail!("--dtb {}: no such file", p.display()),
        other => other.clone(),
    };
    let artifacts = build::build(root, Build::from(run.kernel))?;
    let initrd = crate::modules::build_initrd(root, &run.module)?;
    let kernel = if run.raw {
        artifacts.image.clone()
    } else {
        artifacts.uimage.clone()
    };
    let dir = root.join(DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let sock = dir.join("console.sock");
    let log = dir.join("console.log");
    let _ = std::fs::remove_file(&sock);
    let _ = std::fs::remove_file(&log);
    let qemu = Qemu {
        mem_mb: run.mem,
        kernel: kernel.clone(),
        append: Some(run.append.clone()),
        dtb,
        semihosting: true,
        console: Console::SerialOnly,
        gdb: false,
        initrd: Some(initrd),
        paused_qmp: None,
    };
    // SerialOnly's `-serial stdio` gives way to the socket: gdb has the
    // terminal.
    let mut qargs = qemu.args();
    if let Some(i) = qargs.iter().position(|a| a == "stdio")
        && i > 0
        && qargs[i - 1] == "-serial"
    {
        qargs.drain(i - 1..=i);
    }
    let mut qcmd = Command::new(QEMU);
    qcmd.args(qargs);
    qcmd.args(qemu_extra_args(args.port, args.no_pause, &sock, &log));
    qcmd.stdin(Stdio::null()).stdout(Stdio::null());
    process::step(format!(
        "booting {} with {} MB, gdb stub on :{}{}",
        rel(root, &kernel),
        run.mem,
        args.port,
        if args.no_pause { "" } else { " (halted)" }
    ));
    process::note(format!(
        "console: socat -,raw,echo=0 UNIX-CONNECT:{} (log: {})",
        rel(root, &sock),
        rel(root, &log)
    ));
    if process::verbose() {
        eprintln!("+ {}", process::describe(&qcmd));
    }
    let qemu_child = KillOnDrop(
        qcmd.spawn()
            .with_context(|| format!("could not start `{}`", process::describe(&qcmd)))?,
    );
    let script: PathBuf = root.join(SCRIPT);
    let mut g = Command::new(GDB);
    g.args(gdb_args(&artifacts.elf, &script, args.port, &args.gdb_args));
    if process::verbose() {
        eprintln!("+ {}", process::describe(&g));
    }
    let status = g
        .status()
        .with_context(|| format!("could not start `{}`", process::describe(&g)))?;
    drop(qemu_child);
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_and_gdb_arguments() {
        let q = qemu_extra_args(1234, false, Path::new("/s"), Path::new("/l"));
        assert_eq!(q[..3], ["-gdb", "tcp::1234", "-S"]);
        assert!(q.contains(&"socket,id=con,path=/s,server=on,wait=off,logfile=/l".to_string()));
        let q = qemu_extra_args(4321, true, Path::new("/s"), Path::new("/l"));
        assert!(!q.contains(&"-S".to_string()) && q[1] == "tcp::4321");
        let g = gdb_args(
            Path::new("k.elf"),
            Path::new("kobold.py"),
            4321,
            &["--batch".into()],
        );
        assert_eq!(g[1], "k.elf");
        assert!(g.windows(2).any(|w| w == ["-x", "kobold.py"]));
        assert!(g.windows(2).any(|w| w == ["-ex", "target remote :4321"]));
        assert_eq!(g.last().map(String::as_str), Some("--batch"));
    }

    #[test]
    fn session_output_is_checked() {
        let good = "Breakpoint 2, hello_init () at /src/kobold/modules/c/hello.c:23\n\
                    23\t\tfor (i = 0; i < count; i++)\n\
                    $1 = 3\n$2 = 0xc7001230 \"gdb\"\n$3 = 21\n";
        check_session(good).unwrap();
        let no_line = good.replace("hello.c:23", "hello.c");
        assert!(check_session(&no_line).is_err());
        let elsewhere = good.replace("hello_init ()", "hello_exit ()");
        assert!(check_session(&elsewhere).is_err());
        let default = good.replace("$1 = 3", "$1 = 1");
        assert!(check_session(&default).is_err());
        assert!(check_session("").is_err());
        let c = session_commands();
        let pos = |s: &str| c.iter().position(|x| x == s).unwrap();
        assert!(pos("set breakpoint pending on") < pos("break hello_init"));
        assert!(pos("kobold-symbols") < pos("continue"));
    }
}
