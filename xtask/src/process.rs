//! Running other programs: every spawn carries context, every exit status is
//! checked, and every failure says how to fix it.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// `-v`: show each command before it runs.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Prints one progress line (lowercase, on stderr so stdout stays the
/// kernel's console under `run`).
pub fn step(msg: impl std::fmt::Display) {
    eprintln!("{msg}");
}

/// Prints a `note:` line.
pub fn note(msg: impl std::fmt::Display) {
    eprintln!("note: {msg}");
}

/// The command as one could type it into a shell (the toolchain's cargo
/// shown as plain `cargo`).
pub fn describe(cmd: &Command) -> String {
    let program = cmd.get_program();
    let program = if std::env::var_os("CARGO").is_some_and(|c| c == program) {
        OsStr::new("cargo")
    } else {
        program
    };
    std::iter::once(program)
        .chain(cmd.get_args())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(arg: &OsStr) -> String {
    let s = arg.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn show(cmd: &Command) {
    if verbose() {
        eprintln!("+ {}", describe(cmd));
    }
}

/// Runs `cmd` with inherited stdio and fails, naming `fix`, unless it
/// exits successfully.
pub fn run(cmd: &mut Command, fix: &str) -> Result<()> {
    show(cmd);
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`: {fix}", describe(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status}): {fix}", describe(cmd));
    }
    Ok(())
}

/// Runs `cmd`, capturing its stdout (stderr is passed through), and fails
/// unless it exits successfully.
pub fn output(cmd: &mut Command, fix: &str) -> Result<String> {
    show(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{}`: {fix}", describe(cmd)))?;
    if !out.status.success() {
        bail!("`{}` failed ({}): {fix}", describe(cmd), out.status);
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{}` printed non-UTF-8", describe(cmd)))
}

/// The cargo that runs xtask (cargo sets `CARGO`), so nested builds use the
/// same toolchain.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Looks `name` up in `PATH`, as a shell would.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_commands_for_a_shell() {
        let mut cmd = Command::new("qemu-system-arm");
        cmd.args(["-m", "64", "-append", "console=ttyAMA0 quiet", "it's"]);
        assert_eq!(
            describe(&cmd),
            r"qemu-system-arm -m 64 -append 'console=ttyAMA0 quiet' 'it'\''s'"
        );
    }

    #[test]
    fn failures_name_the_fix() {
        let err = run(&mut Command::new("false"), "do the thing").unwrap_err();
        assert!(format!("{err:#}").contains("do the thing"), "{err:#}");
        let err = run(&mut Command::new("/nonexistent/tool"), "install tool").unwrap_err();
        assert!(format!("{err:#}").contains("install tool"), "{err:#}");
        assert_eq!(output(Command::new("echo").arg("hi"), "").unwrap(), "hi\n");
    }
}
