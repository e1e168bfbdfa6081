//! `cargo xtask difftest`: `modlink` against GNU ld, byte for byte.
//!
//! Why: `modlink` and the kernel's `insmod` share kobold-loader, whose
//! layout and relocation arithmetic (BL/BLX encodings, Thumb-2 J1/J2 bits,
//! MOVW/MOVT halves, PREL31 sign handling...) is hand-written. Unit tests
//! check the cases their author thought of, against values their author
//! computed. A real linker is an independent oracle: this test compiles a
//! small C corpus (`xtask/difftest/*.c`) in several variants, combines each
//! into a module with `ld -r` as Kbuild does, links it with
//! [`modlink_bytes`] at the module window, then asks GNU ld to place every
//! section modlink placed at exactly the same address (a generated linker
//! script; the kernel is a stub object whose symbols sit at the addresses
//! of the `nm`-style symbol file modlink gets) and compares every placed
//! section byte for byte. Any difference is a loader bug until proven
//! otherwise.
//!
//! The variants cover ARM and Thumb-2 code, -O0 and -O2, with and without
//! `-ffunction-sections`, ARM and Thumb-2 kernels (exports with bit 0 clear
//! or set), and modules mixing ARM and Thumb objects so calls between them
//! become BLX. `asm_relocs.c` adds, in top-level assembly, the relocation
//! types GCC does not emit here (PC24, REL32, TARGET1, V4BX, MOVW/MOVT
//! PREL), so every type the loader knows is exercised. Code whose tail
//! calls could cross states (mixed variants, a module whose state differs
//! from the kernel's) is built with `-fno-optimize-sibling-calls`: a tail
//! call is a B, which cannot change state; the loader would route it
//! through its PLT and GNU ld through a veneer of its own, and the two
//! cannot be compared. Modules with Thumb code are linked at 0xbf800000, a
//! Thumb-2 kernel's MODULES_VADDR (PAGE_OFFSET - 8 MB), so BL's ±16 MB
//! reaches the kernel; every branch must reach its target directly, and
//! the loader's PLT (`.plt`, `.init.plt` in the map) must stay unused.
//!
//! Tentative definitions (`int counter;` under `-fcommon`) are COMMON
//! symbols. Two variants leave them to the loader (`ld -r`; modlink puts
//! them in the map's `COMMON` range and GNU ld, given `*(COMMON)` at that
//! address, must allocate them identically); one gives them space in
//! `.bss` when the module is made (`ld -r -d`).
//!
//! What GNU ld does in a final link that a module loader does not, and how
//! the test keeps it out. Each is enforced afterwards — every placed section
//! must come out of ld at its address with its size, and ld must add no
//! allocated section — so a change in ld's behaviour fails loudly instead
//! of hiding a difference:
//!
//! * SHF_MERGE string sections: ld removes duplicates and merges tails
//!   (`"d\n"` becomes the end of `"op_log %d\n"`); `ld -r` and module
//!   loaders copy them verbatim. ld gets a copy of the module whose only
//!   change is SHF_MERGE|SHF_STRINGS cleared in those section headers.
//! * `.ARM.exidx`: ld merges identical entries (`--no-merge-exidx-entries`)
//!   and appends an EXIDX_CANTUNWIND entry after the last function with
//!   unwind data, growing the module's last exidx section by 8 bytes. A
//!   sentinel object — one `.cantunwind` function placed above the module —
//!   makes the module's last entry not the last one.
//! * Erratum veneers: `--no-fix-cortex-a8` (on by default for ARMv7-A),
//!   `--no-fix-arm1176`.
//! * `--defsym` kernel symbols are untyped, and ld treats them as ARM code
//!   whatever bit 0 says; the stub kernel's symbols are typed (`kernel_asm`).
//! * R_ARM_V4BX is applied only under `--fix-v4bx`; the loader always
//!   applies it (as Linux does), so ld gets `--fix-v4bx`.
//!
//! Everything a variant produced stays in `target/difftest/<variant>/`:
//! the objects, `mod.ko`, `kernel.syms`, modlink's `mod.img` and
//! `mod.img.map` (rerun by hand: `cargo xtask modlink mod.ko --base ADDR
//! --symbols kernel.syms -o mod.img`), ld's input copy `mod-ld.ko`, the
//! stub kernel `kernel.s`, `mod.lds` and `mod.elf`.

use crate::modlink::{SymbolMap, modlink_bytes};
use crate::process;
use anyhow::{Context, Result, anyhow, bail, ensure};
use object::{Object, ObjectSection};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const GCC: &str = "arm-none-eabi-gcc";
const LD: &str = "arm-none-eabi-ld";
const OBJDUMP: &str = "arm-none-eabi-objdump";
const INSTALL: &str = "install the GNU Arm Embedded toolchain \
    (Debian/Ubuntu: `apt-get install gcc-arm-none-eabi binutils-arm-none-eabi`)";

