//! `cargo xtask`: Kobold's build, run and test driver (see `lib.rs`).

fn main() -> std::process::ExitCode {
    xtask::main()
}
