//! The sample modules and the initramfs that carries them.
//!
//! The Rust samples (`modules/rust`, see [`build_rust_modules`]) use the
//! `kobold-module` crate's `module!` macro.
//!
//! Every `modules/c/*.c` is compiled with `arm-none-eabi-gcc` the way
//! kbuild compiles an external module for an ARMv7 kernel (freestanding,
//! no PIC, no common symbols, `-DKBUILD_MODNAME`, unwind tables) against
//! Kobold's Linux-compatible headers in `modules/include`; the object *is*
//! the `.ko` (Linux's extra `ld -r` with modpost's `.mod.c` is not needed:
//! `module_init` writes `name=` into `.modinfo` itself). Files listed in
//! [`THUMB`] are built as Thumb-2 to exercise interworking.
//!
//! The Linux 6.1 samples (`modules/linux61/*.c`, see [`build_linux61_modules`])
//! are built like Debian's modules for its 6.1 armmp kernel ([`linux61_cflags`])
//! against Kobold's minimal 6.1 ABI headers (`modules/linux61/include`, see its
//! README.md), into [`LINUX61_OUT_DIR`]: they are not in the base initramfs
//! (they need Debian's library modules, which only some cases add), cases add
//! them with [`linux61_module`].
//!
//! The initramfs is a cpio "newc" archive (what `gen_init_cpio` writes)
//! holding `/lib/modules/*.ko`; QEMU's `-initrd` hands it to the kernel.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{process, setup};

/// The cross compiler.
pub const CC: &str = "arm-none-eabi-gcc";
/// Sample modules built as Thumb-2.
pub const THUMB: &[&str] = &["thumbdemo"];
/// Where the built modules and the initramfs go.
pub const OUT_DIR: &str = "target/kobold/modules";
pub const INITRD: &str = "target/kobold/initramfs.cpio";

