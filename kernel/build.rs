//! Passes the top-level `linker.ld` to the kernel binary — only when building
//! for the ARM target, so host builds (`cargo test`, clippy) are untouched.

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
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("arm") {
        println!(
            "cargo:rustc-link-arg-bins=-T{}",
            root.join("linker.ld").display()
        );
        println!("cargo:rustc-link-arg-bins=--no-rosegment");
    }
}