/// Where the core region goes: Linux's MODULES_VADDR for an ARM kernel
/// (PAGE_OFFSET - 16 MB) and for a Thumb-2 kernel (PAGE_OFFSET - 8 MB).
const ARM_BASE: u32 = 0xbf00_0000;
const THUMB_BASE: u32 = 0xbf80_0000;

/// The same for every variant (`-mno-unaligned-access` as Linux builds
/// modules; `-funwind-tables` gives `.ARM.exidx` with R_ARM_PREL31 and
/// R_ARM_NONE to `__aeabi_unwind_cpp_pr0`).
const CFLAGS: &[&str] = &[
    "-march=armv7-a",
    "-mfloat-abi=soft",
    "-ffreestanding",
    "-fno-pic",
    "-nostdlib",
    "-mno-unaligned-access",
    "-funwind-tables",
    // asm_relocs.c's `.arch armv4t` BX instructions get R_ARM_V4BX.
    "-Wa,--fix-v4bx",
    "-Wall",
    "-Wextra",
];

/// The kernel the modules link against: what `kernel.syms` says (nm
/// format) and what [`kernel_asm`] defines for GNU ld. Code symbols get
/// bit 0 set for a Thumb-2 kernel.
const KERNEL_SYMBOLS: &[(u32, char, &str)] = &[
    (0xc000_8000, 'T', "printk"),
    (0xc000_8100, 'T', "kmalloc"),
    (0xc000_8200, 'T', "kfree"),
    (0xc000_8300, 'T', "memcpy"),
    (0xc000_8400, 'T', "memset"),
    (0xc000_8500, 'T', "strcmp"),
    (0xc000_8600, 'T', "panic"),
    (0xc000_8700, 'T', "__aeabi_idiv"),
    (0xc000_8800, 'T', "__aeabi_unwind_cpp_pr0"),
    (0xc000_8900, 'T', "__aeabi_unwind_cpp_pr1"),
    (0xc000_8a00, 'T', "__aeabi_unwind_cpp_pr2"),
    (0xc080_0000, 'R', "linux_banner"),
    (0xc0a0_0000, 'D', "jiffies"),
    (0xc0a0_0040, 'D', "console_loglevel"),
];

/// Tentative definitions: `-fno-common` (plain .bss), or `-fcommon` with
/// the COMMON symbols left for the loader (`ld -r`), or given space in
/// `.bss` when the module is made (`ld -r -d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Common {
    No,
    Loader,
    LdR,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Isa {
    Arm,
    Thumb,
}

impl Isa {
    fn flag(self) -> &'static str {
        match self {
            Isa::Arm => "-marm",
            Isa::Thumb => "-mthumb",
        }
    }
}

/// One way of building the corpus into a module.
struct Variant {
    name: &'static str,
    /// The instruction set of every file, except in mixed variants.
    isa: Isa,
    /// `arm_*.c` is always built with -marm and `thumb_*.c` with -mthumb.
    mixed: bool,
    opt: &'static str,
    /// `-ffunction-sections -fdata-sections`.
    sections: bool,
    /// What happens to tentative definitions (`int counter;`).
    common: Common,
    /// The state of the kernel's exported functions.
    kernel: Isa,
}

impl Variant {
    fn has_thumb(&self) -> bool {
        self.isa == Isa::Thumb || self.mixed
    }

    fn base(&self) -> u32 {
        if self.has_thumb() {
            THUMB_BASE
        } else {
            ARM_BASE
        }
    }

    fn isa_of(&self, file: &str) -> Isa {
        match (self.mixed, file) {
            (true, f) if f.starts_with("arm_") => Isa::Arm,
            (true, f) if f.starts_with("thumb_") => Isa::Thumb,
            _ => self.isa,
        }
    }

    /// Tail calls that would cross states: between the module's own ARM
    /// and Thumb code, or between the module and a kernel of the other
    /// state.
    fn no_sibling_calls(&self) -> bool {
        self.mixed || self.isa != self.kernel
    }

