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

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
}
