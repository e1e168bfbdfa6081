//! `cargo xtask build`: compile the kernel, fill `.kallsyms`, write
//! `System.map`, make the `Image` and the `uImage`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use kobold_layout::KERNEL_RAM_PADDR;

use crate::config::{self, Build, KERNEL_PACKAGE, KERNEL_TARGET, Profile};
use crate::image::{self, UImageHeader};
use crate::{kallsyms, process};

/// The files one build leaves in `target/kobold/<name>/`.
#[derive(Clone, Debug)]
pub struct Artifacts {
    pub build: Build,
    pub elf: PathBuf,
    pub image: PathBuf,
    pub uimage: PathBuf,
}

/// `path` relative to the workspace root, for messages.
pub fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Where the `.kallsyms` reservation of a profile is remembered between
/// builds (the largest any variant needed, so it only grows).
fn reservation_file(root: &Path, profile: Profile) -> PathBuf {
    let profile = match profile {
        Profile::Release => "release",
        Profile::Debug => "debug",
    };
    root.join("target/kobold")
        .join(format!("kallsyms-reserved-{profile}"))
}

/// The reservation to link a `profile` kernel with: remembered, or `None`
/// for the kernel's default.
pub fn kallsyms_reserved(root: &Path, profile: Profile) -> Option<usize> {
    fs::read_to_string(reservation_file(root, profile))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

fn cargo_build(root: &Path, build: Build, reserved: Option<usize>) -> Result<()> {
    // kernel/build.rs embeds the keyring (module signing).
    crate::signing::write_keyring(root)?;
    // kernel/build.rs links ring's ARM assembly (the signature check's RSA).
    crate::ring_asm::assemble(root)?;
    let mut cargo = process::cargo();
    cargo.args(["build", "-p", KERNEL_PACKAGE, "--target", KERNEL_TARGET]);
    if build.profile == Profile::Release {
        cargo.arg("--release");
    }
    cargo.args(build.variant.cargo_args());
    // Always the workspace's own target/, whatever CARGO_TARGET_DIR says:
    // the outputs below, gdb and the docs all expect it there.
    cargo.arg("--target-dir").arg(root.join("target"));
    // kernel/build.rs passes it to the linker script (`__kallsyms_reserved`).
    set_kallsyms_env(&mut cargo, reserved);
    process::run(&mut cargo, "fix the kernel build errors above")
}

/// Passes `reserved` to kernel/build.rs (clippy too, so that its build
/// script run matches the build's and neither makes the other rerun).
pub fn set_kallsyms_env(cargo: &mut std::process::Command, reserved: Option<usize>) {
    match reserved {
        Some(r) => cargo.env(KALLSYMS_ENV, r.to_string()),
        None => cargo.env_remove(KALLSYMS_ENV),
    };
}

/// The variable kernel/build.rs reads the `.kallsyms` reservation from.
pub const KALLSYMS_ENV: &str = "KOBOLD_KALLSYMS_RESERVED";

/// Builds one kernel variant and writes its artifacts.
///
/// The `.kallsyms` section is sized from the table: the kernel is linked
/// with the reservation remembered for its profile; if the table does not
/// fit, the reservation is raised (and remembered) and the kernel linked
/// again. The table's size does not depend on the reservation (only its
/// addresses do), so the second link always fits.
pub fn build(root: &Path, build: Build) -> Result<Artifacts> {
    process::step(format!("building kernel ({})", build.name()));
    let aliases = kallsyms::kernel_export_aliases(root)?;
    let cargo_elf = build.cargo_elf(root);
    let mut reserved = kallsyms_reserved(root, build.profile);
    let (mut elf, symbols) = loop {
        cargo_build(root, build, reserved)?;
        let elf = fs::read(&cargo_elf)
            .with_context(|| format!("reading the kernel ELF {}", cargo_elf.display()))?;
        let symbols = kallsyms::table(&elf, &aliases)
            .with_context(|| format!("reading the symbols of {}", cargo_elf.display()))?;
        let (needed, holds) = kallsyms::fit(&elf, &symbols)?;
        if needed <= holds || reserved.is_some_and(|r| r >= needed) {
            break (elf, symbols);
        }
        let more = kallsyms::reservation(needed);
        process::step(format!(
            "kallsyms: the table needs {needed} bytes, {holds} reserved: linking again with {more}"
        ));
        let file = reservation_file(root, build.profile);
        fs::create_dir_all(root.join("target/kobold"))?;
        fs::write(&file, format!("{more}\n"))
            .with_context(|| format!("writing {}", file.display()))?;
        reserved = Some(more);
    };
    let patched = kallsyms::patch(&mut elf, &symbols)
        .with_context(|| format!("filling .kallsyms in {}", cargo_elf.display()))?;
    process::step(format!(
        "kallsyms: {} symbols, {} bytes ({} reserved)",
        patched.symbols, patched.bytes, patched.reserved
    ));
    // The same bytes in cargo's copy, so gdb or objdump on it agree with
    // what boots.
    fs::write(&cargo_elf, &elf).with_context(|| format!("writing {}", cargo_elf.display()))?;

    let out_dir = build.out_dir(root);
    fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let artifacts = Artifacts {
        build,
        elf: build.elf(root),
        image: build.image(root),
        uimage: build.uimage(root),
    };
    write(&artifacts.elf, &elf)?;
    process::step(format!("elf: {}", rel(root, &artifacts.elf)));
    let map = build.system_map(root);
    write(&map, kallsyms::system_map(&symbols).as_bytes())?;
    process::step(format!("System.map: {}", rel(root, &map)));

    let raw = image::raw_image(&elf, KERNEL_RAM_PADDR)
        .with_context(|| format!("making the raw Image from {}", cargo_elf.display()))?;
    write(&artifacts.image, &raw)?;
    process::step(format!(
        "image: {}, {} bytes",
        rel(root, &artifacts.image),
        raw.len()
    ));

    let uimage = image::uimage(
        &raw,
        KERNEL_RAM_PADDR,
        KERNEL_RAM_PADDR,
        image::build_time(),
        config::UIMAGE_NAME,
    );
    // Cheap insurance that what was written is what U-Boot/QEMU will accept.
    UImageHeader::verify(&uimage).context("the uImage just built does not verify")?;
    write(&artifacts.uimage, &uimage)?;
    process::step(format!(
        "uimage: {}, load/entry {KERNEL_RAM_PADDR:#010x}",
        rel(root, &artifacts.uimage)
    ));
    Ok(artifacts)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