    fn cflags(&self, file: &str) -> Vec<&'static str> {
        let mut flags = CFLAGS.to_vec();
        flags.extend([self.opt, self.isa_of(file).flag()]);
        if self.sections {
            flags.extend(["-ffunction-sections", "-fdata-sections"]);
        }
        flags.push(if self.common == Common::No {
            "-fno-common"
        } else {
            "-fcommon"
        });
        if self.no_sibling_calls() {
            flags.push("-fno-optimize-sibling-calls");
        }
        flags
    }

    fn symbol_value(&self, addr: u32, kind: char) -> u32 {
        if kind == 'T' && self.kernel == Isa::Thumb {
            addr | 1
        } else {
            addr
        }
    }
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "arm-O0",
        isa: Isa::Arm,
        mixed: false,
        opt: "-O0",
        sections: false,
        common: Common::No,
        kernel: Isa::Arm,
    },
    Variant {
        name: "arm-O2-ffs",
        isa: Isa::Arm,
        mixed: false,
        opt: "-O2",
        sections: true,
        common: Common::No,
        kernel: Isa::Arm,
    },
    Variant {
        name: "arm-O2-common-thumbkernel",
        isa: Isa::Arm,
        mixed: false,
        opt: "-O2",
        sections: false,
        common: Common::Loader,
        kernel: Isa::Thumb,
    },
    Variant {
        name: "thumb-O0-common",
        isa: Isa::Thumb,
        mixed: false,
        opt: "-O0",
        sections: false,
        common: Common::Loader,
        kernel: Isa::Thumb,
    },
    Variant {
        name: "thumb-O2-ffs",
        isa: Isa::Thumb,
        mixed: false,
        opt: "-O2",
        sections: true,
        common: Common::No,
        kernel: Isa::Thumb,
    },
    Variant {
        name: "thumb-O2-armkernel",
        isa: Isa::Thumb,
        mixed: false,
        opt: "-O2",
        sections: false,
        common: Common::No,
        kernel: Isa::Arm,
    },
    Variant {
        name: "mixed-arm-O0",
        isa: Isa::Arm,
        mixed: true,
        opt: "-O0",
        sections: false,
        common: Common::No,
        kernel: Isa::Arm,
    },
    Variant {
        name: "mixed-thumb-O2-ffs-commonld",
        isa: Isa::Thumb,
        mixed: true,
        opt: "-O2",
        sections: true,
        common: Common::LdR,
        kernel: Isa::Arm,
    },
];

/// The sentinel that keeps GNU ld from appending an EXIDX_CANTUNWIND entry
/// to the module's last `.ARM.exidx` section: it is placed above every
/// module section and its own entry is EXIDX_CANTUNWIND.
const SENTINEL: &str = "\t.syntax unified
\t.section .difftest.sentinel,\"ax\",%progbits
\t.arm
\t.globl difftest_sentinel
\t.type difftest_sentinel, %function
difftest_sentinel:
\t.fnstart
\tbx lr
\t.cantunwind
\t.fnend
";

/// `kernel.s`, GNU ld's side of the kernel: every symbol of
/// [`KERNEL_SYMBOLS`] defined in a section of its own (placed at its
/// address by the linker script), typed — functions ARM or Thumb as the
/// variant's kernel, data objects — plus the [`SENTINEL`].
///
/// Not `--defsym`: those symbols are untyped absolutes, which GNU ld
/// treats as ARM code whatever bit 0 says (a Thumb BL to an odd
/// `--defsym` address becomes BLX, a Thumb tail call gets an ARM veneer),
/// so a Thumb-2 kernel cannot be described with them.
fn kernel_asm(kernel: Isa) -> Result<String> {
    let mut s = String::from(SENTINEL);
    for &(_, kind, name) in KERNEL_SYMBOLS {
        let (flags, body) = match (kind, kernel) {
            ('T', Isa::Arm) => ("ax", "\t.arm\n\t.type {n}, %function\n{n}:\n\tbx lr\n"),
            ('T', Isa::Thumb) => (
                "ax",
                "\t.thumb\n\t.type {n}, %function\n\t.thumb_func\n{n}:\n\tbx lr\n",
            ),
            ('R', _) => ("a", "\t.type {n}, %object\n{n}:\n\t.asciz \"Linux\"\n"),
            ('D', _) => ("aw", "\t.type {n}, %object\n{n}:\n\t.word 0\n"),
            _ => bail!("kernel symbol {name}: no stub for nm type {kind}"),
        };
        writeln!(
            s,
            "\t.section .difftest.kernel.{name},\"{flags}\",%progbits\n\t.globl {name}\n{}",
            body.replace("{n}", name)
        )?;
    }
    Ok(s)
}

/// The file GNU ld links: the module with SHF_MERGE cleared.
const LD_INPUT: &str = "mod-ld.ko";

/// What one variant found.
#[derive(Default)]
struct Outcome {
    /// Non-empty sections compared.
    sections: usize,
    bytes: usize,
    /// Relocations by type, in the sections modlink loads.
    relocs: BTreeMap<u32, usize>,
    /// Differences; empty when the variant passed.
    mismatches: Vec<String>,
    notes: Vec<String>,
}

