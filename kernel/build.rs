//! Passes the top-level `linker.ld` to the kernel binary — only when building
//! for the ARM target, so host builds (`cargo test`, clippy) are untouched —
//! and the size of the `.kallsyms` reservation.
//!
//! `cargo xtask build` sets `KOBOLD_KALLSYMS_RESERVED` (bytes) from the size
//! of the symbol table it wrote last time for this profile, and builds again
//! with a larger value when the table outgrows it; without the variable (a
//! plain `cargo build`) the reservation is [`DEFAULT_RESERVED`].

/// Enough for a release kernel's table; xtask raises it when needed.
const DEFAULT_RESERVED: u32 = 128 * 1024;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = std::path::Path::new(&manifest_dir)
        .parent()
        .expect("kernel/ lives inside the workspace");
    println!(
        "cargo:rerun-if-changed={}",
        root.join("linker.ld").display()
    );
    println!("cargo:rerun-if-changed={}", root.join("boot.S").display());
    println!("cargo:rerun-if-env-changed=KOBOLD_KALLSYMS_RESERVED");
    let reserved = match std::env::var("KOBOLD_KALLSYMS_RESERVED") {
        Ok(v) => v
            .trim()
            .parse::<u32>()
            .expect("KOBOLD_KALLSYMS_RESERVED must be a byte count"),
        Err(_) => DEFAULT_RESERVED,
    };
    // The built-in keyring (module/signing.rs): what `cargo xtask build`
    // wrote, for the ARM kernel only; empty (no module signing) for host
    // builds (the host tests) and a plain cargo build.
    let keyring = root.join("target/kobold/keyring.der");
    println!("cargo:rerun-if-changed={}", keyring.display());
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let arm = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("arm");
    let certs = if arm {
        std::fs::read(&keyring).unwrap_or_default()
    } else {
        Vec::new()
    };
    std::fs::write(out.join("keyring.der"), certs).expect("writing OUT_DIR/keyring.der");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("arm") {
        println!(
            "cargo:rustc-link-arg-bins=-T{}",
            root.join("linker.ld").display()
        );
        println!("cargo:rustc-link-arg-bins=--no-rosegment");
        println!("cargo:rustc-link-arg-bins=--defsym=__kallsyms_reserved={reserved}");
    }
}
