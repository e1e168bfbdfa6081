//! `cargo xtask run`: build, then boot the kernel in QEMU on this terminal.
//!
//! On a terminal QEMU gets the terminal itself (`-nographic` puts it in raw
//! mode, Ctrl-A x quits). With piped stdin, xtask types each input line at
//! the next shell prompt instead, so `printf 'dmesg\npoweroff\n' | cargo
//! xtask run` does not depend on how fast the kernel sets up its UART. When
//! the input ends without `poweroff`, xtask types it at the next prompt (and
//! kills QEMU if it has not exited [`POWEROFF_GRACE`] later), so
//! `printf 'lsmod\n' | cargo xtask run` ends with the kernel's status.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::build::{self, rel};
use crate::config::{
    self, Build, Console, DEFAULT_APPEND, DEFAULT_MEM_MB, GDB_PORT, MEM_MB_RANGE, Qemu,
};
use crate::harness::{self, Input, Outcome};
use crate::{KernelArgs, process, setup};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// RAM size in MiB, 64 to 1024.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MEM_MB)]
    pub mem: u32,

    /// The kernel command line.
    #[arg(long, value_name = "ARGS", default_value = DEFAULT_APPEND)]
    pub append: String,

    /// Pass this device tree blob with -dtb; `auto` generates vexpress-a9's
    /// into target/kobold/vexpress-a9.dtb and passes that.
    #[arg(long, value_name = "FILE")]
    pub dtb: Option<PathBuf>,

    /// Boot the raw Image (loaded at 0x60010000) instead of the uImage.
    #[arg(long)]
    pub raw: bool,

    /// Start halted and wait for gdb on port 1234 (QEMU's -S -s).
    #[arg(long)]
    pub gdb: bool,

    /// Also put this module into the initramfs's /lib/modules (repeatable).
    #[arg(long, value_name = "FILE.ko")]
    pub module: Vec<PathBuf>,

    #[command(flatten)]
    pub kernel: KernelArgs,
}

/// Rejects RAM sizes the board or the kernel cannot take.
pub fn check_mem(mem_mb: u32) -> Result<()> {
    if !MEM_MB_RANGE.contains(&mem_mb) {
        bail!(
            "--mem {mem_mb} is out of range: use {} to {} (MiB; QEMU's vexpress-a9 models at most 1 GiB)",
            MEM_MB_RANGE.start(),
            MEM_MB_RANGE.end()
        );
    }
    Ok(())
}

/// Writes the generated vexpress-a9 device tree and returns its path.
pub fn write_generated_dtb(root: &Path) -> Result<PathBuf> {
    let path = root.join(config::GENERATED_DTB);
    let blob = crate::dtb::vexpress_a9_dtb().context("generating the vexpress-a9 device tree")?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, blob).with_context(|| format!("writing {}", path.display()))?;
    process::step(format!("dtb: {}", rel(root, &path)));
    Ok(path)
}

/// How long QEMU may take to exit after the `poweroff` typed at the end of
/// piped input before xtask kills it.
pub const POWEROFF_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

pub fn run(root: &Path, args: &RunArgs) -> Result<u8> {
    check_mem(args.mem)?;
    setup::ensure_rust_target()?;
    setup::ensure_qemu()?;
    let dtb = match &args.dtb {
        Some(p) if p.as_os_str() == "auto" => Some(write_generated_dtb(root)?),
        Some(p) => {
            if !p.is_file() {
                bail!("--dtb {}: no such file (or use `--dtb auto`)", p.display());
            }
            Some(p.clone())
        }
        None => None,
    };
    let artifacts = build::build(root, Build::from(args.kernel))?;
    let initrd = crate::modules::build_initrd(root, &args.module)?;
    let kernel = if args.raw {
        artifacts.image.clone()
    } else {
        artifacts.uimage.clone()
    };
    let qemu = Qemu {
        mem_mb: args.mem,
        kernel: kernel.clone(),
        append: Some(args.append.clone()),
        dtb,
        semihosting: true,
        console: Console::Nographic,
        gdb: args.gdb,
        initrd: Some(initrd),
        paused_qmp: None,
    };
    let mut cmd = qemu.command();
    if args.gdb {
        process::note(format!(
            "QEMU is halted until gdb attaches: gdb-multiarch {} -ex 'target remote :{GDB_PORT}'",
            rel(root, &artifacts.elf)
        ));
    }
    process::step(format!(
        "booting {} with {} MB",
        rel(root, &kernel),
        args.mem
    ));
    if process::verbose() {
        eprintln!("+ {}", process::describe(&cmd));
    }

    if std::io::stdin().is_terminal() {
        process::note("Ctrl-A x quits QEMU, Ctrl-A h lists its other keys");
        let status = cmd
            .status()
            .with_context(|| format!("could not start `{}`", process::describe(&cmd)))?;
        return Ok(exit_code(status.code()));
    }
    let transcript = harness::drive(
        &mut cmd,
        Input::Stdin,
        harness::Options {
            timeout: None,
            live: true,
            settle: None,
            type_ahead: false,
            release: None,
            // `printf 'lsmod\n' | cargo xtask run` ends: power the board off.
            power_off_at_end: Some(POWEROFF_GRACE),
        },
    )?;
    Ok(match transcript.outcome {
        Outcome::Exited(code) => exit_code(code),
        Outcome::StuckAtPrompt(_) => {
            process::note(format!(
                "QEMU still ran {} s after `poweroff`: killed",
                POWEROFF_GRACE.as_secs()
            ));
            1
        }
        Outcome::TimedOut(_) => 1,
    })
}

/// QEMU's exit status as ours; killed by a signal counts as failure.
fn exit_code(code: Option<i32>) -> u8 {
    match code {
        Some(code) => u8::try_from(code).unwrap_or(1),
        None => {
            process::note("QEMU was killed by a signal");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_range() {
        assert!(check_mem(64).is_ok() && check_mem(1024).is_ok() && check_mem(256).is_ok());
        let err = format!("{:#}", check_mem(2048).unwrap_err());
        assert!(err.contains("64 to 1024"), "{err}");
        assert!(check_mem(63).is_err());
    }
}