/// Runs every variant; returns (variants passed, sections compared) or an
/// error naming every difference.
pub fn difftest() -> Result<(usize, usize)> {
    let started = Instant::now();
    for tool in [GCC, LD] {
        if process::find_in_path(tool).is_none() {
            bail!(
                "`{tool}` not found in PATH: difftest compiles its corpus with GCC and \
                 links it with GNU ld to compare against modlink; {INSTALL}"
            );
        }
    }
    let root = crate::workspace_root()?;
    let corpus_dir = root.join("xtask/difftest");
    let mut corpus: Vec<PathBuf> = std::fs::read_dir(&corpus_dir)
        .with_context(|| format!("reading the corpus {}", corpus_dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("listing {}", corpus_dir.display()))?;
    corpus.retain(|p| p.extension().is_some_and(|e| e == "c"));
    corpus.sort();
    ensure!(
        !corpus.is_empty(),
        "no C files in {}: the difftest corpus is missing",
        corpus_dir.display()
    );
    let work = root.join("target/difftest");
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("removing the old {}", work.display()))?;
    }
    let results: Vec<(&Variant, Result<Outcome>)> = std::thread::scope(|s| {
        let handles: Vec<_> = VARIANTS
            .iter()
            .map(|v| {
                let (corpus, dir) = (&corpus, work.join(v.name));
                (v, s.spawn(move || run_variant(v, corpus, &dir)))
            })
            .collect();
        handles
            .into_iter()
            .map(|(v, h)| {
                let r = h
                    .join()
                    .unwrap_or_else(|_| Err(anyhow!("variant {} panicked", v.name)));
                (v, r)
            })
            .collect()
    });

    let (mut passed, mut compared) = (0, 0);
    let mut relocs = BTreeMap::new();
    let mut failures = String::new();
    for (v, result) in &results {
        match result {
            Ok(o) if o.mismatches.is_empty() => {
                passed += 1;
                compared += o.sections;
                for (t, n) in &o.relocs {
                    *relocs.entry(*t).or_insert(0) += n;
                }
                println!(
                    "difftest: {:<26} base {:#010x}: {:2} sections, {:5} bytes, {:4} relocations: identical",
                    v.name,
                    v.base(),
                    o.sections,
                    o.bytes,
                    o.relocs.values().sum::<usize>()
                );
                for n in &o.notes {
                    println!("  note: {n}");
                }
            }
            Ok(o) => {
                println!("difftest: {:<26} {} MISMATCHES", v.name, o.mismatches.len());
                writeln!(failures, "{} (target/difftest/{}/):", v.name, v.name)?;
                for m in &o.mismatches {
                    writeln!(failures, "  {m}")?;
                }
            }
            Err(e) => {
                println!("difftest: {:<26} ERROR", v.name);
                writeln!(failures, "{}: {e:#}", v.name)?;
            }
        }
    }
    println!("relocations by type across the passing variants:");
    for (t, n) in &relocs {
        let name = kobold_loader::relocate::name(*t).unwrap_or("(unknown to the loader)");
        println!("  {t:3} {name:<24} {n:5}");
    }
    let untested: Vec<&str> = kobold_loader::relocate::KNOWN
        .iter()
        .filter(|(t, _)| !relocs.contains_key(t))
        .map(|(_, name)| *name)
        .collect();
    if !untested.is_empty() && failures.is_empty() {
        println!(
            "note: relocation types the loader knows but the corpus does not exercise: {}",
            untested.join(" ")
        );
    }
    let secs = started.elapsed().as_secs_f64();
    if !failures.is_empty() {
        bail!(
            "difftest: {} of {} variants failed — modlink and GNU ld disagree, or a \
             variant could not be built ({secs:.1} s)\n{failures}",
            VARIANTS.len() - passed,
            VARIANTS.len()
        );
    }
    println!(
        "difftest: {passed} variants, {compared} sections byte-identical to GNU ld ({secs:.1} s)"
    );
    Ok((passed, compared))
}

