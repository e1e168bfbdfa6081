//! Kobold's build, run and test driver, run as `cargo xtask <command>`.
//!
//! The kernel is a cross-compiled `no_std` binary, so plain cargo can build
//! it but not boot it. xtask closes the gap:
//!
//! * `build` compiles the kernel for `armv7a-none-eabi`, fills its `.kallsyms`
//!   section with the symbol table (the kernel names the function in an
//!   oops from it) and packs the ELF into a raw `Image` and a U-Boot
//!   `uImage` like Linux's `arch/arm/boot`.
//! * `run` boots that image in QEMU's `vexpress-a9` board.
//! * `test` is the whole test suite: lints, host unit tests, checks on the
//!   built image and QEMU boots whose console output is matched line by line
//!   against what Linux 3.18 prints ([`cases`] holds the table).
//!
//! Each command has its own module. QEMU's command line lives in [`config`],
//! the QEMU session driver and the output matchers in [`harness`].

pub mod bench;
pub mod build;
pub mod cases;
pub mod checks;
pub mod config;
pub mod difftest;
pub mod dtb;
pub mod figures;
pub mod fuzz;
pub mod gdb;
pub mod harness;
/// Issue 8's hostile `.ko` files: the one generator the loader's host
/// tests use too (`loader/tests/trust.rs`), included from there.
#[path = "../../loader/tests/hostile/mod.rs"]
pub mod hostile;
pub mod image;
pub mod kallsyms;
pub mod labs;
pub mod linux_modules;
pub mod map;
pub mod modinfo;
pub mod modlink;
pub mod modules;
pub mod newmod;
pub mod process;
pub mod run;
pub mod setup;
pub mod test;
pub mod vs_linux;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

/// Kobold's build, run and test driver.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
pub struct Cli {
    /// Show every command xtask runs.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// Options that select which kernel is built.
#[derive(Clone, Copy, Debug, Args)]
pub struct KernelArgs {
    /// Build without CONFIG_HIGHMEM (`--no-default-features`): RAM above
    /// lowmem is dropped and there is no pkmap window.
    #[arg(long)]
    pub no_highmem: bool,

    /// Build the unoptimised dev profile instead of release; outputs go to
    /// `target/kobold/<variant>-debug/`.
    #[arg(long)]
    pub debug: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the kernel and write `kobold.elf`, `System.map`, `Image` and
    /// `uImage` into `target/kobold/<variant>/`, with the `.kallsyms` section
    /// filled in.
    Build(KernelArgs),

    /// Build, then boot the kernel in `qemu-system-arm -M vexpress-a9` on
    /// this terminal (Ctrl-A x quits QEMU). Exits with QEMU's status. With
    /// piped stdin, each line is typed at the next shell prompt, and
    /// `poweroff` at the end of the input.
    Run(run::RunArgs),

    /// Boot the kernel in QEMU with its gdb stub (halted at the first
    /// instruction unless --no-pause) and attach gdb-multiarch with
    /// scripts/gdb/kobold.py (`kobold-symbols`) loaded. QEMU's console is
    /// a Unix socket, logged to target/kobold/gdb/console.log. Arguments
    /// after `--` go to gdb.
    Gdb(gdb::GdbArgs),

    /// Lint, run the host tests, build both kernel variants, check the
    /// images and boot them in QEMU against the expected console output.
    Test(test::TestArgs),

    /// Print what a module is, as the kernel's loader sees it: .modinfo
    /// keys, sections, exports, undefined symbols, relocations by type.
    Modinfo {
        /// The module (an ELF32 ARM relocatable, .ko).
        file: std::path::PathBuf,
    },

    /// Lay out and relocate a module exactly as the kernel does, offline:
    /// IMAGE is the flat image at --base, IMAGE.map one `SECTION ADDR SIZE`
    /// line per placed section.
    Modlink {
        /// The module (.ko).
        file: std::path::PathBuf,
        /// Where the core region goes, e.g. 0xbf000000.
        #[arg(long)]
        base: String,
        /// Symbols the module uses, in nm/System.map format (`ADDR TYPE NAME`).
        #[arg(long)]
        symbols: std::path::PathBuf,
        /// The image to write (optional with --explain).
        #[arg(short = 'o')]
        output: Option<std::path::PathBuf>,
        /// Print every step: sections placed, symbols resolved,
        /// relocations applied (S, A, P, result, the word before and after).
        #[arg(long)]
        explain: bool,
    },

    /// Differential test of modlink against GNU ld: build the C corpus in
    /// xtask/difftest/ as modules in several variants (ARM, Thumb-2, mixed;
    /// -O0/-O2), link each with modlink and with arm-none-eabi-ld at the
    /// same section addresses, and compare every section byte for byte.
    Difftest,

    /// Fuzz the module loader (validate, layout, link, exports, params)
    /// with structure-aware mutations of the sample modules; fails on a
    /// panic, an input slower than 1 s or an allocation beyond
    /// 2 x 16 MiB + 64 x the file's length. Ends with `fuzz: N executions
    /// in S s, C crashes`.
    Fuzz(fuzz::FuzzArgs),

