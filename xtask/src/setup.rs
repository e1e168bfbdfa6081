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
    ensure_tool(QEMU, &[QEMU], "")
}

/// Makes sure `gdb-multiarch` (for `cargo xtask gdb`) is on PATH,
/// installing it with apt-get when running as root.
pub fn ensure_gdb() -> Result<()> {
    ensure_tool(
        crate::gdb::GDB,
        &["gdb-multiarch"],
        " (cargo xtask gdb needs it)",
    )
}

/// Makes sure `openssl` (which makes the build key and signs modules, as
/// Linux's `certs/Makefile` and `scripts/sign-file` use OpenSSL) is on
/// PATH, installing it with apt-get when running as root.
pub fn ensure_openssl() -> Result<()> {
    ensure_tool("openssl", &["openssl"], " (module signing needs it)")
}

/// Makes sure `arm-none-eabi-gcc` (Debian's gcc-arm-none-eabi, for the C
/// sample modules) is on PATH, installing it with apt-get when root.
pub fn ensure_cross_gcc() -> Result<()> {
    ensure_tool(
        crate::modules::CC,
        &["gcc-arm-none-eabi", "binutils-arm-none-eabi"],
        " (the C sample modules need it)",
    )
}

/// Installs Debian `packages` when `tool` is not on PATH and we are root
/// with apt-get; otherwise fails with the command to run.
fn ensure_tool(tool: &str, packages: &[&str], why: &str) -> Result<()> {
    if process::find_in_path(tool).is_some() {
        return Ok(());
    }
    let fix = format!("sudo apt-get install {}", packages.join(" "));
    if !is_root() || process::find_in_path("apt-get").is_none() {
        bail!("{tool} is not on PATH{why}: install it with `{fix}`");
    }
    process::step(format!("installing {tool} with apt-get"));
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    let yourself = format!("install it yourself: `{fix}`");
    process::run(&mut apt(&["update"]), &yourself)?;
    let mut install = vec!["install", "-y"];
    install.extend_from_slice(packages);
    process::run(&mut apt(&install), &yourself)?;
    if process::find_in_path(tool).is_none() {
        bail!("apt-get installed {tool} but it is still not on PATH: check PATH, or `{fix}`");
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "0")
}