/// gcc flags for a module (kbuild's, for a soft-float ARMv7 kernel), with
/// `-g` (CONFIG_DEBUG_INFO): the `.debug_*` sections are not SHF_ALLOC, so
/// the loader leaves them in the file and nothing changes at run time, but
/// gdb's `kobold-symbols` (scripts/gdb/kobold.py) gets source lines.
pub fn cflags(name: &str, thumb: bool) -> Vec<String> {
    let mut f: Vec<String> = [
        "-march=armv7-a",
        "-mfloat-abi=soft",
        "-O2",
        "-g",
        "-ffreestanding",
        "-fno-pic",
        "-fno-common",
        "-nostdlib",
        "-mno-unaligned-access",
        "-funwind-tables",
        "-fno-strict-aliasing",
        "-Wall",
        "-Werror",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    f.push(if thumb { "-mthumb" } else { "-marm" }.into());
    f.push(format!("-DKBUILD_MODNAME=\"{name}\""));
    f
}

/// Where the Linux 6.1 samples and their headers live, from the root.
pub const LINUX61_SRC: &str = "modules/linux61";
/// Where the built Linux 6.1 samples go.
pub const LINUX61_OUT_DIR: &str = "target/kobold/linux61";

/// gcc flags for a module built against Linux 6.1 as Debian's armmp kbuild
/// builds it (`arch/arm/Makefile`: `-mabi=aapcs-linux`, ARM code,
/// `-march=armv7-a`, soft float, `-fshort-wchar`, `-fno-common`, `-O2`; a
/// Debian `.ko`'s `readelf -A` shows ARM code, `Tag_ABI_enum_size: int`,
/// `Tag_ABI_PCS_wchar_t: 2`). Debian's `-pg` (ftrace) and
/// `-fstack-protector-strong` are left out: a test module needs neither.
pub fn linux61_cflags(name: &str) -> Vec<String> {
    let mut f: Vec<String> = [
        "-marm",
        "-march=armv7-a",
        "-mabi=aapcs-linux",
        "-mfloat-abi=soft",
        "-fshort-wchar",
        "-O2",
        "-ffreestanding",
        "-fno-pic",
        "-fno-common",
        "-nostdlib",
        "-fno-strict-aliasing",
        "-fno-stack-protector",
        "-funwind-tables",
        "-Wall",
        "-Werror",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    f.push(format!("-DKBUILD_MODNAME=\"{name}\""));
    f
}

/// Compiles every `modules/linux61/*.c` against `modules/linux61/include`
/// into [`LINUX61_OUT_DIR`]; returns the `.ko` paths.
pub fn build_linux61_modules(root: &Path) -> Result<Vec<PathBuf>> {
    setup::ensure_cross_gcc()?;
    let src = root.join(LINUX61_SRC);
    let out = root.join(LINUX61_OUT_DIR);
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut kos = Vec::new();
    for (c, name) in c_sources(&src)? {
        let ko = out.join(format!("{name}.ko"));
        let mut cmd = Command::new(CC);
        cmd.args(linux61_cflags(&name))
            .arg("-I")
            .arg(src.join("include"))
            .arg("-c")
            .arg(&c)
            .arg("-o")
            .arg(&ko);
        process::run(
            &mut cmd,
            &format!("fix {} (see the errors above)", c.display()),
        )?;
        kos.push(ko);
    }
    process::step(format!(
        "linux61 modules: {} built into {LINUX61_OUT_DIR}",
        kos.len()
    ));
    Ok(kos)
}

/// The bytes of the built Linux 6.1 sample `file` (e.g. `linuxcheck.ko`),
/// for a QEMU case's initramfs; empty if it was not built (the case then
/// fails at `insmod`, naming the file).
pub fn linux61_module(file: &str) -> Vec<u8> {
    crate::workspace_root()
        .ok()
        .and_then(|root| fs::read(root.join(LINUX61_OUT_DIR).join(file)).ok())
        .unwrap_or_default()
}

/// The `.c` files of `src`, sorted, each with its module name (the stem).
fn c_sources(src: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut sources: Vec<PathBuf> = fs::read_dir(src)
        .with_context(|| format!("reading {}", src.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    sources
        .into_iter()
        .map(|c| {
            let name = c
                .file_stem()
                .and_then(|s| s.to_str())
                .context("module source name is not UTF-8")?
                .to_string();
            Ok((c, name))
        })
        .collect()
}

/// Compiles every sample module; returns the `.ko` paths.
pub fn build_modules(root: &Path) -> Result<Vec<PathBuf>> {
    setup::ensure_cross_gcc()?;
    let src = root.join("modules/c");
    let out = root.join(OUT_DIR);
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut kos = Vec::new();
    for (c, name) in c_sources(&src)? {
        let ko = out.join(format!("{name}.ko"));
        compile_c(root, &c, &name, THUMB.contains(&name.as_str()), &ko)?;
        // As Linux's `make modules_install` with CONFIG_MODULE_SIG_ALL.
        crate::signing::sign_built(root, &ko)?;
        kos.push(ko);
    }
    process::step(format!("modules: {} built into {OUT_DIR}", kos.len()));
    Ok(kos)
}

/// Compiles one C module source `c` into `ko` with [`cflags`] against
/// the repository's `modules/include` (`root` is the Kobold checkout; the
/// source may live anywhere: `cargo xtask build-module` builds a module
/// outside the tree with this, as kbuild's `M=dir` builds an external
/// module with the kernel's flags).
pub fn compile_c(root: &Path, c: &Path, name: &str, thumb: bool, ko: &Path) -> Result<()> {
    let mut cmd = Command::new(CC);
    cmd.args(cflags(name, thumb))
        .arg("-I")
        .arg(root.join("modules/include"))
        .arg("-c")
        .arg(c)
        .arg("-o")
        .arg(ko);
    process::run(
        &mut cmd,
        &format!("fix {} (see the errors above)", c.display()),
    )
}

/// `cargo build --release --target armv7a-none-eabi` of the Rust module
/// crate(s) of `manifest` into `target_dir`, started in `cwd` (cargo reads
/// `.cargo/config.toml` and `rust-toolchain.toml` from there).
pub fn cargo_build_rust(manifest: &Path, target_dir: &Path, cwd: &Path) -> Result<()> {
    let mut cargo = process::cargo();
    cargo
        .current_dir(cwd)
        .args([
            "build",
            "--release",
            "--target",
            crate::config::KERNEL_TARGET,
        ])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    process::run(&mut cargo, "fix the Rust module build errors above")
}

/// Writes the LTO object of library crate `lib_name` (the crate name with
/// `-` as `_`), built by [`cargo_build_rust`] into `target_dir`, as `ko`.
pub fn extract_rust_ko(target_dir: &Path, lib_name: &str, ko: &Path) -> Result<()> {
    let lib = target_dir.join(format!(
        "{}/release/lib{lib_name}.a",
        crate::config::KERNEL_TARGET
    ));
    let data = fs::read(&lib).with_context(|| format!("reading {}", lib.display()))?;
    fs::write(
        ko,
        lto_object(&data, lib_name).with_context(|| lib.display().to_string())?,
    )
    .with_context(|| format!("writing {}", ko.display()))
}

/// The Rust sample modules (crates of `modules/rust`).
pub const RUST_MODULES: &[&str] = &["rust_hello", "rust_consumer"];

/// Builds the Rust sample modules: each crate is a staticlib built with fat
/// LTO (see modules/rust/Cargo.toml), so the archive holds one object with
/// all of the module's Rust code — that object is the `.ko` — next to
/// compiler_builtins' objects, which stay out: their functions (`memcpy`,
/// `__aeabi_*`) resolve to the kernel's exports, as a C module's do.
pub fn build_rust_modules(root: &Path) -> Result<Vec<PathBuf>> {
    let manifest = root.join("modules/rust/Cargo.toml");
    let target_dir = root.join("target/modules-rust");
    cargo_build_rust(&manifest, &target_dir, root)?;
    let out = root.join(OUT_DIR);
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut kos = Vec::new();
    for name in RUST_MODULES {
        let ko = out.join(format!("{name}.ko"));
        extract_rust_ko(&target_dir, name, &ko)?;
        crate::signing::sign_built(root, &ko)?;
        kos.push(ko);
    }
    Ok(kos)
}

/// The member of a staticlib that holds crate `name`'s code.
fn lto_object(archive: &[u8], name: &str) -> Result<Vec<u8>> {
    let a = object::read::archive::ArchiveFile::parse(archive).context("not an ar archive")?;
    let prefix = format!("{name}-");
    let mut found = Vec::new();
    for m in a.members() {
        let m = m.context("bad archive member")?;
        let member = String::from_utf8_lossy(m.name()).to_string();
        if member.starts_with(&prefix) && member.ends_with(".o") {
            found.push(m.data(archive).context("bad archive member data")?.to_vec());
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        n => bail!(
            "expected one LTO object for {name} in the staticlib, found {n} (are lto = \"fat\" and codegen-units = 1 set in the [profile.release] of the Cargo.toml, as in modules/rust/Cargo.toml?)"
        ),
    }
}

/// A newc archive with `/lib/modules/<file>` for each of `modules`, padded
/// to 512 bytes as `cpio` pads (the kernel's own reader/writer,
/// `kobold_common::cpio`).
pub fn cpio(modules: &[PathBuf]) -> Result<Vec<u8>> {
    let mut files = Vec::new();
    for m in modules {
        let data = fs::read(m).with_context(|| format!("reading {}", m.display()))?;
        let file = m
            .file_name()
            .and_then(|s| s.to_str())
            .with_context(|| format!("{}: file name is not UTF-8", m.display()))?;
        if !file.ends_with(".ko") {
            bail!("{}: a module's file name must end in .ko", m.display());
        }
        files.push((format!("lib/modules/{file}"), data));
    }
    let dirs = [
        ("lib", 0o040755, &b""[..]),
        ("lib/modules", 0o040755, &b""[..]),
    ];
    let members: Vec<(&str, u32, &[u8])> = dirs
        .into_iter()
        .chain(
            files
                .iter()
                .map(|(n, d)| (n.as_str(), 0o100644, d.as_slice())),
        )
        .collect();
    let mut out = kobold_common::cpio::build(&members);
    out.resize(out.len().next_multiple_of(512), 0);
    Ok(out)
}

/// Builds the sample modules and the initramfs (plus `extra` user modules);
/// returns the initramfs path.
pub fn build_initrd(root: &Path, extra: &[PathBuf]) -> Result<PathBuf> {
    let mut kos = build_modules(root)?;
    kos.extend(build_rust_modules(root)?);
    build_linux61_modules(root)?;
    for e in extra {
        if !e.is_file() {
            bail!("--module {}: no such file", e.display());
        }
        kos.push(e.clone());
    }
    let archive = cpio(&kos)?;
    let path = root.join(INITRD);
    fs::write(&path, &archive).with_context(|| format!("writing {}", path.display()))?;
    process::step(format!(
        "initramfs: {INITRD}, {} modules, {} bytes",
        kos.len(),
        archive.len()
    ));
    Ok(path)
}

/// `base` (a newc archive) with `files` (path without the leading `/`,
/// contents) added before its trailer, and the directories they need.
pub fn add_files(base: &[u8], files: &[(&str, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut members: Vec<(String, u32, &[u8])> = Vec::new();
    for e in kobold_common::cpio::entries(base) {
        let e = e.map_err(|e| anyhow::anyhow!("reading the initramfs: {e}"))?;
        members.push((e.name.to_string(), e.mode, e.data));
    }
    for (path, data) in files {
        let mut dir = String::new();
        for part in path
            .split('/')
            .rev()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            if !dir.is_empty() {
                dir.push('/');
            }
            dir.push_str(part);
            if !members.iter().any(|(n, _, _)| *n == dir) {
                members.push((dir.clone(), 0o040755, &b""[..]));
            }
        }
        members.push((path.to_string(), 0o100644, data.as_slice()));
    }
    let list: Vec<(&str, u32, &[u8])> = members
        .iter()
        .map(|(n, m, d)| (n.as_str(), *m, *d))
        .collect();
    let mut out = kobold_common::cpio::build(&list);
    out.resize(out.len().next_multiple_of(512), 0);
    Ok(out)
}

/// The initramfs of a test case with extra files: the sample modules'
/// ([`INITRD`], built first) plus the generated files; returns its path.
pub fn build_case_initrd(
    root: &Path,
    case: &str,
    files: &[crate::cases::ExtraFile],
) -> Result<PathBuf> {
    let base_path = root.join(INITRD);
    let base = fs::read(&base_path).with_context(|| format!("reading {}", base_path.display()))?;
    // Generated modules are signed with the build key, as the samples are,
    // except under `unsigned/` (the signature cases' unsigned modules).
    let mut generated: Vec<(&str, Vec<u8>)> = Vec::new();
    for f in files {
        let data = (f.contents)();
        let data = if f.path.starts_with("unsigned/") {
            data
        } else {
            crate::signing::sign_if_module(root, data)?
        };
        generated.push((f.path, data));
    }
    let archive = add_files(&base, &generated)?;
    let path = case_initrd(root, case);
    fs::write(&path, &archive).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Where [`build_case_initrd`] writes a case's initramfs.
pub fn case_initrd(root: &Path, case: &str) -> PathBuf {
    root.join(format!("target/kobold/initramfs-{case}.cpio"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux61_flags_are_debians_abi() {
        let f = linux61_cflags("linuxcheck");
        for flag in [
            "-marm",
            "-mabi=aapcs-linux",
            "-fshort-wchar",
            "-mfloat-abi=soft",
        ] {
            assert!(f.iter().any(|x| x == flag), "{flag} missing");
        }
        assert!(!f.iter().any(|x| x == "-mthumb"));
        assert_eq!(f.last().unwrap(), "-DKBUILD_MODNAME=\"linuxcheck\"");
    }

    #[test]
    fn cpio_is_newc_and_padded() {
        let dir = std::env::temp_dir().join(format!("kobold-cpio-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let ko = dir.join("a.ko");
        fs::write(&ko, b"12345").unwrap();
        let a = cpio(std::slice::from_ref(&ko)).unwrap();
        assert_eq!(&a[..6], b"070701");
        assert_eq!(a.len() % 512, 0);
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("lib/modules/a.ko\0"));
        assert!(text.contains("TRAILER!!!"));
        assert!(cpio(&[dir.join("x.txt")]).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_are_added_with_their_directories() {
        let base = kobold_common::cpio::build(&[
            ("lib", 0o040755, b""),
            ("lib/modules/a.ko", 0o100644, b"ko"),
        ]);
        let a = add_files(
            &base,
            &[("data/deep/x.bin", vec![1, 2, 3]), ("lib/y", b"y".to_vec())],
        )
        .unwrap();
        assert_eq!(a.len() % 512, 0);
        let got: Vec<(String, u32, Vec<u8>)> = kobold_common::cpio::entries(&a)
            .map(|e| e.unwrap())
            .map(|e| (e.name.to_string(), e.mode, e.data.to_vec()))
            .collect();
        let names: Vec<&str> = got.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "lib",
                "lib/modules/a.ko",
                "data",
                "data/deep",
                "data/deep/x.bin",
                "lib/y"
            ]
        );
        assert_eq!(got[4].2, [1, 2, 3]);
        assert_eq!(got[3].1, 0o040755);
    }
}