    /// Print the benchmark figures of docs/BENCHMARKS.md: vmap area
    /// alloc+free with 1k/10k/100k live areas, and boot time to the shell
    /// prompt at -m 1024.
    Bench {
        /// Instead: Kobold beside Debian's Linux 6.1 armmp on the same QEMU
        /// (boot, insmod+rmmod of Debian's crc-itu-t, crc7 and libarc4 in
        /// guest time and guest instructions, image sizes) and the physical
        /// floor (an empty kernel's QEMU run).
        #[arg(long)]
        vs_linux: bool,
    },

    /// Run the lab book's labs (every ```lab block in docs/book/*.md) in
    /// QEMU and check the output they show (`cargo xtask test` runs them too).
    Labs {
        /// Only the labs whose name (`lab:CHAPTER:LINE`) contains SUBSTR.
        #[arg(long, value_name = "SUBSTR")]
        filter: Option<String>,
    },

    /// Boot the kernel, load modules (hello and bigmod, plus each
    /// --module), read the layout block, /proc/modules and
    /// /proc/vmallocinfo, and draw the 4 GB virtual address space as an SVG
    /// (target/kobold/map.svg; a PNG beside it when rsvg-convert or
    /// ImageMagick is installed), checked against the boot log.
    Map(map::MapArgs),

    /// Create a module of your own outside the tree: NAME.c (a hello
    /// module with a parameter) and a README, or with --rust a Cargo
    /// project using this checkout's kobold-module crate. Build it with
    /// `build-module`.
    NewModule(newmod::NewModuleArgs),

    /// Debian's own armhf modules against Kobold (issue 11): fetch
    /// `linux-image-6.1.0-*-armmp:armhf` with apt (cached in
    /// target/linux-modules), learn the built kernel's 6.1 exports, print
    /// which modules it can satisfy and the missing symbols ranked by how
    /// many modules each would unlock, then load and unload every
    /// satisfiable one in one QEMU boot. Ends with `linux-modules: L loaded
    /// and unloaded cleanly, of T modules in the package`.
    LinuxModules(linux_modules::LinuxModulesArgs),

    /// Build a module directory made by `new-module` into a .ko (C with the
    /// samples' gcc flags and headers, Rust as the Rust samples), check it
    /// with the loader and print its path (for `run --module`).
    BuildModule(newmod::BuildModuleArgs),
}

/// The workspace root: the parent of xtask's manifest directory. Refuses to
/// run unless that really is the Kobold workspace.
pub fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").context(
        "CARGO_MANIFEST_DIR is not set: run xtask through cargo, as \
         `cargo xtask <command>` inside the Kobold workspace",
    )?;
    let root = Path::new(&manifest_dir)
        .parent()
        .context("xtask's manifest directory has no parent")?
        .to_path_buf();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    if !manifest.contains("[workspace]") || !root.join("kernel/Cargo.toml").is_file() {
        bail!(
            "{} is not the Kobold workspace (no [workspace] Cargo.toml with a kernel/ \
             member): run `cargo xtask` from a Kobold checkout",
            root.display()
        );
    }
    Ok(root)
}

/// `path` as the user meant it: relative to the directory `cargo xtask`
/// was started in (`cwd`), not the workspace root xtask then works from.
pub fn resolve(cwd: &Path, path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        cwd.join(path)
    }
}

impl Command {
    /// Whether the command works from the workspace root. `modinfo` and
    /// `modlink` do not: they run in the caller's directory, so their paths
    /// mean what they say and are printed as given (as Linux's modinfo
    /// prints `filename:`).
    pub fn needs_root(&self) -> bool {
        !matches!(self, Command::Modinfo { .. } | Command::Modlink { .. })
    }

    /// Every path argument of a command that [`needs_root`](Self::needs_root)
    /// made absolute against the caller's directory.
    pub fn resolve_paths(self, cwd: &Path) -> Command {
        match self {
            Command::Run(mut args) => {
                args.module = args.module.into_iter().map(|m| resolve(cwd, m)).collect();
                Command::Run(args)
            }
            Command::Map(mut args) => {
                args.module = args.module.into_iter().map(|m| resolve(cwd, m)).collect();
                args.output = args.output.map(|o| resolve(cwd, o));
                Command::Map(args)
            }
            Command::Gdb(mut args) => {
                args.run.module = args
                    .run
                    .module
                    .into_iter()
                    .map(|m| resolve(cwd, m))
                    .collect();
                Command::Gdb(args)
            }
            Command::Fuzz(mut args) => {
                args.replay = args.replay.into_iter().map(|r| resolve(cwd, r)).collect();
                Command::Fuzz(args)
            }
            Command::NewModule(mut args) => {
                let dir = args.dir.take().unwrap_or_else(|| args.name.clone().into());
                args.dir = Some(resolve(cwd, dir));
                Command::NewModule(args)
            }
            Command::LinuxModules(mut args) => {
                args.deb = args.deb.map(|d| resolve(cwd, d));
                Command::LinuxModules(args)
            }
            Command::BuildModule(mut args) => {
                args.dir = resolve(cwd, args.dir);
                args.output = args.output.map(|o| resolve(cwd, o));
                Command::BuildModule(args)
            }
            other => other,
        }
    }
}