/// Runs `cmd` in `dir`; fails with its stderr unless it exits successfully
/// and, with `quiet`, prints nothing on stderr (a warning from ld may mean
/// it changed something).
fn tool(cmd: &mut Command, dir: &Path, quiet: bool) -> Result<String> {
    cmd.current_dir(dir).stdin(Stdio::null());
    if process::verbose() {
        eprintln!("+ {}", process::describe(cmd));
    }
    let out = cmd
        .output()
        .with_context(|| format!("could not start `{}`: {INSTALL}", process::describe(cmd)))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || (quiet && !stderr.trim().is_empty()) {
        bail!(
            "`{}` in {} {}:\n{}",
            process::describe(cmd),
            dir.display(),
            if out.status.success() {
                "printed warnings".to_string()
            } else {
                format!("failed ({})", out.status)
            },
            stderr.trim_end()
        );
    }
    String::from_utf8(out.stdout)
        .with_context(|| format!("`{}` printed non-UTF-8", process::describe(cmd)))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn write(path: &Path, data: impl AsRef<[u8]>) -> Result<()> {
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

fn run_variant(v: &Variant, corpus: &[PathBuf], dir: &Path) -> Result<Outcome> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out = Outcome::default();

    // Compile, and combine into a module as Kbuild does.
    let mut objects = Vec::new();
    for src in corpus {
        let stem = src
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("{}: not a UTF-8 file name", src.display()))?;
        let obj = format!("{stem}.o");
        tool(
            Command::new(GCC)
                .args(v.cflags(stem))
                .arg("-c")
                .arg(src)
                .args(["-o", &obj]),
            dir,
            false,
        )?;
        objects.push(obj);
    }
    write(&dir.join("kernel.s"), kernel_asm(v.kernel)?)?;
    tool(
        Command::new(GCC).args(["-march=armv7-a", "-c", "kernel.s", "-o", "kernel.o"]),
        dir,
        true,
    )?;
    let mut syms = String::new();
    for &(addr, kind, name) in KERNEL_SYMBOLS {
        writeln!(syms, "{:08x} {kind} {name}", v.symbol_value(addr, kind))?;
    }
    write(&dir.join("kernel.syms"), &syms)?;
    let symbols = SymbolMap::parse(&syms)?;

    let mut ld_r = Command::new(LD);
    ld_r.arg("-r");
    if v.common == Common::LdR {
        ld_r.arg("-d"); // give COMMON symbols space in .bss
    }
    tool(ld_r.args(["-o", "mod.ko"]).args(&objects), dir, true)?;

    // modlink.
    let ko = read(&dir.join("mod.ko"))?;
    let base = v.base();
    let (image, map_text) = modlink_bytes(
        &dir.join("mod.ko").display().to_string(),
        &ko,
        base,
        &symbols,
    )?;
    write(&dir.join("mod.img"), &image)?;
    write(&dir.join("mod.img.map"), &map_text)?;
    let map = parse_map(&map_text)?;
    let module = kobold_loader::validate(&ko).map_err(|e| anyhow!("mod.ko: {e}"))?;
    for (_, target, rels) in &module.relocations {
        if module.sections[*target as usize].is_alloc() {
            for r in rels {
                *out.relocs.entry(r.r_type).or_insert(0) += 1;
            }
        }
    }
    let commons: Vec<&str> = module
        .symbols
        .iter()
        .filter(|s| s.shndx == object::elf::SHN_COMMON.0)
        .map(|s| s.name)
        .collect();
    match (v.common, commons.is_empty()) {
        (Common::Loader, true) => out.mismatches.push(
            "the module has no COMMON symbols: the corpus no longer tests them \
             (alloc.c's tentative definitions under -fcommon)"
                .to_string(),
        ),
        (Common::Loader, false) => out.notes.push(format!(
            "COMMON symbols allocated by modlink: {}",
            commons.join(", ")
        )),
        (_, false) => {
            bail!("mod.ko has COMMON symbols {commons:?} though this variant should have none")
        }
        (_, true) => {}
    }

    // GNU ld, every section at modlink's address.
    let (ld_ko, cleared) = clear_merge_flags(&ko)?;
    if !cleared.is_empty() {
        out.notes.push(format!(
            "SHF_MERGE cleared for ld on {}",
            cleared.join(", ")
        ));
    }
    write(&dir.join(LD_INPUT), &ld_ko)?;
    let unplaced: Vec<&str> = module
        .sections
        .iter()
        .filter(|s| s.is_alloc() && !map.iter().any(|p| p.name == s.name))
        .map(|s| s.name)
        .collect();
    let image_end = base
        .checked_add(u32::try_from(image.len()).context("image over 4 GB")?)
        .context("image past 4 GB")?;
    let sentinel = image_end
        .checked_add(0x1_0000)
        .context("no room for the sentinel above the module")?;
    write(
        &dir.join("mod.lds"),
        linker_script(
            &map,
            |name| module.section_by_name(name).is_some(),
            &unplaced,
            sentinel,
        )?,
    )?;
    tool(
        Command::new(LD)
            .args(["-T", "mod.lds", "-e", "0", "-o", "mod.elf"])
            .args([
                // R_ARM_V4BX: BX Rm becomes MOV PC, Rm, as the loader does.
                "--fix-v4bx",
                "--no-merge-exidx-entries",
                "--no-fix-cortex-a8",
                "--no-fix-arm1176",
                "--no-warn-rwx-segments",
            ])
            .args([LD_INPUT, "kernel.o"]),
        dir,
        true,
    )?;
    let elf_bytes = read(&dir.join("mod.elf"))?;
    compare(v, dir, &module, &map, &image, &elf_bytes, &mut out)?;
    Ok(out)
}

/// One line of modlink's map.
#[derive(Debug, PartialEq, Eq)]
struct Placed {
    name: String,
    addr: u32,
    size: u32,
}

fn hex(s: &str) -> Result<u32> {
    let digits = s
        .strip_prefix("0x")
        .with_context(|| format!("{s:?} is not 0x-prefixed hex"))?;
    u32::from_str_radix(digits, 16).with_context(|| format!("{s:?} is not hex"))
}

/// Parses modlink's `SECTION ADDR SIZE` lines.
fn parse_map(text: &str) -> Result<Vec<Placed>> {
    let mut map: Vec<Placed> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, addr, size] = fields.as_slice() else {
            bail!(
                "modlink map line {}: expected `SECTION ADDR SIZE`, got {line:?}",
                n + 1
            );
        };
        ensure!(
            !map.iter().any(|p| p.name == *name),
            "modlink map: section {name} twice; sections cannot be told apart by name"
        );
        map.push(Placed {
            name: (*name).to_string(),
            addr: hex(addr).with_context(|| format!("modlink map line {}", n + 1))?,
            size: hex(size).with_context(|| format!("modlink map line {}", n + 1))?,
        });
    }
    Ok(map)
}

