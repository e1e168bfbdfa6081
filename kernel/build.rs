//! Passes the top-level `linker.ld` to the kernel binary — only when building
//! for the ARM target, so host builds (`cargo test`, clippy) are untouched —
//! and the size of the `.kallsyms` reservation.
//!
//! `cargo xtask build` sets `KOBOLD_KALLSYMS_RESERVED` (bytes) from the size
//! of the symbol table it wrote last time for this profile, and builds again
//! with a larger value when the table outgrows it; without the variable (a
//! plain `cargo build`) the reservation is [`DEFAULT_RESERVED`].
//!
//! It also embeds the built-in keyring `target/kobold/keyring.der` and its
//! boot lines `target/kobold/keyring.lines`, both written by `cargo xtask
//! build` (see `kobold_loader::keyring` for why the lines are made then).

/// Enough for a release kernel's table (about 136 KB with LTO, plus
/// xtask's eighth of room), so a fresh build links once; xtask raises it
/// when needed.
const DEFAULT_RESERVED: u32 = 192 * 1024;

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
    // Its boot lines, recorded by xtask with it (kobold_loader::keyring:
    // the certificates are decoded when the image is made, not at boot).
    // The sidecar's header names the keyring it describes; a pair that
    // does not match stops the build rather than print another keyring's
    // lines.
    let sidecar = root.join("target/kobold/keyring.lines");
    println!("cargo:rerun-if-changed={}", sidecar.display());
    let lines = if certs.is_empty() {
        String::new()
    } else {
        let lines = std::fs::read_to_string(&sidecar).unwrap_or_default();
        let header = format!(
            "# keyring.der: {} bytes, fnv1a64 {:016x}",
            certs.len(),
            fnv1a64(&certs)
        );
        assert!(
            lines.lines().next() == Some(header.as_str()),
            "{} does not describe {} ({header}): run `cargo xtask build`",
            sidecar.display(),
            keyring.display()
        );
        lines
    };
    std::fs::write(out.join("keyring.der"), certs).expect("writing OUT_DIR/keyring.der");
    std::fs::write(out.join("keyring.lines"), lines).expect("writing OUT_DIR/keyring.lines");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("arm") {
        // ring's ARM assembly (RSA's Montgomery multiplication, SHA-256),
        // which ring's own build script leaves out for a target without an
        // OS; `cargo xtask build` assembles it (xtask/src/ring_asm.rs).
        let ring_asm = root.join("target/kobold/ring-asm/libring_asm.a");
        println!("cargo:rerun-if-changed={}", ring_asm.display());
        if ring_asm.exists() {
            println!(
                "cargo:rustc-link-search=native={}",
                root.join("target/kobold/ring-asm").display()
            );
            println!("cargo:rustc-link-lib=static=ring_asm");
        }
        println!(
            "cargo:rustc-link-arg-bins=-T{}",
            root.join("linker.ld").display()
        );
        println!("cargo:rustc-link-arg-bins=--no-rosegment");
        println!("cargo:rustc-link-arg-bins=--defsym=__kallsyms_reserved={reserved}");
    }
}

/// `kobold_loader::keyring::fnv1a64` (the sidecar header's fingerprint):
/// the same published FNV-1a; a difference would fail every xtask build.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
