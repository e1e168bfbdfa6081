//! The ARM assembly of `ring`, which the kernel's module signature check
//! (`kobold_loader::pkcs7`) uses for RSA and SHA-256.
//!
//! ring's Rust code calls its ARM assembly on every ARM target
//! (`bn_mul_mont_nohw` for the Montgomery multiplication, OpenSSL's
//! `armv4-mont`; `sha256_block_data_order_nohw`, `sha256-armv4`; and their
//! NEON variants, which the kernel never selects: ring enables NEON only
//! when the target has it, and `armv7a-none-eabi` does not), but its build
//! script assembles that only for operating systems with the Linux ABI, so
//! for `armv7a-none-eabi` (`target_os = "none"`) the kernel would not link.
//! The files are in ring's package, pregenerated for ELF (`*-linux32.S`,
//! which is also the bare-metal EABI object format): this assembles the two
//! the verifier needs, unchanged, with `arm-none-eabi-gcc` (already needed
//! for the C sample modules) into `target/kobold/ring-asm/libring_asm.a`,
//! which kernel/build.rs links when it is there (as it embeds the keyring
//! xtask writes). ring prefixes every symbol with its version; the loader
//! pins that version ([`RING_VERSION`]) and a different one fails to link,
//! loudly.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::process;

/// The ring version the loader pins (`loader/Cargo.toml`: `=0.17.14`).
pub const RING_VERSION: &str = "0.17.14";

/// The pregenerated files assembled, under ring's `pregenerated/`.
const SOURCES: [&str; 2] = ["armv4-mont-linux32.S", "sha256-armv4-linux32.S"];

/// The global symbols they define (ring's C/Rust names, before the prefix).
const SYMBOLS: [&str; 4] = [
    "bn_mul_mont_nohw",
    "bn_mul8x_mont_neon",
    "sha256_block_data_order_nohw",
    "sha256_block_data_order_neon",
];

/// Where kernel/build.rs looks for the archive.
pub fn archive(root: &Path) -> PathBuf {
    root.join("target/kobold/ring-asm/libring_asm.a")
}

/// ring's package directory, from `cargo metadata`.
fn ring_dir(root: &Path) -> Result<PathBuf> {
    let mut cargo = process::cargo();
    cargo
        .args(["metadata", "--format-version", "1", "--locked"])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"));
    let json = process::output(&mut cargo, "cargo metadata must work to find ring")?;
    let tail = format!("/ring-{RING_VERSION}/Cargo.toml\"");
    let key = "\"manifest_path\":\"";
    for (at, _) in json.match_indices(key) {
        let rest = &json[at + key.len()..];
        let Some(end) = rest.find('"') else { break };
        let path = &rest[..end];
        if rest[..end + 1].ends_with(&tail) {
            let dir = Path::new(path).parent().context("ring's manifest path")?;
            return Ok(dir.to_path_buf());
        }
    }
    bail!("cargo metadata lists no ring {RING_VERSION} (loader/Cargo.toml pins it)")
}

/// Assembles the archive unless it is newer than its sources.
pub fn assemble(root: &Path) -> Result<()> {
    let out = archive(root);
    let dir = ring_dir(root)?;
    let sources: Vec<PathBuf> = SOURCES
        .iter()
        .map(|s| dir.join("pregenerated").join(s))
        .collect();
    let fresh = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    if let Some(built) = fresh(&out)
        && sources.iter().all(|s| fresh(s).is_some_and(|t| t <= built))
    {
        return Ok(());
    }
    let work = out.parent().context("archive path")?.to_path_buf();
    let inc = work.join("include");
    fs::create_dir_all(inc.join("ring_core_generated"))?;
    // What ring's build script generates: its prefix for each symbol.
    let prefix = format!("ring_core_{}_", RING_VERSION.replace('.', "_"));
    let mut header = String::new();
    for s in SYMBOLS {
        header.push_str(&format!("#define {s} {prefix}_{s}\n"));
    }
    fs::write(inc.join("ring_core_generated/prefix_symbols_asm.h"), header)?;
    let mut objects = Vec::new();
    for src in &sources {
        let name = src.file_stem().context("source name")?.to_string_lossy();
        let obj = work.join(format!("{name}.o"));
        let mut gcc = std::process::Command::new(crate::modules::CC);
        gcc.args(["-march=armv7-a", "-marm", "-mfloat-abi=soft", "-c"])
            .arg("-I")
            .arg(&inc)
            .arg("-I")
            .arg(dir.join("include"))
            .arg(src)
            .arg("-o")
            .arg(&obj);
        process::run(&mut gcc, "install gcc-arm-none-eabi (cargo xtask setup)")?;
        objects.push(obj);
    }
    let _ = fs::remove_file(&out);
    let mut ar = std::process::Command::new("arm-none-eabi-ar");
    ar.arg("rcs").arg(&out).args(&objects);
    process::run(
        &mut ar,
        "install binutils-arm-none-eabi (cargo xtask setup)",
    )
}