/// Clears SHF_MERGE and SHF_STRINGS in every section header of the ELF32
/// little-endian `ko`; returns the copy and the names of the sections
/// changed.
fn clear_merge_flags(ko: &[u8]) -> Result<(Vec<u8>, Vec<String>)> {
    const MERGE_STRINGS: u32 = 0x30;
    const SHF_ALLOC: u32 = 0x2;
    let file = object::read::elf::ElfFile32::<object::LittleEndian>::parse(ko)
        .context("mod.ko is not an ELF32 little-endian file")?;
    let u16_at = |at: usize| -> Result<usize> {
        let b = ko.get(at..at + 2).context("ELF header truncated")?;
        Ok(u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let shoff = ko
        .get(0x20..0x24)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .context("ELF header truncated")?;
    let (shentsize, shnum) = (u16_at(0x2e)?, u16_at(0x30)?);
    let mut out = ko.to_vec();
    let mut cleared = Vec::new();
    for i in 0..shnum {
        let at = shoff + i * shentsize + 8;
        let flags = out
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .with_context(|| format!("section header {i} outside the file"))?;
        if flags & MERGE_STRINGS != 0 && flags & SHF_ALLOC != 0 {
            out[at..at + 4].copy_from_slice(&(flags & !MERGE_STRINGS).to_le_bytes());
            let name = file
                .section_by_index(object::SectionIndex(i))
                .and_then(|s| s.name().map(str::to_string))
                .with_context(|| format!("section {i} has no name"))?;
            cleared.push(name);
        }
    }
    Ok((out, cleared))
}

/// What a line of modlink's map stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A section of the module.
    Section,
    /// The loader's space for SHN_COMMON symbols (ld: `*(COMMON)`).
    Common,
    /// The loader's branch veneers (`.plt`, `.init.plt`): GNU ld has no
    /// counterpart, so they must be unused — every branch reaching its
    /// target directly, as in ld's output.
    Plt,
}

fn classify(name: &str, in_module: bool) -> Result<Kind> {
    Ok(match name {
        _ if in_module => Kind::Section,
        "COMMON" => Kind::Common,
        ".plt" | ".init.plt" => Kind::Plt,
        _ => bail!("modlink's map places {name}, which is not a section of mod.ko"),
    })
}

/// A name GNU ld's script syntax takes as-is (no glob characters).
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._$-".contains(c))
}

/// The script that puts each of modlink's sections, alone in an output
/// section of its own name, at modlink's address; allocated sections
/// modlink does not load (`.modinfo`) far away; the sentinel above the
/// module; each kernel symbol's section at its address.
fn linker_script(
    map: &[Placed],
    in_module: impl Fn(&str) -> bool,
    unplaced: &[&str],
    sentinel: u32,
) -> Result<String> {
    let mut s = String::from(
        "/* Generated by `cargo xtask difftest`: every section at the address\n   \
         modlink gave it (mod.img.map), in the map's order. */\nSECTIONS\n{\n",
    );
    for p in map {
        ensure!(
            plain_name(&p.name),
            "section name {:?} cannot be written in a linker script",
            p.name
        );
        match classify(&p.name, in_module(&p.name))? {
            // COMMON is GNU ld's name for the input section of commons.
            Kind::Section | Kind::Common => writeln!(
                s,
                "  {} {:#010x} : {{ {LD_INPUT}({}) }}",
                p.name, p.addr, p.name
            )?,
            Kind::Plt => writeln!(
                s,
                "  /* {} {:#010x} size {:#x}: modlink's branch veneers, no ld counterpart */",
                p.name, p.addr, p.size
            )?,
        }
    }
    if !unplaced.is_empty() {
        for name in unplaced {
            ensure!(
                plain_name(name),
                "section name {name:?} cannot be written in a linker script"
            );
        }
        let list: Vec<String> = unplaced
            .iter()
            .map(|n| format!("{LD_INPUT}({n})"))
            .collect();
        writeln!(
            s,
            "  /* Allocated, but never loaded by a module loader. */\n  \
             .difftest.unplaced 0x10000000 : {{ {} }}",
            list.join(" ")
        )?;
    }
    writeln!(
        s,
        "  .difftest.sentinel {sentinel:#010x} : {{ kernel.o(.difftest.sentinel) }}\n  \
         .difftest.sentinel.exidx {:#010x} : {{ kernel.o(.ARM.exidx.difftest.sentinel) }}",
        sentinel + 0x100
    )?;
    for &(addr, _, name) in KERNEL_SYMBOLS {
        writeln!(
            s,
            "  .difftest.kernel.{name} {addr:#010x} : {{ kernel.o(.difftest.kernel.{name}) }}"
        )?;
    }
    s.push_str("}\n");
    Ok(s)
}