/// Dispatches one command, from the workspace root (paths on the command
/// line are resolved against the caller's directory first). Returns the
/// process's exit status.
pub fn run(cli: Cli) -> Result<u8> {
    process::set_verbose(cli.verbose);
    let root = workspace_root()?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let command = cli.command.resolve_paths(&cwd);
    if command.needs_root() {
        std::env::set_current_dir(&root)
            .with_context(|| format!("entering the workspace root {}", root.display()))?;
    }
    match command {
        Command::Build(args) => {
            setup::ensure_rust_target()?;
            build::build(&root, config::Build::from(args))?;
            Ok(0)
        }
        Command::Run(args) => run::run(&root, &args),
        Command::Gdb(args) => gdb::gdb(&root, &args),
        Command::Test(args) => test::test(&root, &args),
        Command::Modinfo { file } => modinfo::modinfo(&file),
        Command::Modlink {
            file,
            base,
            symbols,
            output,
            explain,
        } => modlink::modlink(&file, &base, &symbols, output.as_deref(), explain),
        Command::Difftest => difftest::difftest().map(|_| 0),
        Command::Fuzz(args) => {
            if args.replay.is_empty() {
                setup::ensure_rust_target()?;
            }
            fuzz::fuzz(&root, &args)
        }
        Command::Bench { vs_linux } => {
            setup::ensure_rust_target()?;
            setup::ensure_qemu()?;
            if vs_linux {
                vs_linux::vs_linux(&root).map(|()| 0)
            } else {
                bench::bench(&root)
            }
        }
        Command::Labs { filter } => test::labs(&root, filter.as_deref()),
        Command::Map(args) => map::map(&root, &args),
        Command::NewModule(args) => {
            let dir = args
                .dir
                .clone()
                .context("new-module: no directory (resolve_paths sets it)")?;
            newmod::new_module_cmd(&root, &args, &dir)
        }
        Command::BuildModule(args) => newmod::build_module_cmd(&root, &args),
        Command::LinuxModules(args) => {
            setup::ensure_rust_target()?;
            setup::ensure_qemu()?;
            linux_modules::linux_modules(&root, &args)
        }
    }
}

/// The binary's entry: parses the command line and reports errors with their
/// whole chain of causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(err) => {
            // The chain by hand: `{:?}` would add a backtrace whenever
            // RUST_BACKTRACE is set, burying the message.
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_the_callers() {
        let cwd = Path::new("/home/me/kobold/modules/c");
        let parse = |args: &[&str]| {
            Cli::try_parse_from(args)
                .unwrap()
                .command
                .resolve_paths(cwd)
        };
        match parse(&[
            "xtask",
            "run",
            "--module",
            "mine.ko",
            "--module",
            "/abs/x.ko",
        ]) {
            Command::Run(args) => assert_eq!(
                args.module,
                [
                    PathBuf::from("/home/me/kobold/modules/c/mine.ko"),
                    PathBuf::from("/abs/x.ko")
                ]
            ),
            other => panic!("{other:?}"),
        }
        match parse(&["xtask", "fuzz", "--replay", "crash.ko"]) {
            Command::Fuzz(args) => assert_eq!(args.replay, [cwd.join("crash.ko")]),
            other => panic!("{other:?}"),
        }
        // modinfo and modlink stay in the caller's directory: paths as given.
        let modinfo = parse(&["xtask", "modinfo", "../../target/x.ko"]);
        assert!(!modinfo.needs_root());
        match modinfo {
            Command::Modinfo { file } => assert_eq!(file, Path::new("../../target/x.ko")),
            other => panic!("{other:?}"),
        }
        let modlink = parse(&[
            "xtask",
            "modlink",
            "a.ko",
            "--base",
            "0xbf000000",
            "--symbols",
            "System.map",
            "-o",
            "out/a.img",
        ]);
        assert!(!modlink.needs_root());
        match modlink {
            Command::Modlink {
                file,
                symbols,
                output,
                ..
            } => {
                assert_eq!(file, Path::new("a.ko"));
                assert_eq!(symbols, Path::new("System.map"));
                assert_eq!(output.as_deref(), Some(Path::new("out/a.img")));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["xtask", "build"]).needs_root());
        match parse(&["xtask", "new-module", "mine"]) {
            Command::NewModule(args) => {
                assert_eq!(args.dir, Some(cwd.join("mine")));
                assert!(!args.rust);
            }
            other => panic!("{other:?}"),
        }
        match parse(&["xtask", "new-module", "mine", "--rust", "--dir", "../x"]) {
            Command::NewModule(args) => {
                assert_eq!(args.dir, Some(cwd.join("../x")));
                assert!(args.rust);
            }
            other => panic!("{other:?}"),
        }
        match parse(&["xtask", "build-module", "mine", "-o", "/abs/m.ko"]) {
            Command::BuildModule(args) => {
                assert_eq!(args.dir, cwd.join("mine"));
                assert_eq!(args.output.as_deref(), Some(Path::new("/abs/m.ko")));
            }
            other => panic!("{other:?}"),
        }
    }
}
