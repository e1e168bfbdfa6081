//! The Kobold kernel image. Everything lives in the `kernel` library; this
//! binary only links it (boot.S's `_start` is the entry point).
#![cfg_attr(target_arch = "arm", no_std, no_main)]

#[cfg(target_arch = "arm")]
use kernel as _;

#[cfg(not(target_arch = "arm"))]
fn main() {
    eprintln!("the Kobold kernel runs on armv7a-none-eabi only: try `cargo xtask run`");
    std::process::exit(1);
}