/// Compares every placed section of ld's output `elf` with modlink's
/// `image`; records differences in `out`.
fn compare(
    v: &Variant,
    dir: &Path,
    module: &kobold_loader::Module<'_>,
    map: &[Placed],
    image: &[u8],
    elf: &[u8],
    out: &mut Outcome,
) -> Result<()> {
    let base = v.base();
    let file = object::File::parse(elf).context("reading GNU ld's mod.elf")?;
    let mut by_name: HashMap<&str, Vec<object::Section<'_, '_>>> = HashMap::new();
    for s in file.sections() {
        by_name
            .entry(s.name().context("mod.elf: a section without a name")?)
            .or_default()
            .push(s);
    }
    // ld must not have added anything of its own (veneers, glue, stubs).
    for s in file.sections() {
        let name = s.name().unwrap_or("?");
        let alloc = matches!(s.flags(), object::SectionFlags::Elf { sh_flags, .. }
            if sh_flags.contains(object::elf::SHF_ALLOC));
        let ours = name.starts_with(".difftest.");
        if alloc && s.size() > 0 && !ours && !map.iter().any(|p| p.name == name) {
            out.mismatches.push(format!(
                "GNU ld added section {name} ({:#x} bytes at {:#010x}): veneers or glue \
                 that modlink would not have",
                s.size(),
                s.address()
            ));
        }
    }
    for p in map.iter().filter(|p| p.size > 0) {
        let ko_section = module.section_by_name(&p.name);
        let start = (p.addr.wrapping_sub(base)) as usize;
        let got = image
            .get(start..start + p.size as usize)
            .with_context(|| format!("{}: outside modlink's image", p.name))?;
        if classify(&p.name, ko_section.is_some())? == Kind::Plt {
            let used = got.chunks(8).filter(|e| e.iter().any(|&b| b != 0)).count();
            if used > 0 {
                out.mismatches.push(format!(
                    "{}: modlink routed branches through {used} PLT veneer(s) at {:#010x}; \
                     GNU ld branches directly (or through veneers of its own), so the \
                     branches cannot be compared",
                    p.name, p.addr
                ));
            } else {
                out.notes.push(format!(
                    "{}: {} veneers reserved, none used",
                    p.name,
                    p.size / 8
                ));
            }
            continue;
        }
        let sections = by_name
            .get(p.name.as_str())
            .map_or(&[][..], |v| v.as_slice());
        let [s] = sections else {
            out.mismatches.push(format!(
                "{}: {} sections of that name in GNU ld's output, expected one",
                p.name,
                sections.len()
            ));
            continue;
        };
        if s.address() != u64::from(p.addr) || s.size() != u64::from(p.size) {
            out.mismatches.push(format!(
                "{}: GNU ld put it at {:#010x} size {:#x}, modlink at {:#010x} size {:#x} \
                 (ld merged, padded or grew it)",
                p.name,
                s.address(),
                s.size(),
                p.addr,
                p.size
            ));
            continue;
        }
        let nobits = matches!(s.flags(), object::SectionFlags::Elf { sh_type, .. }
            if sh_type == object::elf::SHT_NOBITS);
        ensure!(
            nobits == ko_section.is_none_or(|k| k.data.is_none()),
            "{}: NOBITS in one of modlink's map and mod.elf only",
            p.name
        );
        let expected: Vec<u8> = if nobits {
            vec![0; p.size as usize]
        } else {
            s.data()
                .with_context(|| format!("reading {} from mod.elf", p.name))?
                .to_vec()
        };
        out.sections += 1;
        out.bytes += got.len();
        let mut reported = 0;
        let mut word = usize::MAX;
        for (i, (a, b)) in expected.iter().zip(got).enumerate() {
            // One report per differing 4-byte word (aligned to the address).
            let w = (p.addr as usize + i) & !3;
            if a == b || w == word {
                continue;
            }
            word = w;
            reported += 1;
            if reported > 8 {
                out.mismatches
                    .push(format!("{}: more differences not shown", p.name));
                break;
            }
            let offset = (w - p.addr as usize) as i64;
            let read_word = |bytes: &[u8]| -> String {
                (0..4)
                    .map(|k| {
                        let at = offset + k;
                        usize::try_from(at)
                            .ok()
                            .and_then(|at| bytes.get(at))
                            .map_or("--".to_string(), |b| format!("{b:02x}"))
                    })
                    .rev()
                    .collect()
            };
            out.mismatches.push(format!(
                "{} +{:#x} (address {w:#010x}): GNU ld {} modlink {}{}",
                p.name,
                offset,
                read_word(&expected),
                read_word(got),
                ko_section.map_or(String::new(), |k| hint(
                    dir,
                    module,
                    k.index,
                    offset.max(0) as u32,
                    w as u32,
                    base
                ))
            ));
        }
    }
    Ok(())
}

