//! `new-module` and `build-module`: a module of your own, outside the tree.
//!
//! Linux builds an out-of-tree ("external") module with the kernel's own
//! build system pointed at the module's directory (`make -C KDIR M=$PWD`,
//! Documentation/kbuild/modules.txt): the module gets exactly the flags and
//! headers of the kernel it will be loaded into. These two commands are the
//! same idea for Kobold. `new-module NAME` writes a starting point (a C
//! `NAME.c`, or with `--rust` a Cargo project using the `kobold-module`
//! crate of this checkout); `build-module DIR` builds it with the samples'
//! own build functions ([`modules::compile_c`], and for Rust
//! [`modules::cargo_build_rust`] + [`modules::extract_rust_ko`]) into
//! `DIR/NAME.ko`, which `cargo xtask run --module` puts into the initramfs.
//!
//! The `.ko` is signed with the build key (`target/kobold/signing_key.pem`
//! of the checkout, made on first use) by the samples' own
//! [`crate::signing::sign_built`], as Linux's `make modules_install` signs
//! every module, external ones included, with `CONFIG_MODULE_SIG_ALL`, so it
//! loads untainted and under `module.sig_enforce=1` in the kernels this
//! checkout builds. Linux's build has no switch to leave a module unsigned
//! other than building without `CONFIG_MODULE_SIG_ALL`; neither has this
//! (to sign with another key, `cargo xtask sign-module FILE --key K
//! --cert C` replaces the signature).
//!
//! The module name follows the kernel's rule (`check_name`: `[A-Za-z0-9_-]`,
//! 1..=55 bytes, as `MODULE_NAME_LEN` allows), so a name the kernel would
//! refuse at insmod is refused here first. The built `.ko` is checked with
//! the kernel's own loader code (validate + layout) before its path is
//! printed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;

use crate::{modules, process, setup};

