//! `cargo xtask build`: compile the kernel, fill `.kallsyms`, make the
//! `Image` and the `uImage`.

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

/// Builds one kernel variant and writes its artifacts.
pub fn build(root: &Path, build: Build) -> Result<Artifacts> {
    process::step(format!("building kernel ({})", build.name()));
    let mut cargo = process::cargo();
    cargo.args(["build", "-p", KERNEL_PACKAGE, "--target", KERNEL_TARGET]);
    if build.profile == Profile::Release {
        cargo.arg("--release");
    }
    cargo.args(build.variant.cargo_args());
    // Always the workspace's own target/, whatever CARGO_TARGET_DIR says:
    // the outputs below, gdb and the docs all expect it there.
    cargo.arg("--target-dir").arg(root.join("target"));
    process::run(&mut cargo, "fix the kernel build errors above")?;

    let cargo_elf = build.cargo_elf(root);
    let mut elf = fs::read(&cargo_elf)
        .with_context(|| format!("reading the kernel ELF {}", cargo_elf.display()))?;
    let patched = kallsyms::patch(&mut elf)
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