/// What is at `offset` of section `index`: the relocations that patch it
/// and both sides' disassembly.
fn hint(
    dir: &Path,
    module: &kobold_loader::Module<'_>,
    index: u32,
    offset: u32,
    addr: u32,
    base: u32,
) -> String {
    let mut h = String::new();
    for (_, target, rels) in &module.relocations {
        if *target != index {
            continue;
        }
        for r in rels
            .iter()
            .filter(|r| r.offset < offset + 4 && offset < r.offset + 4)
        {
            let sym = &module.symbols[r.symbol as usize];
            let name = if sym.name.is_empty() {
                module
                    .sections
                    .get(sym.shndx as usize)
                    .map_or("?", |s| s.name)
            } else {
                sym.name
            };
            let kind = kobold_loader::relocate::name(r.r_type)
                .map_or_else(|| format!("type {}", r.r_type), str::to_string);
            let _ = write!(h, "\n      reloc {kind} at +{:#x} against {name}", r.offset);
        }
    }
    // The mapping symbol ($a, $t, $d) in force at `offset`.
    let mapping = module
        .symbols
        .iter()
        .filter(|s| u32::from(s.shndx) == index && s.value <= offset && s.name.starts_with('$'))
        .max_by_key(|s| s.value)
        .map_or("", |s| s.name);
    if mapping.starts_with("$d") || process::find_in_path(OBJDUMP).is_none() {
        return h;
    }
    let range = [
        format!("--start-address={addr:#x}"),
        format!("--stop-address={:#x}", addr + 4),
    ];
    let ld_side = Command::new(OBJDUMP)
        .arg("-d")
        .args(&range)
        .arg("mod.elf")
        .current_dir(dir)
        .output();
    let mut ours = Command::new(OBJDUMP);
    ours.args(["-D", "-b", "binary", "-marm"]);
    if mapping.starts_with("$t") {
        ours.arg("-Mforce-thumb");
    }
    let ours = ours
        .arg(format!("--adjust-vma={base:#x}"))
        .args(&range)
        .arg("mod.img")
        .current_dir(dir)
        .output();
    for (who, result) in [("GNU ld", ld_side), ("modlink", ours)] {
        let text = result
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for line in text.lines().filter(|l| l.contains(":\t")) {
            let _ = write!(h, "\n      {who:<8} {}", line.trim());
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modlink_maps() {
        let map = parse_map(".text 0xbf000000 0x4\n.data 0xbf001000 0x10\n").unwrap();
        assert_eq!(
            map[1],
            Placed {
                name: ".data".into(),
                addr: 0xbf00_1000,
                size: 0x10
            }
        );
        assert!(parse_map(".text 0xbf000000\n").is_err());
        assert!(parse_map(".text bf000000 0x4\n").is_err());
        assert!(parse_map(".text 0xbf000000 0x4\n.text 0xbf000010 0x4\n").is_err());
    }

    #[test]
    fn the_script_places_each_section_alone() {
        let map = parse_map(".text 0xbf000000 0x4\n.data..ro_after_init 0xbf001000 0x4\n").unwrap();
        let s = linker_script(&map, |_| true, &[".modinfo"], 0xbf01_2000).unwrap();
        assert!(
            s.contains("  .text 0xbf000000 : { mod-ld.ko(.text) }\n"),
            "{s}"
        );
        assert!(
            s.contains(".data..ro_after_init 0xbf001000 : { mod-ld.ko(.data..ro_after_init) }"),
            "{s}"
        );
        assert!(
            s.contains(".difftest.unplaced 0x10000000 : { mod-ld.ko(.modinfo) }"),
            "{s}"
        );
        assert!(s.contains(".difftest.sentinel 0xbf012000"), "{s}");
        assert!(linker_script(&parse_map(".te*t 0x0 0x4").unwrap(), |_| true, &[], 0).is_err());
        let map = parse_map(".plt 0xbf000100 0x10\nCOMMON 0xbf002000 0x8\n").unwrap();
        let s = linker_script(&map, |_| false, &[], 0).unwrap();
        assert!(
            s.contains("COMMON 0xbf002000 : { mod-ld.ko(COMMON) }"),
            "{s}"
        );
        assert!(s.contains("/* .plt 0xbf000100 size 0x10: modlink's"), "{s}");
        assert!(linker_script(&parse_map(".got 0x0 0x4").unwrap(), |_| false, &[], 0).is_err());
    }

    #[test]
    fn variants_pick_flags_and_bases() {
        let mixed = VARIANTS.iter().find(|v| v.mixed).unwrap();
        assert_eq!(mixed.base(), THUMB_BASE);
        assert!(mixed.cflags("arm_side").contains(&"-marm"));
        assert!(mixed.cflags("thumb_side").contains(&"-mthumb"));
        assert!(
            mixed
                .cflags("main")
                .contains(&"-fno-optimize-sibling-calls")
        );
        let arm = &VARIANTS[0];
        assert_eq!(
            (arm.isa, arm.mixed, arm.base()),
            (Isa::Arm, false, ARM_BASE)
        );
        assert!(arm.cflags("thumb_side").contains(&"-marm"));
        assert!(
            VARIANTS
                .iter()
                .any(|v| v.kernel == Isa::Thumb && v.symbol_value(0x100, 'T') == 0x101)
        );
    }
}