/// `cargo xtask new-module`.
#[derive(Debug, Args)]
pub struct NewModuleArgs {
    /// The module's name (`[A-Za-z0-9_-]`, at most 55 bytes), as insmod
    /// and /proc/modules will show it.
    pub name: String,
    /// A Rust module (a Cargo project using the kobold-module crate)
    /// instead of a C one.
    #[arg(long)]
    pub rust: bool,
    /// Where to create it (must not exist); default ./NAME.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// `cargo xtask build-module`.
#[derive(Debug, Args)]
pub struct BuildModuleArgs {
    /// The module's directory (made by `new-module`).
    pub dir: PathBuf,
    /// The `.ko` to write; default DIR/NAME.ko.
    #[arg(short = 'o')]
    pub output: Option<PathBuf>,
}

/// The name as a C identifier for the module's functions (`-` is not one;
/// a leading digit neither).
fn c_ident(name: &str) -> String {
    let id = name.replace('-', "_");
    if id.starts_with(|c: char| c.is_ascii_digit()) {
        format!("mod_{id}")
    } else {
        id
    }
}

/// The name a Rust package's library gets (cargo's rule: `-` becomes `_`).
fn lib_name(name: &str) -> String {
    name.replace('-', "_")
}

fn check(name: &str, rust: bool) -> Result<()> {
    kobold_loader::modinfo::check_name(name).map_err(|_| {
        anyhow!(
            "invalid module name {name:?}: a module name is 1 to 55 of [A-Za-z0-9_-] (the kernel's rule)"
        )
    })?;
    if rust && name.starts_with(|c: char| c.is_ascii_digit()) {
        bail!(
            "invalid module name {name:?} for --rust: a Cargo package name cannot start with a digit"
        );
    }
    Ok(())
}

fn c_source(name: &str) -> String {
    let id = c_ident(name);
    format!(
        r#"// SPDX-License-Identifier: GPL-2.0
/*
 * {name}: a module of your own (made by `cargo xtask new-module`).
 *
 *   insmod /lib/modules/{name}.ko who=Kobold
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

static char *who = "world";
module_param(who, charp, 0444);
MODULE_PARM_DESC(who, "Whom to greet");

static int __init {id}_init(void)
{{
	pr_info("{name}: Hello, %s!\n", who);
	return 0;
}}

static void __exit {id}_exit(void)
{{
	pr_info("{name}: Goodbye, %s\n", who);
}}

module_init({id}_init);
module_exit({id}_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("{name}: says hello");
"#
    )
}

fn rust_manifest(name: &str, kobold_module: &Path) -> String {
    format!(
        r#"# {name}: a Kobold module in Rust (made by `cargo xtask new-module --rust`).
# `cargo xtask build-module` builds the staticlib for armv7a-none-eabi with
# fat LTO into one object, which is the .ko (as modules/rust does).
[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
license = "GPL-2.0"

[lib]
crate-type = ["staticlib"]
path = "src/lib.rs"

[dependencies]
kobold-module = {{ path = "{}" }}

# A workspace of its own, wherever the directory is.
[workspace]

[profile.release]
panic = "abort"
lto = "fat"
codegen-units = 1
opt-level = "s"
debug = false

[profile.dev]
panic = "abort"
"#,
        kobold_module.display()
    )
}

fn rust_source(name: &str) -> String {
    format!(
        r#"//! {name}: a module of your own in Rust (made by `cargo xtask new-module --rust`).
//!
//!   insmod /lib/modules/{name}.ko count=2
#![no_std]

use kobold_module::pr_info;

kobold_module::module! {{
    name: "{name}",
    license: "GPL",
    description: "{name}: says hello from Rust",
    init: init,
    exit: exit,
    params: {{
        count: i32 = 1, "How many greetings";
    }},
}}

fn init() -> Result<(), i32> {{
    for i in 0..count() {{
        pr_info!("{name}: Hello from Rust! ({{}} of {{}})", i + 1, count());
    }}
    Ok(())
}}

fn exit() {{
    pr_info!("{name}: Goodbye");
}}
"#
    )
}

fn readme(name: &str, dir: &Path, root: &Path, rust: bool) -> String {
    let (what, edit, uses) = if rust {
        (
            "Rust",
            "src/lib.rs".to_string(),
            "the `kobold-module` crate",
        )
    } else {
        ("C", format!("{name}.c"), "the headers in modules/include")
    };
    let dir = dir.display();
    let root = root.display();
    format!(
        r#"# {name}

A Kobold kernel module in {what}, made by `cargo xtask new-module`. Edit
`{edit}`; it uses {uses} of the Kobold checkout at
{root}.

Build it (from anywhere inside the checkout) into `{dir}/{name}.ko`, signed
with the checkout's build key (`target/kobold/signing_key.pem`), so it loads
without taint `E`, also under `module.sig_enforce=1`:

    cargo xtask build-module {dir}

Boot Kobold with it in the initramfs and load it:

    printf 'insmod /lib/modules/{name}.ko\npoweroff\n' | cargo xtask run --module {dir}/{name}.ko

`cargo xtask modinfo {dir}/{name}.ko` shows what the loader sees.
"#
    )
}

/// Writes a new module `name` into `dir` (which must not exist) and returns
/// the files written. `root` is the Kobold checkout (for the Rust
/// dependency's path and the toolchain file).
pub fn new_module(root: &Path, name: &str, rust: bool, dir: &Path) -> Result<Vec<PathBuf>> {
    check(name, rust)?;
    if dir.exists() || dir.is_symlink() {
        bail!(
            "{} already exists: new-module only creates a new directory (pick another --dir)",
            dir.display()
        );
    }
    // The paths written into the files are absolute, so the project works
    // wherever it is built from.
    let dir = std::path::absolute(dir).with_context(|| format!("{}", dir.display()))?;
    let root = std::path::absolute(root).with_context(|| format!("{}", root.display()))?;
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    if rust {
        let kobold_module = root.join("modules/rust/kobold-module");
        files.push((dir.join("Cargo.toml"), rust_manifest(name, &kobold_module)));
        files.push((dir.join("src/lib.rs"), rust_source(name)));
        // The checkout's toolchain (with the armv7a-none-eabi target) and
        // the target's flags (unwind tables for oops backtraces), as the
        // samples get them from the checkout.
        let toolchain = root.join("rust-toolchain.toml");
        files.push((
            dir.join("rust-toolchain.toml"),
            fs::read_to_string(&toolchain)
                .with_context(|| format!("reading {}", toolchain.display()))?,
        ));
        files.push((
            dir.join(".cargo/config.toml"),
            format!(
                "[target.{}]\nrustflags = [\"-C\", \"force-unwind-tables=yes\"]\n",
                crate::config::KERNEL_TARGET
            ),
        ));
        files.push((dir.join(".gitignore"), "/target\n/*.ko\n".into()));
    } else {
        files.push((dir.join(format!("{name}.c")), c_source(name)));
        files.push((dir.join(".gitignore"), "/*.ko\n".into()));
    }
    files.push((dir.join("README.md"), readme(name, &dir, &root, rust)));
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

/// A module directory's kind and name: Rust when it has a Cargo.toml
/// (the `[package]` name), else C with exactly one `NAME.c`.
fn module_in(dir: &Path) -> Result<(bool, String)> {
    let manifest = dir.join("Cargo.toml");
    if manifest.is_file() {
        let text = fs::read_to_string(&manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        return Ok((
            true,
            package_name(&text).with_context(|| {
                format!("{}: no name = \"...\" in [package]", manifest.display())
            })?,
        ));
    }
    let mut sources: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    match sources.as_slice() {
        [c] => Ok((
            false,
            c.file_stem()
                .and_then(|s| s.to_str())
                .context("module source name is not UTF-8")?
                .to_string(),
        )),
        [] => bail!(
            "{}: no Cargo.toml and no .c file: not a module directory (make one with `cargo xtask new-module`)",
            dir.display()
        ),
        _ => bail!(
            "{}: {} .c files: build-module builds a module from one NAME.c",
            dir.display(),
            sources.len()
        ),
    }
}

/// The `name` of a Cargo.toml's `[package]` table (the one line the
/// scaffold writes; not a TOML parser).
fn package_name(toml: &str) -> Option<String> {
    let mut in_package = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(rest) = line.strip_prefix("name") {
            let v = rest.trim_start().strip_prefix('=')?.trim();
            return Some(v.strip_prefix('"')?.strip_suffix('"')?.to_string());
        }
    }
    None
}

/// Builds the module in `dir` into `output` (default `dir/NAME.ko`), checks
/// it with the kernel's loader code and returns its path.
pub fn build_module(root: &Path, dir: &Path, output: Option<&Path>) -> Result<PathBuf> {
    let (rust, name) = module_in(dir)?;
    check(&name, rust)?;
    let ko = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join(format!("{name}.ko")));
    if rust {
        setup::ensure_rust_target()?;
        let target_dir = dir.join("target");
        modules::cargo_build_rust(&dir.join("Cargo.toml"), &target_dir, dir)?;
        modules::extract_rust_ko(&target_dir, &lib_name(&name), &ko)?;
    } else {
        setup::ensure_cross_gcc()?;
        modules::compile_c(root, &dir.join(format!("{name}.c")), &name, false, &ko)?;
    }
    let data = fs::read(&ko).with_context(|| format!("reading {}", ko.display()))?;
    let got = loaded_name(&data).with_context(|| format!("{}", ko.display()))?;
    if got != name {
        bail!(
            "{}: .modinfo says name={got}, expected {name}",
            ko.display()
        );
    }
    // Signed with the build key, as the samples are (Linux's
    // `modules_install` with CONFIG_MODULE_SIG_ALL): one signing path.
    crate::signing::sign_built(root, &ko)?;
    Ok(ko)
}

/// The module's name as the kernel's loader reads it, after validate and
/// layout accepted the file.
pub fn loaded_name(data: &[u8]) -> Result<String> {
    let m = kobold_loader::validate(data).map_err(|e| anyhow!("the loader refuses it: {e}"))?;
    kobold_loader::layout::layout(&m).map_err(|e| anyhow!("the loader cannot lay it out: {e}"))?;
    m.modinfo_get("name")
        .map(str::to_string)
        .context("no name= in .modinfo")
}

/// `cargo xtask new-module`: prints what it wrote and what to do next.
pub fn new_module_cmd(root: &Path, args: &NewModuleArgs, dir: &Path) -> Result<u8> {
    let files = new_module(root, &args.name, args.rust, dir)?;
    for f in &files {
        println!("{}", f.display());
    }
    process::step(format!(
        "new-module: {} module {} in {}; build it with `cargo xtask build-module {}`",
        if args.rust { "Rust" } else { "C" },
        args.name,
        dir.display(),
        dir.display()
    ));
    Ok(0)
}

/// `cargo xtask build-module`: prints the `.ko`'s path.
pub fn build_module_cmd(root: &Path, args: &BuildModuleArgs) -> Result<u8> {
    let ko = build_module(root, &args.dir, args.output.as_deref())?;
    println!("{}", ko.display());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf()
    }

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kobold-newmod-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn names_are_checked_as_the_kernel_checks_them() {
        let t = temp("names");
        for bad in ["", "a b", "a.b", "x/y", &"n".repeat(56)] {
            let err = new_module(&root(), bad, false, &t.join("x")).unwrap_err();
            assert!(err.to_string().contains("invalid module name"), "{err}");
        }
        assert!(new_module(&root(), "1st", true, &t.join("x")).is_err());
        assert!(!t.exists(), "nothing is written for a bad name");
        assert!(check(&"n".repeat(55), false).is_ok());
        assert!(check("my-mod_2", true).is_ok());
        assert_eq!(c_ident("1-a"), "mod_1_a");
        assert_eq!(lib_name("my-mod"), "my_mod");
    }

    #[test]
    fn scaffolds_c_and_rust_and_refuses_an_existing_directory() {
        let t = temp("scaffold");
        let c = t.join("mine");
        let files = new_module(&root(), "mine", false, &c).unwrap();
        assert!(files.contains(&c.join("mine.c")));
        let src = fs::read_to_string(c.join("mine.c")).unwrap();
        for want in [
            "module_param(who, charp",
            "module_init(mine_init);",
            "module_exit(mine_exit);",
            "MODULE_LICENSE(\"GPL\");",
        ] {
            assert!(src.contains(want), "{want} missing:\n{src}");
        }
        let readme = fs::read_to_string(c.join("README.md")).unwrap();
        assert!(readme.contains(&format!("cargo xtask build-module {}", c.display())));
        assert!(readme.contains("--module"));
        assert_eq!(module_in(&c).unwrap(), (false, "mine".to_string()));
        // An existing directory is refused and left alone.
        let err = new_module(&root(), "other", false, &c).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert!(!c.join("other.c").exists());

        let r = t.join("rusty");
        new_module(&root(), "my-rust", true, &r).unwrap();
        let manifest = fs::read_to_string(r.join("Cargo.toml")).unwrap();
        let dep = root().join("modules/rust/kobold-module");
        assert!(manifest.contains(&format!("path = \"{}\"", dep.display())));
        assert!(dep.join("Cargo.toml").is_file());
        for want in [
            "\"staticlib\"",
            "lto = \"fat\"",
            "panic = \"abort\"",
            "codegen-units = 1",
            "[workspace]",
        ] {
            assert!(manifest.contains(want), "{want} missing:\n{manifest}");
        }
        assert_eq!(package_name(&manifest).as_deref(), Some("my-rust"));
        assert_eq!(module_in(&r).unwrap(), (true, "my-rust".to_string()));
        let lib = fs::read_to_string(r.join("src/lib.rs")).unwrap();
        assert!(lib.contains("kobold_module::module! {"));
        assert!(lib.contains("name: \"my-rust\","));
        assert!(r.join("rust-toolchain.toml").is_file());
        assert!(r.join("README.md").is_file());
        fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn package_name_reads_the_package_table() {
        assert_eq!(
            package_name("[lib]\nname = \"x\"\n[package]\nversion = \"1\"\nname = \"y\"\n")
                .as_deref(),
            Some("y")
        );
        assert_eq!(package_name("[dependencies]\nname = \"x\"\n"), None);
    }

    #[test]
    fn builds_a_scaffolded_c_module_the_loader_accepts() {
        let t = temp("build-c");
        let dir = t.join("mine");
        new_module(&root(), "my-mod", false, &dir).unwrap();
        let ko = build_module(&root(), &dir, None).unwrap();
        assert_eq!(ko, dir.join("my-mod.ko"));
        let data = fs::read(&ko).unwrap();
        assert_eq!(loaded_name(&data).unwrap(), "my-mod");
        // Signed with the build key: the kernel's verifier accepts it.
        let (elf, sig) = kobold_loader::signature::split(&data).unwrap();
        let sig = sig.expect("build-module signs the module");
        let cert = fs::read(crate::signing::cert_path(&root())).unwrap();
        assert_eq!(kobold_loader::pkcs7::verify(elf, sig.pkcs7, &cert), Ok(()));
        let m = kobold_loader::validate(&data).unwrap();
        assert!(
            m.modinfo_get("parmtype")
                .is_some_and(|p| p.starts_with("who:"))
        );
        // -o elsewhere; a directory with two sources is refused.
        let out = t.join("out.ko");
        assert_eq!(build_module(&root(), &dir, Some(&out)).unwrap(), out);
        fs::write(dir.join("second.c"), "").unwrap();
        assert!(build_module(&root(), &dir, None).is_err());
        fs::remove_dir_all(&t).unwrap();
    }

    /// A cargo build of kobold-module and the module for armv7a-none-eabi
    /// (about a second: both crates are small).
    #[test]
    fn builds_a_scaffolded_rust_module_the_loader_accepts() {
        let t = temp("build-rust");
        let dir = t.join("rusty");
        new_module(&root(), "my-rust", true, &dir).unwrap();
        let ko = build_module(&root(), &dir, None).unwrap();
        assert_eq!(ko, dir.join("my-rust.ko"));
        let data = fs::read(&ko).unwrap();
        assert_eq!(loaded_name(&data).unwrap(), "my-rust");
        assert!(crate::signing::is_signed(&data), "build-module signs it");
        fs::remove_dir_all(&t).unwrap();
    }
}
