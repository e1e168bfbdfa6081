//! Fresh-machine setup: the Rust target and QEMU, installed when missing
//! (QEMU only as root, otherwise the error gives the command to run).

use std::process::Command;

use anyhow::{Result, bail};

use crate::config::{KERNEL_TARGET, QEMU};
use crate::process;

/// Adds the kernel's rustup target if the active toolchain lacks it.
pub fn ensure_rust_target() -> Result<()> {
    if process::find_in_path("rustup").is_none() {
        process::note(format!(
            "rustup not found; assuming the toolchain already has the {KERNEL_TARGET} target"
        ));
        return Ok(());
    }
    let fix = "check that rustup works (`rustup show`)";
    let installed = process::output(
        Command::new("rustup").args(["target", "list", "--installed"]),
        fix,
    )?;
    if installed.lines().any(|l| l.trim() == KERNEL_TARGET) {
        return Ok(());
    }
    process::step(format!("installing the rust target {KERNEL_TARGET}"));
    process::run(
        Command::new("rustup").args(["target", "add", KERNEL_TARGET]),
        &format!("run `rustup target add {KERNEL_TARGET}` yourself"),
    )
}

/// Makes sure `qemu-system-arm` is on PATH, installing it with apt-get when
/// running as root.
pub fn ensure_qemu() -> Result<()> {
    if process::find_in_path(QEMU).is_some() {
        return Ok(());
    }
    let fix = format!("sudo apt-get install {QEMU}");
    if !is_root() || process::find_in_path("apt-get").is_none() {
        bail!("{QEMU} is not on PATH: install it with `{fix}`");
    }
    process::step(format!("installing {QEMU} with apt-get"));
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    process::run(
        &mut apt(&["update"]),
        &format!("install QEMU yourself: `{fix}`"),
    )?;
    process::run(
        &mut apt(&["install", "-y", QEMU]),
        &format!("install QEMU yourself: `{fix}`"),
    )?;
    if process::find_in_path(QEMU).is_none() {
        bail!("apt-get installed {QEMU} but it is still not on PATH: check PATH, or `{fix}`");
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Makes sure `arm-none-eabi-gcc` (Debian's gcc-arm-none-eabi, for the C
/// sample modules) is on PATH, installing it with apt-get when root.
pub fn ensure_cross_gcc() -> Result<()> {
    let cc = crate::modules::CC;
    if process::find_in_path(cc).is_some() {
        return Ok(());
    }
    let fix = "sudo apt-get install gcc-arm-none-eabi binutils-arm-none-eabi";
    if !is_root() || process::find_in_path("apt-get").is_none() {
        bail!("{cc} is not on PATH (the C sample modules need it): install it with `{fix}`");
    }
    process::step(format!("installing {cc} with apt-get"));
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    process::run(
        &mut apt(&["update", "-qq"]),
        &format!("run `{fix}` yourself"),
    )?;
    process::run(
        &mut apt(&[
            "install",
            "-y",
            "-qq",
            "gcc-arm-none-eabi",
            "binutils-arm-none-eabi",
        ]),
        &format!("run `{fix}` yourself"),
    )
}
