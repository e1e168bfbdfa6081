//! The QEMU integration tests, as data.
//!
//! Each [`Case`] boots one kernel build with one QEMU configuration, types
//! its commands at successive shell prompts, and checks the console output
//! and QEMU's exit status. Expected lines are what Linux 3.18 prints for the
//! same RAM size and command line (arch/arm/mm/init.c `mem_init`,
//! arch/arm/mm/mmu.c `sanity_check_meminfo`/`early_vmalloc`), so a case
//! fails whenever Kobold's layout drifts from Linux's. Adding a case is a
//! struct literal in [`CASES`]; see [`crate::harness`] for the matchers.

use crate::config::Variant;
use crate::harness::{
    Check, at_least, block, comes_back, count, forbid_line, forbid_regex, grows, line,
    monotonic_timestamps, regex, regex_block, same_output,
};

/// Which file QEMU's `-kernel` gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// The uImage: loaded at 0x60008000 from its header.
    UImage,
    /// The raw Image: loaded at 0x60010000, the kernel must relocate itself.
    Image,
}

/// A file added to a case's initramfs, generated when the tests run (so
/// large test data is never stored in the repository).
#[derive(Clone, Copy, Debug)]
pub struct ExtraFile {
    /// Path inside the initramfs, without the leading `/`.
    pub path: &'static str,
    pub contents: fn() -> Vec<u8>,
}

/// Issue 8's hostile modules (see `crate::hostile`), for `hostile_modules`.
const HOSTILE_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "hostile/commons150k.ko",
        contents: || crate::hostile::commons(150_000),
    },
    ExtraFile {
        path: "hostile/veneers100k.ko",
        contents: || crate::hostile::thumb_branches(100_000),
    },
    ExtraFile {
        path: "hostile/ksymtab30k.ko",
        contents: || crate::hostile::shared_export_name(30_000, 512 * 1024),
    },
    ExtraFile {
        path: "hostile/shared60.ko",
        contents: || crate::hostile::shared_name(60, 64 * 1024, crate::hostile::LOCAL_OBJECT),
    },
    ExtraFile {
        path: "hostile/param_text.ko",
        contents: crate::hostile::param_into_text,
    },
    ExtraFile {
        path: "hostile/forged.ko",
        contents: || crate::hostile::named("nl\nfake 4096 0 - Live 0xc0000000"),
    },
    ExtraFile {
        path: "hostile/huge_common.ko",
        contents: crate::hostile::huge_common,
    },
    ExtraFile {
        path: "hostile/bss17m.ko",
        contents: || crate::hostile::big_bss(17 << 20, ".bss"),
    },
];

/// One QEMU boot and what it must print.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub name: &'static str,
    pub variant: Variant,
    /// QEMU's `-m`.
    pub mem_mb: u32,
    pub kernel: Kernel,
    /// Pass the generated vexpress-a9 device tree with `-dtb`.
    pub dtb: bool,
    /// `-append`; `None` boots without a command line.
    pub append: Option<&'static str>,
    /// QEMU's semihosting (the kernel's way to exit QEMU with a status).
    pub semihosting: bool,
    /// `-initrd` with the sample modules (boot-layout cases go without, so
    /// their `Memory:` lines are Linux's for the bare RAM size).
    pub initrd: bool,
    /// Files added to the initramfs for this case only (needs `initrd`).
    pub extra_files: &'static [ExtraFile],
    /// Typed one per prompt.
    pub input: &'static [&'static str],
    /// Write all of `input` to the serial port as QEMU starts, before the
    /// kernel boots, instead of one line per prompt (checks then see the
    /// whole output only).
    pub type_ahead: bool,
    pub expect: &'static [Check],
    /// QEMU's exit status: 0 after `poweroff`, 3 after a panic.
    pub exit: i32,
    pub timeout_s: u64,
    /// What the case needs that may be missing (Debian's package): `Err`
    /// says why, and the case is skipped with that message.
    pub requires: Option<fn() -> Result<(), String>>,
}

/// What most cases share; cases override fields with `..BASE`.
pub const BASE: Case = Case {
    name: "",
    variant: Variant::Highmem,
    mem_mb: 128,
    kernel: Kernel::UImage,
    dtb: false,
    append: Some("console=ttyAMA0"),
    semihosting: true,
    initrd: false,
    extra_files: &[],
    input: &["poweroff"],
    type_ahead: false,
    expect: &[],
    exit: 0,
    timeout_s: 60,
    requires: None,
};

/// QEMU's exit status after a kernel panic (semihosting SYS_EXIT_EXTENDED).
pub const PANIC_EXIT: i32 = 3;

// The fixed lines of the layout block (arch/arm/mm/init.c, 3.18).
const LAYOUT: &str = "Virtual kernel memory layout:";
const VECTOR: &str = "    vector  : 0xffff0000 - 0xffff1000   (   4 kB)";
const FIXMAP: &str = "    fixmap  : 0xffc00000 - 0xffe00000   (2048 kB)";
const PKMAP: &str = "    pkmap   : 0xbfe00000 - 0xc0000000   (   2 MB)";
const MODULES_HIGHMEM: &str = "    modules : 0xbf000000 - 0xbfe00000   (  14 MB)";
const MODULES_NOHIGHMEM: &str = "    modules : 0xbf000000 - 0xc0000000   (  16 MB)";

/// The kernel image's four lines, which follow `modules`. Their ends depend
/// on the build, so only the format and `_text` are fixed.
const SECTIONS: Check = regex_block(&[
    r"^      \.text : 0xc0008000 - 0x[0-9a-f]{8}   \( {0,3}\d+ kB\)$",
    r"^      \.init : 0x[0-9a-f]{8} - 0x[0-9a-f]{8}   \( {0,3}\d+ kB\)$",
    r"^      \.data : 0x[0-9a-f]{8} - 0x[0-9a-f]{8}   \( {0,3}\d+ kB\)$",
    r"^       \.bss : 0x[0-9a-f]{8} - 0x[0-9a-f]{8}   \( {0,3}\d+ kB\)$",
]);

/// No pkmap window without CONFIG_HIGHMEM.
const NO_PKMAP: Check = forbid_regex(r"^\s*pkmap\s*:");
const POWER_DOWN: Check = line("reboot: Power down");

/// The `Memory:` line (mm/page_alloc.c `mem_init_print_info`), for a given
/// total and, with CONFIG_HIGHMEM, highmem size in KiB.
macro_rules! memory {
    ($total_k:literal) => {
        regex(concat!(
            r"^Memory: \d+K/",
            $total_k,
            r"K available \(\d+K kernel code, \d+K rwdata, \d+K rodata, \d+K init, \d+K bss, \d+K reserved\)$"
        ))
    };
    ($total_k:literal, highmem $high_k:literal) => {
        regex(concat!(
            r"^Memory: \d+K/",
            $total_k,
            r"K available \(\d+K kernel code, \d+K rwdata, \d+K rodata, \d+K init, \d+K bss, \d+K reserved, ",
            $high_k,
            r"K highmem\)$"
        ))
    };
}

/// `mem_init`'s block for a CONFIG_HIGHMEM kernel, given its vmalloc and
/// lowmem lines.
macro_rules! layout_highmem {
    ($vmalloc:literal, $lowmem:literal) => {
        block(&[
            LAYOUT,
            VECTOR,
            FIXMAP,
            concat!("    vmalloc : ", $vmalloc),
            concat!("    lowmem  : ", $lowmem),
            PKMAP,
            MODULES_HIGHMEM,
        ])
    };
}

/// The same without CONFIG_HIGHMEM: no pkmap, modules reach PAGE_OFFSET.
macro_rules! layout_nohighmem {
    ($vmalloc:literal, $lowmem:literal) => {
        block(&[
            LAYOUT,
            VECTOR,
            FIXMAP,
            concat!("    vmalloc : ", $vmalloc),
            concat!("    lowmem  : ", $lowmem),
            MODULES_NOHIGHMEM,
        ])
    };
}

/// 4.7 MB of pseudo-random bytes (xorshift32): not ELF, not text, more
/// than one kmalloc block could ever hold, and not a whole number of pages.
pub fn random_4700k() -> Vec<u8> {
    let mut x = 0x9e37_79b9u32;
    (0..4_700_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A text file whose `é` straddles the first page boundary (bytes 4095 and
/// 4096), so `cat` must join the two halves read from different pages.
pub fn straddling_text() -> Vec<u8> {
    let mut t = "x".repeat(4095);
    t.push_str("\u{e9}\nend of text.txt\n");
    t.into_bytes()
}

const BIG_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "data/random.bin",
        contents: random_4700k,
    },
    ExtraFile {
        path: "data/text.txt",
        contents: straddling_text,
    },
];

/// A line that, cut to the shell's 256 characters, would be `poweroff`.
const POWEROFF_TOO_LONG: &str = concat!(
    "poweroff ",
    "                                                                ",
    "                                                                ",
    "                                                                ",
    "                                                                ",
    "now"
);

const OOPS_PC: Check = regex(r"^PC is at \S*provoke\S*\+0x[0-9a-f]+/0x[0-9a-f]+$");
const NULL_DEREF: Check =
    line("Unable to handle kernel NULL pointer dereference at virtual address 00000000");
const FATAL_EXCEPTION: Check = regex(r"^Kernel panic - not syncing: Fatal exception");
/// The backtrace starts in the provoking function (PC's, named without an
/// offset as Linux's `%ps`) and is called from a named function.
const OOPS_BACKTRACE: Check = regex_block(&[
    r"^Backtrace: ?$",
    r"^\[<c0[0-9a-f]{6}>\] \(\S*provoke\S*\) from \[<c0[0-9a-f]{6}>\] \(\S.*\+0x[0-9a-f]+/0x[0-9a-f]+\)$",
]);
/// ... and unwinds through the kernel's frames down to start_kernel.
const OOPS_BACKTRACE_BOTTOM: Check = regex(
    r"^\[<c0[0-9a-f]{6}>\] \(\S.*\) from \[<c0[0-9a-f]{6}>\] \(start_kernel\+0x[0-9a-f]+/0x[0-9a-f]+\)$",
);
/// Linux's `dump_instr` for ARM code: four words, then PC's in parentheses.
const OOPS_CODE: Check = regex(r"^Code: ([0-9a-f]{8} ){4}\([0-9a-f]{8}\) ?$");

/// Every QEMU test, in the order they are started.
pub const CASES: &[Case] = &[
    Case {
        // Issue 8: a 4.7 MB file in the initramfs is unpacked into pages of
        // its own (no kmalloc copy), listed, refused by insmod and modinfo
        // (not ELF); reading it leaves free pages and vm areas as they were.
        name: "initramfs_big_file",
        // HighMem: the file's pages come from there first.
        mem_mb: 1024,
        initrd: true,
        extra_files: BIG_FILES,
        input: &[
            "ls /data",
            // Warm-up: what stays for reuse (page tables of the windows, heap
            // regions) is taken before the counters are read.
            "insmod /data/random.bin",
            "insmod /lib/modules/hello.ko count=0",
            "rmmod hello",
            "cat /proc/meminfo",
            "cat /proc/vmallocinfo",
            "insmod /data/random.bin",
            "modinfo /data/random.bin",
            "cat /data/text.txt",
            "insmod /lib/modules/hello.ko count=0",
            "rmmod hello",
            "cat /proc/meminfo",
            "cat /proc/vmallocinfo",
            "poweroff",
        ],
        expect: &[
            regex(r"^Unpacking initramfs\.\.\. \d+ files$").at_boot(),
            regex(r"^Freeing initrd memory: \d+K$").at_boot(),
            line("random.bin  (4700000 bytes)").of("ls /data"),
            line("text.txt  (4114 bytes)").of("ls /data"),
            count("insmod: can't insert '/data/random.bin': invalid module format", 2),
            regex(r"^modinfo: ERROR: /data/random\.bin: ").of("modinfo /data/random.bin"),
            regex(r"^x{4095}\u{e9}$").of("cat /data/text.txt"),
            line("end of text.txt").of("cat /data/text.txt"),
            forbid_regex("\u{fffd}"),
            same_output("cat /proc/meminfo"),
            same_output("cat /proc/vmallocinfo"),
            forbid_regex(r"Kernel panic|Unable to handle|Oops"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Issue 8: `vfree` frees only what the shell's `vmalloc` made. The
        // console's ioremap, the system registers', a live module's memory
        // and garbage are refused; the console keeps working and the module
        // unloads cleanly. The shell's own area frees once.
        name: "shell_vfree_foreign_areas",
        mem_mb: 256,
        initrd: true,
        input: &[
            "cat /proc/vmallocinfo",
            "insmod /lib/modules/hello.ko count=0",
            "vfree 0xd0800000",
            "vfree 0xd0802000",
            "vfree 0xd0804000",
            "vfree 0xbf000000",
            "vfree 0xd0800004",
            "vfree 0x12345678",
            "vmalloc 4096",
            "cat /proc/vmallocinfo",
            "vfree 0xd080a000",
            "vfree 0xd080a000",
            "cat /proc/modules",
            "rmmod hello",
            "poweroff",
        ],
        expect: &[
            regex(r"^0xd0800000-0xd0802000    8192 \S*uart::init\+0x0/0x[0-9a-f]+ phys=10009000 ioremap$")
                .of("cat /proc/vmallocinfo"),
            regex(r"^0xd0802000-0xd0804000    8192 \S+ phys=10000000 ioremap$")
                .of("cat /proc/vmallocinfo"),
            // The GIC's two register blocks and the SP804's page, ioremapped
            // as Linux's of_iomap does.
            regex(r"^0xd0804000-0xd0806000    8192 \S*gic::init\+0x0/0x[0-9a-f]+ phys=1e001000 ioremap$")
                .of("cat /proc/vmallocinfo"),
            regex(r"^0xd0806000-0xd0808000    8192 \S*gic::init\+0x0/0x[0-9a-f]+ phys=1e000000 ioremap$")
                .of("cat /proc/vmallocinfo"),
            regex(r"^0xd0808000-0xd080a000    8192 \S*sp804::init\+0x0/0x[0-9a-f]+ phys=10011000 ioremap$")
                .of("cat /proc/vmallocinfo"),
            regex(r"^0xbf000000-0xbf00[0-9a-f]{4} +\d+ \S*module_alloc\S* pages=\d+ vmalloc$")
                .of("cat /proc/vmallocinfo"),
            line("vfree: 0xd0800000: Invalid argument (EINVAL)").of("vfree 0xd0800000"),
            line("vfree: 0xd0802000: Invalid argument (EINVAL)").of("vfree 0xd0802000"),
            line("vfree: 0xd0804000: Invalid argument (EINVAL)").of("vfree 0xd0804000"),
            line("vfree: 0xbf000000: Invalid argument (EINVAL)").of("vfree 0xbf000000"),
            line("vfree: 0xd0800004: Invalid argument (EINVAL)").of("vfree 0xd0800004"),
            line("vfree: 0x12345678: Invalid argument (EINVAL)").of("vfree 0x12345678"),
            line("0xd080a000").of("vmalloc 4096"),
            // Freed the first time (no output), refused the second.
            count("vfree: 0xd080a000: Invalid argument (EINVAL)", 1),
            regex(r"^0xd080a000-0xd080c000    8192 .* pages=1 vmalloc$").of("cat /proc/vmallocinfo"),
            regex(r"^hello \d+ 0 - Live 0xbf000000 \(O\)$").of("cat /proc/modules"),
            forbid_regex(r"Kernel panic|Unable to handle|Oops"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Issue 8: a line longer than the shell's 256 characters is refused,
        // not run cut short — cut, this one would be `poweroff` — and the
        // shell goes on (the commands after it run).
        name: "shell_line_too_long",
        input: &[POWEROFF_TOO_LONG, "cat /proc/cmdline", "poweroff"],
        expect: &[
            line("sh: line too long (max 256 characters)"),
            line("console=ttyAMA0").of("cat /proc/cmdline"),
            count("reboot: Power down", 1),
        ],
        ..BASE
    },
    Case {
        // Issue 8: everything typed before the kernel booted is kept. The
        // whole input is in QEMU's serial port before the first instruction
        // runs; the first character used to be lost when the UART was set up
        // (`oweroff`). The echo and cat's output prove every character came.
        name: "console_type_ahead",
        append: Some("console=ttyAMA0 typeahead=yes"),
        type_ahead: true,
        input: &["cat /proc/cmdline", "poweroff"],
        expect: &[
            line("/ # cat /proc/cmdline"),
            line("console=ttyAMA0 typeahead=yes"),
            line("/ # poweroff"),
            forbid_regex("not found"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // The seed's session: modules land at 0xbf000000 upward, the
        // dependency pair refcounts, /proc/modules and /proc/vmallocinfo
        // agree (each area is the module's size plus a guard page), and
        // module symbols appear in /proc/kallsyms.
        name: "modules_insmod_lsmod",
        mem_mb: 256,
        input: &[
            "ls /lib/modules",
            "insmod /lib/modules/hello.ko count=2 who=Kobold",
            "insmod /lib/modules/provider.ko",
            "insmod /lib/modules/consumer.ko",
            "cat /proc/modules",
            "lsmod",
            "rmmod provider",
            "cat /proc/vmallocinfo",
            "cat /proc/kallsyms",
            "modinfo /lib/modules/hello.ko",
            "rmmod consumer provider hello",
            "cat /proc/modules",
            "poweroff",
        ],
        expect: &[
            line("hello.ko  ({filesize:hello} bytes)").computed(),
            line("Hello, Kobold! (2 of 2)"),
            regex(r"^hello: init_module is hello_init\+0x0/0x{symsize:hello:hello_init} \[hello\], loaded at bf[0-9a-f]{6}$")
                .computed(),
            line(r#"consumer: provider_add(40, 2) = 42, "greetings from provider""#),
            // Each module right after the one before (its init region freed).
            block(&[
                "consumer {size:consumer} 0 - Live 0x{after:hello+provider} (O)",
                "provider {size:provider} 1 consumer, Live 0x{after:hello} (O)",
                "hello {size:hello} 0 - Live 0xbf000000 (O)",
            ])
            .computed(),
            block(&[
                "Module                  Size  Used by",
                "consumer            {size:consumer:>8}  0",
                "provider            {size:provider:>8}  1 consumer",
                "hello               {size:hello:>8}  0",
            ])
            .computed(),
            line("rmmod: can't unload module 'provider': Resource temporarily unavailable"),
            // vmallocinfo's `%7ld` size column.
            regex_block(&[
                r"^0xbf000000-0x{after:hello} {area:hello:>7} \S*module_alloc\+0x0/0x[0-9a-f]+ pages={pages:hello} vmalloc$",
                r"^0x{after:hello}-0x{after:hello+provider} {area:provider:>7} \S*module_alloc\+0x0/0x[0-9a-f]+ pages={pages:provider} vmalloc$",
                r"^0x{after:hello+provider}-0x{after:hello+provider+consumer} {area:consumer:>7} \S*module_alloc\+0x0/0x[0-9a-f]+ pages={pages:consumer} vmalloc$",
            ])
            .computed(),
            line("{addr:hello:hello_exit} t hello_exit\t[hello]").computed(),
            line("{addr:provider:provider_add@hello} T provider_add\t[provider]").computed(),
            regex(r"^c0[0-9a-f]{6} [dD] module_addr_min$"),
            line("parm:           count:How many greetings (0: silent) (int)"),
            line("Goodbye, Kobold"),
            line("provider: provider_add was called 1 times"),
            POWER_DOWN,
        ],
        initrd: true,
        ..BASE
    },
    Case {
        // Every refusal is clean and named; the window filled by
        // module_alloc gives -ENOMEM with every counter unchanged.
        name: "modules_errors",
        mem_mb: 256,
        input: &[
            "insmod /lib/modules/failinit.ko",
            "insmod /lib/modules/unknownsym.ko",
            "insmod /lib/modules/proprietary.ko",
            "insmod /lib/modules/hello.ko count=many",
            "insmod /lib/modules/hello.ko count=0",
            "insmod /lib/modules/hello.ko",
            "insmod /lib/modules",
            "insmod /lib/modules/nope.ko",
            "rmmod nosuch",
            "rmmod hello",
            "selftest modules",
            "cat /proc/modules",
            "poweroff",
        ],
        expect: &[
            line("failinit: no such device, giving up"),
            line("insmod: can't insert '/lib/modules/failinit.ko': No such device"),
            line("unknownsym: Unknown symbol no_such_kernel_function (err -2)"),
            line("insmod: can't insert '/lib/modules/unknownsym.ko': unknown symbol in module, or unknown parameter"),
            line("proprietary: module license 'Proprietary' taints kernel."),
            line("proprietary: sprint_symbol is exported GPL-only and this module's license is 'Proprietary'"),
            line("hello: `many' invalid for parameter `count'"),
            line("insmod: can't insert '/lib/modules/hello.ko': Invalid argument"),
            line("insmod: can't insert '/lib/modules/hello.ko': File exists"),
            line("insmod: can't open '/lib/modules': Is a directory"),
            line("insmod: can't open '/lib/modules/nope.ko': No such file or directory"),
            line("rmmod: can't unload module 'nosuch': No such file or directory"),
            regex(r"^window full \(\d+ areas\): insmod -> ENOMEM; free pages \d+ -> \d+, VmallocUsed \d+ -> \d+, heap used \d+ -> \d+, areas \d+ -> \d+$"),
            line("window free again: insmod -> hello at 0xbf000000"),
            line("selftest modules: PASS"),
            POWER_DOWN,
        ],
        initrd: true,
        ..BASE
    },
    Case {
        // 1,000 insmod/rmmod cycles leave free pages, VmallocUsed, heap
        // bytes and vm areas where they were.
        name: "modules_cycle_1000",
        mem_mb: 256,
        input: &["selftest modcycle", "poweroff"],
        expect: &[
            regex(r"^modcycle: 1000 insmod\+rmmod of hello.ko, \d+ us each; free pages \d+ -> \d+, VmallocUsed \d+ -> \d+, heap used \d+ -> \d+, areas \d+ -> \d+$"),
            line("selftest modcycle: PASS"),
            POWER_DOWN,
        ],
        timeout_s: 120,
        initrd: true,
        ..BASE
    },
    Case {
        // modules-load= at boot; kmalloc/vmalloc from a module; a module of
        // ~30 pages; a Thumb-2 module calling the ARM kernel (BLX, and a
        // tail call through a PLT veneer).
        name: "modules_load_memuser_bigmod_thumb",
        mem_mb: 512,
        append: Some("console=ttyAMA0 modules-load=memuser,bigmod,thumbdemo"),
        input: &["cat /proc/modules", "cat /proc/vmallocinfo", "rmmod memuser bigmod thumbdemo", "cat /proc/vmallocinfo", "poweroff"],
        expect: &[
            line(r#"memuser: kmalloc'd "kmalloc-42", kzalloc'd 32 words (0 non-zero)"#),
            regex(r"^memuser: vmalloc\(65536\) = [ef][0-9a-f]{7}, 0 bad words$"),
            regex(r"^bigmod: table bf[0-9a-f]{6} \(65536 bytes\), data bf[0-9a-f]{6}, bss bf[0-9a-f]{6}, checksum 98c9e000, 0 bad$"),
            line("thumbdemo: triple(14) = 42"),
            line("modules-load: inserted module 'thumbdemo'"),
            regex(r"^bigmod {size:bigmod} 0 - Live 0xbf[0-9a-f]{6} \(O\)$").computed(),
            regex(r"^0x[ef][0-9a-f]{7}-0x[ef][0-9a-f]{7}   69632 \S*kobold_vmalloc\+0x0/0x[0-9a-f]+ pages=16 vmalloc$"),
            line("memuser: vfree'd"),
            line("thumbdemo: bye"),
            POWER_DOWN,
        ],
        initrd: true,
        ..BASE
    },
    Case {
        // panic=N as Linux's: N > 0 says "Rebooting in N seconds.." and
        // restarts the board after N seconds; the second boot reaches the
        // shell, where `poweroff` ends QEMU normally.
        name: "panic_timeout_reboots",
        mem_mb: 128,
        append: Some("console=ttyAMA0 panic=1"),
        input: &["provoke-crash PANIC", "poweroff"],
        expect: &[
            line("Kernel panic - not syncing: provoke-crash PANIC"),
            line("Rebooting in 1 seconds.."),
            count("Booting Kobold on physical CPU 0x0", 2),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // The console loglevel as Linux's: `loglevel=4` at boot keeps
        // pr_info off the console but in the log; `dmesg -n 8` lets
        // everything through, pr_debug included (the loader's
        // "init_module returned" note); `dmesg -c` empties the log.
        name: "console_loglevel",
        mem_mb: 128,
        initrd: true,
        append: Some("console=ttyAMA0 loglevel=4"),
        input: &[
            "insmod /lib/modules/hello.ko",
            "dmesg",
            "dmesg -n 8",
            "insmod /lib/modules/failinit.ko",
            "dmesg -c",
            "dmesg",
            "dmesg -n 0",
            "poweroff",
        ],
        expect: &[
            forbid_regex(r"Hello, world! \(1 of 1\)").of("insmod /lib/modules/hello.ko"),
            regex(r"^\[ *[0-9]+\.[0-9]{6}\] Hello, world! \(1 of 1\)$").of("dmesg").raw(),
            regex(r"failinit: init_module returned -19, unloading$").of("insmod /lib/modules/failinit.ko"),
            line("dmesg: invalid level '0' (1 to 8)").of("dmesg -n 0"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // A 3 MB module (a small file with a 3 MB .bss): module_alloc finds,
        // maps and zeroes 768 pages in the window, and rmmod gives them all
        // back — MemFree dips by 3 MB and returns to within 1 MB.
        name: "module_3mb_memfree",
        mem_mb: 128,
        initrd: true,
        input: &[
            "cat /proc/meminfo",
            "insmod /lib/modules/hugebss.ko",
            "cat /proc/modules",
            "cat /proc/meminfo",
            "rmmod hugebss",
            "cat /proc/meminfo",
            "poweroff",
        ],
        expect: &[
            regex(r"^hugebss: 768 pages of \.bss at bf[0-9a-f]{6}, 0 bad$"),
            regex(r"^hugebss {size:hugebss} 0 - Live 0xbf[0-9a-f]{6} \(O\)$").computed(),
            line("hugebss: unloading"),
            comes_back(r"^MemFree: +(\d+) kB$", 3 * 1024, 1024),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Issue 8's hostile files, generated at test time into /hostile: the
        // kernel loads or refuses each in linear time (the old loader froze
        // for 70 s on 150,000 COMMON symbols, 56 s on 100,000 veneers, 146 s
        // on 30,000 names of one 512 KB string), with Linux's messages, and
        // nothing forged reaches /proc/modules. `time` is generous (under a
        // minute of guest time: a freeze, not a slow machine, fails it).
        name: "hostile_modules",
        mem_mb: 256,
        initrd: true,
        extra_files: HOSTILE_FILES,
        input: &[
            "time insmod /hostile/commons150k.ko",
            "time insmod /hostile/veneers100k.ko",
            "time insmod /hostile/ksymtab30k.ko",
            "time insmod /hostile/shared60.ko",
            "insmod /hostile/param_text.ko p=42",
            "insmod /hostile/forged.ko",
            "insmod /hostile/huge_common.ko",
            "insmod /hostile/bss17m.ko",
            "cat /proc/modules",
            "rmmod commons150k veneers100k",
            "lsmod",
            "poweroff",
        ],
        expect: &[
            regex(r"^real\t0m [0-9]+\.[0-9]{2}s$").of("time insmod /hostile/commons150k.ko"),
            regex(r"^real\t0m [0-9]+\.[0-9]{2}s$").of("time insmod /hostile/veneers100k.ko"),
            regex(r"^real\t0m [0-9]+\.[0-9]{2}s$").of("time insmod /hostile/ksymtab30k.ko"),
            regex(r"^real\t0m [0-9]+\.[0-9]{2}s$").of("time insmod /hostile/shared60.ko"),
            regex(r"^commons150k [0-9]+ 0 - Live 0xbf[0-9a-f]{6} \(PO\)$"),
            regex(r"^veneers100k [0-9]+ 0 - Live 0xbf[0-9a-f]{6} \(PO\)$"),
            line("ksymtab30k: section __ksymtab: entry 0 names a string of 512 bytes or more (KSYM_NAME_LEN)"),
            line("insmod: can't insert '/hostile/ksymtab30k.ko': invalid module format"),
            regex(r"^shared60\.ko: symbol 1: .*512 bytes or more"),
            regex(r"^param_text: parameter 'p' \(4 bytes at 0xbf[0-9a-f]{6}\) is not in the module's writable data$"),
            line("insmod: can't insert '/hostile/param_text.ko': invalid module format"),
            line(r"forged.ko: module name 'nl\nfake 4096 0 - Live 0xc0000000' is invalid: only letters, digits, '_' and '-', at most 55 bytes"),
            line("insmod: can't insert '/hostile/forged.ko': Invalid argument"),
            regex(r"^huge_common: module too large: core region of 4293918720 bytes exceeds the 16777216-byte module window$"),
            regex(r"^bss17m: module too large: core region of 17825792 bytes exceeds the 16777216-byte module window$"),
            forbid_regex(r"^fake "),
            block(&["Module                  Size  Used by", "/ # poweroff"]).raw(),
            POWER_DOWN,
        ],
        timeout_s: 240,
        ..BASE
    },
    Case {
        // A 13 MB .bss nearly fills the 14 MB module window (Linux loads
        // it too); a 3 MB module then gets ENOMEM from module_alloc, and
        // fits again once the big one is gone. MemFree comes back.
        name: "module_window_13mb",
        mem_mb: 128,
        initrd: true,
        input: &[
            "cat /proc/meminfo",
            "insmod /lib/modules/bss13m.ko",
            "cat /proc/meminfo",
            "insmod /lib/modules/hugebss.ko",
            "rmmod bss13m",
            "insmod /lib/modules/hugebss.ko",
            "rmmod hugebss",
            "cat /proc/meminfo",
            "poweroff",
        ],
        expect: &[
            regex(r"^bss13m: 3328 pages of \.bss at bf[0-9a-f]{6}, 0 bad$"),
            line("hugebss: module_alloc of {size:hugebss} bytes failed (ENOMEM)").computed(),
            line("insmod: can't insert '/lib/modules/hugebss.ko': Cannot allocate memory"),
            line("bss13m: unloading"),
            regex(r"^hugebss: 768 pages of \.bss at bf[0-9a-f]{6}, 0 bad$"),
            comes_back(r"^MemFree: +(\d+) kB$", 13 * 1024, 1024),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Linux's fail-nth over whole insmods: every allocation (heap, page,
        // vmap area) one insmod makes fails once in turn — of the loader,
        // of reading the file, of the module's own init (memuser kmallocs
        // and vmallocs) — and each time insmod says ENOMEM and the
        // counters come back exactly.
        name: "selftest_faultinject",
        mem_mb: 256,
        initrd: true,
        input: &[
            "selftest faultinject",
            "selftest faultinject memuser",
            "selftest faultinject rust_hello",
            "lsmod",
            "poweroff",
        ],
        expect: &[
            regex(r"^faultinject: hello\.ko: [1-9][0-9]* allocation points failed one at a time: [1-9][0-9]* x ENOMEM, 0 leaks$"),
            regex(r"^faultinject: memuser\.ko: [1-9][0-9]* allocation points failed one at a time: [1-9][0-9]* x ENOMEM, 0 leaks$"),
            regex(r"^faultinject: rust_hello\.ko: [1-9][0-9]* allocation points failed one at a time: [1-9][0-9]* x ENOMEM, 0 leaks$"),
            count("selftest faultinject: PASS", 3),
            forbid_regex(r"leaked|instead of ENOMEM|insmod succeeded|Kernel panic"),
            block(&["Module                  Size  Used by", "/ # poweroff"]).raw(),
            POWER_DOWN,
        ],
        timeout_s: 180,
        ..BASE
    },
    Case {
        // Module churn: 1,000 insmod/rmmod operations over every sample in
        // a seeded order, each result as Linux would answer it (EAGAIN for
        // a module in use, ENOENT without its dependency), counters equal
        // at the end.
        name: "selftest_soak",
        mem_mb: 256,
        initrd: true,
        input: &["selftest soak 1000", "lsmod", "poweroff"],
        expect: &[
            regex(r"^soak: 1000 operations over 12 modules \(seed 0x[0-9a-f]+\), [0-9]+ us each: [1-9][0-9]* insmod, [1-9][0-9]* rmmod, [1-9][0-9]* refused as expected, 0 unexpected$"),
            line("soak: 0 leaks"),
            line("selftest soak: PASS"),
            block(&["Module                  Size  Used by", "/ # poweroff"]).raw(),
            POWER_DOWN,
        ],
        timeout_s: 180,
        ..BASE
    },
    Case {
        // Rust modules (kobold-module's module! macro): parameters, vmalloc,
        // and a Rust module depending on a C module's export.
        name: "modules_rust",
        mem_mb: 256,
        initrd: true,
        input: &[
            "insmod /lib/modules/rust_hello.ko count=2 who=Kobold",
            "insmod /lib/modules/provider.ko",
            "insmod /lib/modules/rust_consumer.ko",
            "cat /proc/modules",
            "modinfo /lib/modules/rust_hello.ko",
            "rmmod rust_consumer provider rust_hello",
            "insmod /lib/modules/rust_hello.ko sleep_ms=50",
            "rmmod rust_hello",
            "poweroff",
        ],
        expect: &[
            line("rust_hello: Hello, Kobold! (2 of 2)"),
            // kobold_module::time and sync: msleep(50) at HZ 100 is at
            // least 5 ticks; the mutex is held under its guard only.
            regex(r"^rust_hello: msleep\(50\) took [0-9]+ jiffies \(HZ 100, at least 5\): ok$"),
            line("rust_hello: mutex held 1, try_lock while held 0, after the guard 0; greeted 1"),
            forbid_regex(r"FAILED|recursive locking|bad unlock balance"),
            regex(r"^rust_hello: vmalloc'd 12288 bytes at 0x[0-9a-f]{8}, sum 1566720$"),
            line("rust_consumer: provider_add(20, 22) = 42"),
            line("provider {size:provider} 1 rust_consumer, Live 0x{after:rust_hello} (O)").computed(),
            line("rust_hello {size:rust_hello} 0 - Live 0xbf000000 (O)").computed(),
            line("parm:           count:How many greetings (int)"),
            line("rust_hello: Goodbye, Kobold"),
            forbid_regex(r"unknown parameter"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // A Rust module's symbols are mangled in its string table and
        // printed demangled in /proc/kallsyms (C names are unchanged).
        name: "kallsyms_rust_module_demangled",
        mem_mb: 256,
        initrd: true,
        input: &[
            "insmod /lib/modules/rust_hello.ko",
            "insmod /lib/modules/hello.ko",
            "cat /proc/kallsyms",
            "poweroff",
        ],
        expect: &[
            regex(r"^bf[0-9a-f]{6} [tT] \S+::\S+\t\[rust_hello\]$").of("cat /proc/kallsyms"),
            forbid_regex(r"^[0-9a-f]{8} [a-zA-Z] _(ZN|R)[0-9A-Za-z_]+\t\[rust_hello\]$"),
            regex(r"^bf[0-9a-f]{6} t hello_exit\t\[hello\]$").of("cat /proc/kallsyms"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Module text is read-only: a module writing its own text oopses,
        // and the oops names the module.
        name: "oops_module_text_write",
        input: &["insmod /lib/modules/wxtest.ko mode=text"],
        expect: &[
            line("DFSR: 0x0000080f (page permission fault, write)"),
            line("Modules linked in: wxtest(O+)"),
            regex(r"^CPU: 0 PID: 0 Comm: swapper Tainted: G {11}O  \S+ #1$"),
            regex(r"^PC is at wxtest_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[wxtest\]$"),
            // The module's frame, then the kernel's that called its init.
            regex_block(&[
                r"^Backtrace: ?$",
                r"^\[<bf[0-9a-f]{6}>\] \(wxtest_init \[wxtest\]\) from \[<c0[0-9a-f]{6}>\] \(kernel::module::\S+\+0x[0-9a-f]+/0x[0-9a-f]+\)$",
            ]),
            OOPS_BACKTRACE_BOTTOM,
            OOPS_CODE,
            FATAL_EXCEPTION,
        ],
        exit: PANIC_EXIT,
        initrd: true,
        ..BASE
    },
    Case {
        // .data..ro_after_init is writable while init runs and read-only
        // once it returned: the module's exit writing it oopses.
        name: "oops_module_ro_after_init",
        initrd: true,
        input: &["insmod /lib/modules/wxtest.ko mode=roafter", "rmmod wxtest"],
        expect: &[
            regex(r"^wxtest: wrote 2 to my ro_after_init data at (bf[0-9a-f]{6}) during init$"),
            regex(r"^wxtest: writing my ro_after_init data at bf[0-9a-f]{6} after init$"),
            line("DFSR: 0x0000080f (page permission fault, write)"),
            line("Modules linked in: wxtest(O-)"),
            regex(r"^PC is at wxtest_exit\+0x[0-9a-f]+/0x[0-9a-f]+ \[wxtest\]$"),
            FATAL_EXCEPTION,
        ],
        exit: PANIC_EXIT,
        ..BASE
    },
    Case {
        // Module data is never executable (XN): jumping into it oopses
        // with an instruction-fetch permission fault.
        name: "oops_module_data_exec",
        input: &["insmod /lib/modules/wxtest.ko mode=data"],
        expect: &[
            regex(r"^wxtest: calling code in my data at (bf[0-9a-f]{6})$"),
            line("IFSR: 0x0000000f (page permission fault, instruction fetch)"),
            regex(r"^PC is at 0xbf[0-9a-f]{6}$"),
            FATAL_EXCEPTION,
        ],
        exit: PANIC_EXIT,
        initrd: true,
        ..BASE
    },
    Case {
        name: "boot_1024_highmem",
        mem_mb: 1024,
        expect: &[
            layout_highmem!(
                "0xf0000000 - 0xff000000   ( 240 MB)",
                "0xc0000000 - 0xef800000   ( 760 MB)"
            ),
            SECTIONS,
            memory!("1048576", highmem "270336"),
            line("Booting Kobold on physical CPU 0x0"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "boot_1024_nohighmem",
        variant: Variant::NoHighmem,
        mem_mb: 1024,
        expect: &[
            line("Truncating RAM at 0x60000000-0xa0000000 to -0x8f800000"),
            layout_nohighmem!(
                "0xf0000000 - 0xff000000   ( 240 MB)",
                "0xc0000000 - 0xef800000   ( 760 MB)"
            ),
            SECTIONS,
            NO_PKMAP,
            memory!("778240"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "boot_64_highmem",
        mem_mb: 64,
        expect: &[
            layout_highmem!(
                "0xc4800000 - 0xff000000   ( 936 MB)",
                "0xc0000000 - 0xc4000000   (  64 MB)"
            ),
            SECTIONS,
            memory!("65536", highmem "0"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "boot_64_nohighmem",
        variant: Variant::NoHighmem,
        mem_mb: 64,
        // Also covers booting with no command line at all (no ATAG_CMDLINE).
        append: None,
        expect: &[
            layout_nohighmem!(
                "0xc4800000 - 0xff000000   ( 936 MB)",
                "0xc0000000 - 0xc4000000   (  64 MB)"
            ),
            SECTIONS,
            NO_PKMAP,
            memory!("65536"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "boot_256_highmem",
        mem_mb: 256,
        expect: &[
            layout_highmem!(
                "0xd0800000 - 0xff000000   ( 744 MB)",
                "0xc0000000 - 0xd0000000   ( 256 MB)"
            ),
            SECTIONS,
            memory!("262144", highmem "0"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "boot_raw_image_128",
        mem_mb: 128,
        kernel: Kernel::Image,
        expect: &[
            layout_highmem!(
                "0xc8800000 - 0xff000000   ( 872 MB)",
                "0xc0000000 - 0xc8000000   ( 128 MB)"
            ),
            SECTIONS,
            memory!("131072", highmem "0"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "boot_dtb_512",
        mem_mb: 512,
        dtb: true,
        append: Some("console=ttyAMA0 dtbtest"),
        input: &["cat /proc/cmdline", "poweroff"],
        expect: &[
            line("Machine model: V2P-CA9"),
            line("console=ttyAMA0 dtbtest").of("cat /proc/cmdline"),
            layout_highmem!(
                "0xe0800000 - 0xff000000   ( 488 MB)",
                "0xc0000000 - 0xe0000000   ( 512 MB)"
            ),
            SECTIONS,
            memory!("524288", highmem "0"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "vmalloc_too_small",
        mem_mb: 256,
        append: Some("console=ttyAMA0 vmalloc=8M"),
        expect: &[
            line("vmalloc area too small, limiting to 16MB"),
            layout_highmem!(
                "0xd0800000 - 0xff000000   ( 744 MB)",
                "0xc0000000 - 0xd0000000   ( 256 MB)"
            ),
            memory!("262144", highmem "0"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // The page allocator at 1 GB: Linux's /proc/meminfo figures, the
        // free lists per zone (highmem is exactly 66 aligned 4 MB blocks)
        // and .init handed back before the shell.
        name: "page_allocator_1024",
        mem_mb: 1024,
        input: &["cat /proc/meminfo", "cat /proc/buddyinfo", "poweroff"],
        expect: &[
            regex(r"^Freeing unused kernel memory: \d+K \(c[0-9a-f]{7} - c[0-9a-f]{7}\)$").at_boot(),
            line("HighTotal:        270336 kB").of("cat /proc/meminfo"),
            line("HighFree:         270336 kB").of("cat /proc/meminfo"),
            line("VmallocTotal:     245760 kB").of("cat /proc/meminfo"),
            regex(r"^Node 0, zone   Normal( +\d+){11} $").of("cat /proc/buddyinfo"),
            line("Node 0, zone  HighMem      0      0      0      0      0      0      0      0      0      0     66 ")
                .of("cat /proc/buddyinfo"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // `pt` walks the live tables: a lowmem section, the vector page
        // through a coarse table, the UART through its ioremap, the released
        // DEBUG_LL megabyte, a hole.
        name: "pt_walks",
        mem_mb: 256,
        input: &[
            "pt 0xc0008000",
            "pt 0xc0800000",
            "pt 0xffff0000",
            "pt 0xd0800000",
            "pt 0xf8009000",
            "pt 0",
            "pt nope",
            "poweroff",
        ],
        expect: &[
// The kernel's megabyte is mapped with pages after boot: text RX.
            regex(r"^L1\[0xc00\] at phys 0x60007000 = 0x6[0-9a-f]{4}[048c]01$").of("pt 0xc0008000"),
            line("  AP=01 APX=1 (kernel read-only, user none), XN=0 (executable)").of("pt 0xc0008000"),
            line("physical address 0x60008000").of("pt 0xc0008000"),
            // The rest of lowmem stays on sections: RW, never executable
            // (8 MB in: past the image, which now spans two megabytes).
            line("L1[0xc08] at phys 0x60007020 = 0x6081141e").of("pt 0xc0800000"),
            line("  AP=01 APX=0 (kernel read/write, user none), XN=1 (never executable)")
                .of("pt 0xc0800000"),
            regex(r"^  small page \(4 KB\) at phys 0x600[0-9a-f]{2}000$").of("pt 0xffff0000"),
            regex(r"^  second-level \(coarse\) table at phys 0x6[0-9a-f]{7}, domain 0$").of("pt 0xffff0000"),
            regex(r"^  AP=01 APX=1 \(kernel read-only, user none\), XN=0 \(executable\)$").of("pt 0xffff0000"),
            line("  TEX=001 C=0 B=0 (device), S=1, nG=0").of("pt 0xd0800000"),
            line("physical address 0x10009000").of("pt 0xd0800000"),
            // The boot-time DEBUG_LL section is released once the UART is ioremapped.
            line("  fault: nothing is mapped in this megabyte").of("pt 0xf8009000"),
            line("  fault: nothing is mapped in this megabyte").of("pt 0"),
            line("pt: invalid address 'nope'").of("pt nope"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // The kmalloc heap grows from buddy pages on demand and gives every
        // byte back: `selftest heap` fails if the bytes in use after an
        // allocation storm differ from before. Twice: the second storm
        // reuses the regions the first one added.
        name: "selftest_heap",
        mem_mb: 128,
        input: &["selftest heap", "selftest heap", "cat /proc/meminfo", "selftest nope", "poweroff"],
        expect: &[
            count("selftest heap: PASS", 2),
            // kmalloc_large: whole pages from the buddy allocator, all back.
            regex(r"^heap: kmalloc\(4194304\) at 0xc[0-9a-f]{2}00000: 1024 pages taken \(Slab \+4096 kB\), kfree gave 1024 back$"),
            regex(r"^heap: kmalloc\(8193\) at 0xc[0-9a-f]{4}000: 4 pages taken \(Slab \+16 kB\), kfree gave 4 back$"),
            regex(r"^heap: kmalloc\(0\) = 0x10; 64 MB, 2 GB, usize::MAX -> 3 NULL; global 64 MB -> null; kfree checks 4/4; free pages (\d+) -> \d+$"),
            // Emptied regions go back, but one spare (16 pages).
            regex(r"^heap: 256 x kmalloc\(1000\): regions \d+ -> \d+, free pages \d+ -> \d+; kfree all: regions \d+, [1-9]\d* pages back; shrink: 16 pages back$"),
            regex(r"^heap: used \d+ -> \d+ bytes, regions \d+ -> \d+, free pages \d+ -> \d+$"),
            regex(r"^Slab:\s+\d+ kB$").of("cat /proc/meminfo"),
            line("selftest: unknown test 'nope'").of("selftest nope"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // failslab=<interval>,<probability>,<space>,<times>: with a 4 MB
        // space budget the first heap request at least as large as what is
        // left fails — selftest heap's kmalloc(4 MB) — once (times 1): an
        // error, no panic, and the second run passes.
        name: "failslab_boot",
        append: Some("console=ttyAMA0 failslab=1,100,4194304,1"),
        input: &["selftest heap", "selftest heap", "poweroff"],
        expect: &[
            line("heap: kmalloc(4194304) -> NULL"),
            line("selftest heap: FAIL (ENOMEM)"),
            count("selftest heap: PASS", 1),
            line("FAULT_INJECTION: forcing a failure."),
            regex(r"^name failslab, interval 1, probability 100, space \d+, times 1$"),
            count("FAULT_INJECTION: forcing a failure.", 1),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // fail_page_alloc= (space in pages: the 1024-page block of
        // kmalloc(4 MB) fails) and Kobold's fail_vmap_area= (space in bytes:
        // a 16 MB vmalloc fails once, then succeeds).
        name: "fail_page_alloc_vmap_boot",
        append: Some("console=ttyAMA0 fail_page_alloc=1,100,1024,1 fail_vmap_area=1,100,16777216,1"),
        input: &["selftest heap", "vmalloc 16777216", "vmalloc 16777216", "selftest heap", "poweroff"],
        expect: &[
            line("heap: kmalloc(4194304) -> NULL"),
            line("selftest heap: FAIL (ENOMEM)"),
            regex(r"^name fail_page_alloc, interval 1, probability 100, space \d+, times 1$"),
            line("vmalloc: 16777216: Cannot allocate memory (ENOMEM)"),
            regex(r"^name fail_vmap_area, interval 1, probability 100, space \d+, times 1$"),
            regex(r"^0x[cdef][0-9a-f]{7}$").of("vmalloc 16777216"),
            count("selftest heap: PASS", 1),
            count("FAULT_INJECTION: forcing a failure.", 2),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Malformed fault-injection parameters are reported as Linux does
        // and ignored: nothing fails.
        name: "failslab_malformed",
        append: Some("console=ttyAMA0 failslab=1,100 fail_page_alloc=x,1,1,1 fail_vmap_area=1,100,0,1,2"),
        input: &["selftest heap", "vmalloc 16384", "poweroff"],
        expect: &[
            count("FAULT_INJECTION: failed to parse arguments", 3),
            line("selftest heap: PASS"),
            regex(r"^0x[cdef][0-9a-f]{7}$").of("vmalloc 16384"),
            forbid_line("FAULT_INJECTION: forcing a failure."),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Kernel text is read-only after boot (mark_rodata_ro): lkdtm's
        // WRITE_KERN writes to a function and must oops.
        name: "oops_write_kern",
        input: &["provoke-crash WRITE_KERN"],
        expect: &[
            regex(r"^Unable to handle kernel paging request at virtual address c0[0-9a-f]{6}$"),
            line("DFSR: 0x0000080f (page permission fault, write)"),
            line("Internal error: Oops: 80f [#1] ARM"),
            regex(r"^PC is at \S*provoke\S*\+0x[0-9a-f]+/0x[0-9a-f]+$"),
            regex(r"^Kernel panic - not syncing: Fatal exception"),
        ],
        exit: 3,
        ..BASE
    },
    Case {
        // Highmem pages through kmap (pkmap window, 600 pages > 512 slots)
        // and nested kmap_atomic (fixmap); the window empties and every page
        // goes back to the allocator.
        name: "selftest_highmem_1024",
        mem_mb: 1024,
        input: &["selftest highmem", "selftest highmem", "poweroff"],
        expect: &[
            count("selftest highmem: PASS", 2),
            regex(r"^highmem: 600 pages \(600 highmem\) written via kmap, read via kmap_atomic, 0 bad; pkmap slots in use 0, free pages (\d+) -> \d+$"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // vmalloc end to end at 1 GB: a 4 MB area of scattered highmem pages
        // checked through kmap, a vmalloc/vzalloc/vfree storm, and every
        // counter (free pages, VmallocUsed, heap, areas) back where it was.
        name: "selftest_vmalloc_1024",
        mem_mb: 1024,
        input: &["selftest vmalloc", "poweroff"],
        expect: &[
            regex(r"^vmalloc: 4096 KB at 0xf000[0-9a-f]{4}: 1024 pages, 1024 from highmem, \d+ physical discontinuities, 0 bad$"),
            line("module window: code at 0xbf000000 (RX) returned 42"),
            regex(r"^vmap: 16 owned pages at 0x[0-9a-f]{8}, read back through kmap: 0x7a7a7a7a$"),
            regex(r"^vmalloc failures: no address space -> ENOMEM; \d+ free pages, 200 asked -> ENOMEM; free pages (\d+) -> \d+ across the failure$"),
            regex(r"^vmalloc fail-nth: [1-9]\d* allocations in a 64 KB vmalloc, each failed once -> ENOMEM, nothing leaked$"),
            line("selftest vmalloc: PASS"),
            POWER_DOWN,
        ],
        timeout_s: 120,
        ..BASE
    },
    Case {
        // The shell's vmalloc/vfree and Linux's /proc files: the DEBUG_LL
        // static map is a registered area; a 16 KB vmalloc takes 5 pages of
        // address space (guard page) at VMALLOC_START; vfree twice is refused.
        name: "vmallocinfo_1024",
        mem_mb: 1024,
        input: &[
            "cat /proc/vmallocinfo",
            "cat /proc/meminfo",
            "vmalloc 16384",
            "cat /proc/vmallocinfo",
            "vfree 0xf000a000",
            "vfree 0xf000a000",
            "vmalloc 0",
            "poweroff",
        ],
        expect: &[
            // The console and system registers, ioremapped at VMALLOC_START
            // (8 KB aligned, each followed by a guard page), then the GIC's
            // two blocks and the SP804's page.
            regex(r"^0xf0000000-0xf0002000    8192 \S*uart::init\+0x0/0x[0-9a-f]+ phys=10009000 ioremap$")
                .of("cat /proc/vmallocinfo"),
            regex(r"^0xf0002000-0xf0004000    8192 \S+\+0x0/0x[0-9a-f]+ phys=10000000 ioremap$")
                .of("cat /proc/vmallocinfo"),
            line("VmallocTotal:     245760 kB").of("cat /proc/meminfo"),
            line("VmallocUsed:          40 kB").of("cat /proc/meminfo"),
            line("VmallocChunk:     245720 kB").of("cat /proc/meminfo"),
            line("0xf000a000").of("vmalloc 16384"),
            regex(r"^0xf000a000-0xf000f000   20480 .+\+0x[0-9a-f]+/0x[0-9a-f]+ pages=4 vmalloc$"),
            line("vfree: 0xf000a000: Invalid argument (EINVAL)"),
            line("vmalloc: 0: Cannot allocate memory (ENOMEM)").of("vmalloc 0"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Every vmap area is followed by an unmapped guard page: running off
        // the end oopses instead of corrupting the next area.
        name: "oops_vmalloc_guard",
        input: &["provoke-crash VMALLOC_GUARD"],
        expect: &[
            regex(r"^Unable to handle kernel paging request at virtual address c880b000$"),
            line("DFSR: 0x00000807 (page translation fault, write)"),
            line("Internal error: Oops: 807 [#1] ARM"),
            regex(r"^Kernel panic - not syncing: Fatal exception"),
        ],
        exit: 3,
        ..BASE
    },
    Case {
        // A malformed `vmalloc=` is bad input: the kernel warns, ignores it
        // and boots with the default layout instead of panicking.
        name: "vmalloc_garbage_is_ignored",
        mem_mb: 256,
        append: Some("console=ttyAMA0 vmalloc=lots"),
        expect: &[
            regex(r"^vmalloc=lots: .*, ignored$"),
            layout_highmem!(
                "0xd0800000 - 0xff000000   ( 744 MB)",
                "0xc0000000 - 0xd0000000   ( 256 MB)"
            ),
            forbid_regex("Kernel panic"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "vmalloc_too_big",
        mem_mb: 1024,
        append: Some("console=ttyAMA0 vmalloc=2000M"),
        expect: &[
            line("vmalloc area is too big, limiting to 976MB"),
            layout_highmem!(
                "0xc2800000 - 0xff000000   ( 968 MB)",
                "0xc0000000 - 0xc2000000   (  32 MB)"
            ),
            memory!("1048576", highmem "1015808"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "shell_commands",
        mem_mb: 256,
        append: Some("console=ttyAMA0 quiet=0"),
        input: &[
            "help",
            "nosuchcmd",
            "cat /proc/cmdline",
            "cat /proc/uptime",
            "cat /proc/meminfo",
            "devmem 0x10000000",
            "devmem 0x6ff00000 32 0x12345678",
            "devmem 0x6ff00000",
            "devmem 0x6ff00002 16",
            "devmem 0x6ff00001 8",
            "devmem junk",
            "devmem 0x6ff00001 32",
            "dmesg",
            "poweroff",
        ],
        expect: &[
            line("sh: nosuchcmd: not found").of("nosuchcmd"),
            line("console=ttyAMA0 quiet=0").of("cat /proc/cmdline"),
            regex(r"^\d+\.\d\d \d+\.\d\d$").of("cat /proc/uptime"),
            // totalram: the 256 MB less what boot reserved (kernel, tables).
            regex(r"^MemTotal:\s+26\d{4} kB$").of("cat /proc/meminfo"),
            regex(r"^MemFree:\s+\d+ kB$").of("cat /proc/meminfo"),
            // The vexpress SYS_ID register; busybox prints 0x%0*llX.
            line("0x1190F500").of("devmem 0x10000000"),
            line("0x12345678").of("devmem 0x6ff00000"),
            line("0x1234").of("devmem 0x6ff00002 16"),
            line("0x56").of("devmem 0x6ff00001 8"),
            regex(r"^devmem: invalid number 'junk'").of("devmem junk"),
            regex(r"^devmem: .*(align|EINVAL).*").of("devmem 0x6ff00001 32"),
            regex(r"^\[\s*\d+\.\d{6}\] Virtual kernel memory layout:$")
                .of("dmesg")
                .raw(),
            monotonic_timestamps().at_boot(),
            monotonic_timestamps().of("dmesg"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "oops_null",
        input: &["provoke-crash ACCESS_NULL"],
        expect: &[
            NULL_DEREF,
            regex(r"^Internal error: Oops: 5 \[#1\] ARM$"),
            OOPS_PC,
            OOPS_BACKTRACE,
            OOPS_BACKTRACE_BOTTOM,
            OOPS_CODE,
            FATAL_EXCEPTION,
        ],
        exit: PANIC_EXIT,
        ..BASE
    },
    Case {
        name: "oops_unmapped_write",
        input: &["provoke-crash EXCEPTION"],
        expect: &[
            NULL_DEREF,
            regex(r"^Internal error: Oops: 805 \[#1\] ARM$"),
            OOPS_PC,
            OOPS_BACKTRACE,
            OOPS_BACKTRACE_BOTTOM,
            OOPS_CODE,
            FATAL_EXCEPTION,
        ],
        exit: PANIC_EXIT,
        ..BASE
    },
    Case {
        name: "oops_access_unmapped",
        input: &["provoke-crash ACCESS_UNMAPPED"],
        expect: &[
            line("Unable to handle kernel paging request at virtual address fef00000"),
            // The provoking access may be a read (FSR 5) or a write (805).
            regex(r"^Internal error: Oops: (5|805) \[#1\] ARM$"),
            OOPS_PC,
            OOPS_BACKTRACE,
            OOPS_BACKTRACE_BOTTOM,
            OOPS_CODE,
            FATAL_EXCEPTION,
        ],
        exit: PANIC_EXIT,
        ..BASE
    },
    Case {
        name: "oops_undefined",
        input: &["provoke-crash UNDEFINED"],
        expect: &[
            regex(r"^Internal error: Oops - undefined instruction: 0 \[#1\] ARM$"),
            OOPS_PC,
            OOPS_BACKTRACE,
            OOPS_BACKTRACE_BOTTOM,
            OOPS_CODE,
            FATAL_EXCEPTION,
        ],
        exit: PANIC_EXIT,
        ..BASE
    },
    Case {
        name: "panic_exit",
        mem_mb: 64,
        input: &["provoke-crash PANIC"],
        expect: &[regex(r"^Kernel panic - not syncing: ")],
        exit: PANIC_EXIT,
        ..BASE
    },
    Case {
        name: "reboot_then_poweroff",
        input: &["reboot", "poweroff"],
        expect: &[
            line("reboot: Restarting system").of("reboot"),
            count("Booting Kobold on physical CPU 0x0", 2),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        name: "poweroff_without_semihosting",
        mem_mb: 64,
        semihosting: false,
        expect: &[POWER_DOWN],
        ..BASE
    },
    // Issue 10, "seeing what the loader does": `insmod -v` logs each
    // section placed, each symbol resolved and each relocation with its
    // words before and after; `pt --module` shows W^X per group and the
    // guard page after the region. Addresses the compiler decides are
    // matched loosely.
    Case {
        name: "insmod_verbose_and_pt_module",
        mem_mb: 256,
        input: &[
            "insmod -v /lib/modules/hello.ko",
            "pt --module hello",
            "rmmod hello",
            "pt --module nosuch",
            "insmod /lib/modules/hello.ko",
            "poweroff",
        ],
        expect: &[
            regex(r"^hello: section \.text +core text +at 0xbf0[0-9a-f]{5} size 0x[0-9a-f]+ align \d+$")
                .of("insmod -v /lib/modules/hello.ko"),
            regex(r"^hello: section \.data +core data +at 0xbf0[0-9a-f]{2}000 size 0x[0-9a-f]+ align \d+$")
                .of("insmod -v /lib/modules/hello.ko"),
            regex(r"^hello: symbol  printk -> 0xc0[0-9a-f]{6} \(from kernel\)$")
                .of("insmod -v /lib/modules/hello.ko"),
            regex(r"^hello: reloc   \.\S+\+0x[0-9a-f]+ R_ARM_\w+ printk: S=0xc0[0-9a-f]{6} A=-?0x[0-9a-f]+ P=0xbf0[0-9a-f]{5} result=0x[0-9a-f]{8} word [0-9a-f]{8} -> [0-9a-f]{8}( via PLT veneer at 0xbf0[0-9a-f]{5})?$")
                .of("insmod -v /lib/modules/hello.ko"),
            regex(r"^hello: reloc   .* R_ARM_ABS32 .* word [0-9a-f]{8} -> [0-9a-f]{8}$")
                .of("insmod -v /lib/modules/hello.ko"),
            line("Hello, world! (1 of 1)").of("insmod -v /lib/modules/hello.ko"),
            regex(r"^hello core region 0xbf000000-0xbf0[0-9a-f]{2}000$").of("pt --module hello"),
            regex(r"^text +0xbf000000 -> 0x[67][0-9a-f]{7} RO X +normal").of("pt --module hello"),
            regex(r"^rodata +0xbf0[0-9a-f]{2}000 -> 0x[67][0-9a-f]{7} RO XN ").of("pt --module hello"),
            regex(r"^data +0xbf0[0-9a-f]{2}000 -> 0x[67][0-9a-f]{7} RW XN ").of("pt --module hello"),
            regex(r"^guard +0xbf0[0-9a-f]{2}000 unmapped$").of("pt --module hello"),
            // W^X: no text page is writable, no data page executable.
            forbid_regex(r"^text .* RW "),
            forbid_regex(r"^(rodata|data) .* X "),
            line("pt: module 'nosuch' is not loaded").of("pt --module nosuch"),
            // Without -v, nothing of the trace.
            forbid_regex(r"^hello: (reloc|section|symbol) ").of("insmod /lib/modules/hello.ko"),
            POWER_DOWN,
        ],
        initrd: true,
        ..BASE
    },
    // --- issue 10, gdb: /sys/module (teach-gdb) ---
    Case {
        // Linux's /sys/module/NAME: each loaded section's address as
        // module_sect_show prints it (the .exit.text section starts with
        // hello_exit, the only function in it), the parameters as their
        // param_get_* format them, the directories listed; gone after rmmod.
        name: "sys_module",
        mem_mb: 256,
        input: &[
            "insmod /lib/modules/hello.ko count=3 who=gdb",
            "insmod /lib/modules/provider.ko",
            "ls /sys/module",
            "ls /sys/module/hello",
            "ls /sys/module/hello/sections",
            "cat /sys/module/hello/sections/.exit.text",
            "cat /sys/module/hello/sections/.data",
            "cat /proc/modules",
            "cat /sys/module/hello/parameters/count /sys/module/hello/parameters/who /sys/module/hello/initstate /sys/module/provider/refcnt",
            "cat /sys/module/hello/sections/.nope",
            "rmmod hello",
            "ls /sys/module",
            "cat /sys/module/hello/parameters/count",
            "poweroff",
        ],
        expect: &[
            block(&["hello/", "provider/"]),
            block(&["initstate", "parameters/", "refcnt", "sections/"]),
            line(".exit.text"),
            line("__param"),
            line("0x{addr:hello:hello_exit}").computed(),
            regex(r"^0xbf00[0-9a-f]{4}$"),
            line("hello {size:hello} 0 - Live 0xbf000000 (O)").computed(),
            block(&["3", "gdb", "live", "0"]),
            line("cat: /sys/module/hello/sections/.nope: No such file or directory"),
            count("hello/", 1),
            line("cat: /sys/module/hello/parameters/count: No such file or directory"),
            POWER_DOWN,
        ],
        initrd: true,
        ..BASE
    },
    // --- teach-shell (issue 10): builtins, quoting, /proc/version, /proc/iomem ---
    Case {
        // `help CMD`; `echo` with ash's double quotes (kept spaces, one
        // argument — also a module parameter with a space); a stray quote
        // refused; `free` from /proc/meminfo's counters; /proc/version is
        // the boot banner's text; /proc/iomem lists the devices the kernel
        // maps and System RAM with the kernel image nested in it.
        name: "shell_builtins",
        mem_mb: 128,
        initrd: true,
        input: &[
            "help free",
            "help nosuch",
            r#"echo "a  b"   c"#,
            r#"echo "oops"#,
            r#"insmod /lib/modules/hello.ko who="two words""#,
            "free",
            "cat /proc/meminfo",
            "cat /proc/version",
            "cat /proc/iomem",
            "ls /proc",
            "uptime",
            "poweroff",
        ],
        expect: &[
            line("Usage: free").of("help free"),
            line("help: no such command 'nosuch'").of("help nosuch"),
            line("a  b c").of(r#"echo "a  b"   c"#),
            line("sh: unterminated quoted string").of(r#"echo "oops"#),
            regex(r"Hello, two words! \(1 of 1\)$"),
            regex(r"^ +total +used +free +shared +buff/cache +available$").of("free"),
            regex(r"^Mem: +[1-9][0-9]* +[1-9][0-9]* +[1-9][0-9]* +0 +0 +[1-9][0-9]*$").of("free"),
            line("Swap:             0           0           0").of("free"),
            regex(r"^Kobold version [0-9]+\.[0-9]+\.[0-9]+\S* \(rustc, !?HIGHMEM\) #1 ARMv7$")
                .of("cat /proc/version"),
            regex(r"^Kobold version [0-9]+\.[0-9]+\.[0-9]+\S* \(rustc, !?HIGHMEM\) #1 ARMv7$")
                .at_boot(),
            regex_block(&[
                r"^10000000-10000fff : sysregs$",
                r"^10009000-10009fff : uart-pl011$",
                r"^60000000-67ffffff : System RAM$",
                r"^  60008000-60[0-9a-f]{6} : Kernel code$",
                r"^  60[0-9a-f]{6}-60[0-9a-f]{6} : Kernel data$",
            ])
            .of("cat /proc/iomem"),
            block(&["buddyinfo", "cmdline", "interrupts", "iomem", "kallsyms", "meminfo", "modules", "uptime", "version", "vmallocinfo"])
                .of("ls /proc"),
            regex(r"^ [0-9]{2}:[0-9]{2}:[0-9]{2} up [0-9]+ min,  load average: 0\.00, 0\.00, 0\.00$")
                .of("uptime"),
            POWER_DOWN,
        ],
        ..BASE
    },
    // --- teach-shell-edit (issue 10): cursor editing, Tab, module.trace, plain errors ---
    Case {
        // Raw escape sequences and control keys typed into the line editor:
        // arrows (CSI and SS3), Home/End in every form, Delete, Backspace
        // mid-line, Ctrl-A/B/E/F/K/U/W/L; Tab completing a command, a path
        // in the initramfs, /proc and /sys/module, and a second Tab listing
        // the candidates. Each line's output shows what the editor made.
        name: "teach_line_editing",
        mem_mb: 128,
        initrd: true,
        input: &[
            "echo wrld\x1b[D\x1b[D\x1b[Do\x1b[F!",
            "cho ss3\x1bOHe\x1bOF\x1bOD\x1bODx",
            "Xecho tilde\x1b[1~\x1b[3~\x1b[4~s",
            "echoo bs\x01\x06\x06\x06\x06\x06\x7f\x05!",
            "echo kept drop\x02\x02\x02\x02\x02\x0b-part",
            "garbage\x15echo after-ctrl-u",
            "echo one two\x17three",
            "echo cleared\x0c",
            "ech\t tabbed",
            "ls /lib/mod\t",
            "cat /proc/vers\t",
            "insmod /lib/modules/hello.ko",
            "ls /sys/module/hel\t",
            "cat /proc/\t\t\x15echo listed",
            "poweroff",
        ],
        expect: &[
            line("world!"),
            line("sxs3"),
            line("tildes"),
            line("bs!"),
            line("kept-part"),
            line("after-ctrl-u"),
            line("one three"),
            line("cleared"),
            line("tabbed"),
            regex(r"^hello\.ko  \(\d+ bytes\)$"),
            regex(r"^Kobold version [0-9]+\.[0-9]+\.[0-9]+\S* \(rustc, !?HIGHMEM\) #1 ARMv7$"),
            line("parameters/"),
            // The second Tab's listing, in columns, before the line is redrawn.
            regex(r"^buddyinfo +cmdline +interrupts +iomem +"),
            line("listed"),
            forbid_regex(r"^sh: .*: not found$"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // `module.trace=1`: the boot's `modules-load=` and a plain insmod
        // print the same step trace as `insmod -v`.
        name: "teach_module_trace",
        mem_mb: 128,
        initrd: true,
        append: Some("console=ttyAMA0 module.trace=1 modules-load=hello"),
        input: &["insmod /lib/modules/provider.ko", "poweroff"],
        expect: &[
            regex(r"^hello: section \.text +core text +at 0xbf0[0-9a-f]{5} size 0x[0-9a-f]+ align \d+$")
                .at_boot(),
            regex(r"^hello: symbol  printk -> 0xc0[0-9a-f]{6} \(from kernel\)$").at_boot(),
            regex(r"^hello: reloc   \.\S+\+0x[0-9a-f]+ R_ARM_\w+ printk: ").at_boot(),
            regex(r"^provider: section \.text +core text +at 0xbf0[0-9a-f]{5} ")
                .of("insmod /lib/modules/provider.ko"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // insmod of a text file: busybox's line, and before it the
        // kernel's: Linux's terse message, then what the file is, in words.
        // A bad parameter value says what the parameter takes.
        name: "teach_insmod_errors",
        mem_mb: 128,
        initrd: true,
        extra_files: &[ExtraFile {
            path: "data/notes.txt",
            contents: || b"hello world, this is not a module\n".to_vec(),
        }],
        input: &[
            "insmod /data/notes.txt",
            "insmod /lib/modules/hello.ko count=many",
            "dmesg",
            "poweroff",
        ],
        expect: &[
            line("notes.txt: not an ELF file (starts with \"hello wo\")")
                .of("insmod /data/notes.txt"),
            line("insmod: can't insert '/data/notes.txt': invalid module format")
                .of("insmod /data/notes.txt"),
            regex(r"^hello: parameter count takes an int: ")
                .of("insmod /lib/modules/hello.ko count=many"),
            line("hello: `many' invalid for parameter `count'")
                .of("insmod /lib/modules/hello.ko count=many"),
            line("notes.txt: not an ELF file (starts with \"hello wo\")").of("dmesg"),
            POWER_DOWN,
        ],
        ..BASE
    },
    // ---- timer tick: the GIC, the SP804, jiffies, msleep/udelay, /proc/interrupts ----
    Case {
        // The first interrupts: the SP804's tick through the GIC counts
        // jiffies at HZ=100. timerdemo (modules/c/timerdemo.c) sleeps and
        // busy-waits and prints what it measured; /proc/interrupts, read
        // around it, shows IRQ 34's count grow by at least the jiffies
        // msleep waited for (each tick of timer 0 is one interrupt).
        name: "timer_tick",
        mem_mb: 128,
        initrd: true,
        input: &[
            "cat /proc/interrupts",
            "insmod /lib/modules/timerdemo.ko",
            "cat /proc/interrupts",
            "rmmod timerdemo",
            "cat /proc/kallsyms",
            "poweroff",
        ],
        expect: &[
            line("GIC: 96 interrupt lines, distributor at 0x1e001000, CPU interface at 0x1e000100")
                .at_boot(),
            line("sp804: timer0 at 100 Hz (jiffies), timer1 at 250 Hz (Linux 6.1 jiffies), IRQ 34")
                .at_boot(),
            // Linux 3.18's arithmetic at HZ=100 (kernel/time/time.c):
            // msecs_to_jiffies(100) = ceil(100 / (1000/HZ)) = 10,
            // jiffies_to_msecs(HZ) = (1000/HZ) * HZ = 1000,
            // usecs_to_jiffies(1000000/HZ + 1) = 2 (rounded up).
            line("timerdemo: HZ=100 msecs_to_jiffies(100)=10 jiffies_to_msecs(100)=1000 usecs_to_jiffies(10001)=2"),
            // msleep(m) waits msecs_to_jiffies(m) + 1 = 11 ticks.
            at_least(r"^timerdemo: msleep\(100\) slept (\d+) jiffies$", 11),
            regex(r"^timerdemo: mdelay\(30\) \+ udelay\(500\) spanned \d+ jiffies$"),
            line("timerdemo: msleep_interruptible(20) left 0 ms"),
            line("timerdemo: time_after(5, -10)=1 time_before(5, -10)=0 (5 > -10 unsigned: 0)"),
            regex(r"^timerdemo: jiffies - \(u32\)get_jiffies_64\(\) = [01], jiffies - INITIAL_JIFFIES = \d+$"),
            line("timerdemo: all checks passed"),
            // kernel/irq/proc.c show_interrupts + ARM's Err line.
            regex_block(&[
                r"^           CPU0       $",
                r"^ 34: +\d+       GIC  34  timer, linux61-tick$",
                r"^Err:          0$",
            ])
            .of("cat /proc/interrupts"),
            grows(r"^ 34: +(\d+) ", 11),
            line("timerdemo: bye"),
            // jiffies is jiffies_64's low word: both names, one address
            // (linker.ld, as Linux's vmlinux.lds.S).
            regex(r"^c0[0-9a-f]{6} D jiffies$").of("cat /proc/kallsyms"),
            regex(r"^c0[0-9a-f]{6} D jiffies_64$").of("cat /proc/kallsyms"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // The textbook module API (issue 10): apidemo builds a list of
        // kmalloc'ed nodes with kasprintf'ed names, walks it, locks a mutex
        // and a spinlock (irqsave really masks IRQs), and shows scnprintf's
        // truncation, a va_list handed on (a long long 8-aligned in it) and
        // kstrdup & co. 5,000 nodes stay until rmmod: MemFree dips and comes
        // back. misuse=1 makes each mistake lock and list debugging catch,
        // with Linux's messages, and each is refused: the list keeps its
        // nodes, the locks end free. Fault injection fails each of its
        // allocations in turn.
        name: "module_api_apidemo",
        mem_mb: 128,
        initrd: true,
        input: &[
            "cat /proc/meminfo",
            "insmod /lib/modules/apidemo.ko nodes=5000",
            "cat /proc/meminfo",
            "rmmod apidemo",
            "cat /proc/meminfo",
            "insmod /lib/modules/apidemo.ko",
            "rmmod apidemo",
            "insmod /lib/modules/apidemo.ko misuse=1",
            "lsmod",
            "rmmod apidemo",
            "cat /proc/meminfo",
            "selftest faultinject apidemo",
            "poweroff",
        ],
        expect: &[
            line("apidemo: walked 5000 nodes, ids sum to 12497500, first node-0, last node-4999")
                .of("insmod /lib/modules/apidemo.ko nodes=5000"),
            line("apidemo: freed 5000 nodes, list empty 1").of("rmmod apidemo"),
            comes_back(r"^MemFree: +(\d+) kB$", 200, 128),
            line("apidemo: walked 5 nodes, ids sum to 10, first node-0, last node-4")
                .of("insmod /lib/modules/apidemo.ko"),
            line(r#"apidemo: snprintf returned 14, scnprintf returned 7 (size 0: 0), buf "truncat""#)
                .of("insmod /lib/modules/apidemo.ko"),
            line(r#"apidemo: vscnprintf "7 -4294967296 ok" (16)"#).of("insmod /lib/modules/apidemo.ko"),
            line(r#"apidemo: kstrdup "hello", kstrndup "hel", kmemdup deadbeef 42, kvasprintf+1=2"#)
                .of("insmod /lib/modules/apidemo.ko"),
            line("apidemo: mutex locked 1, trylock while held 0, after unlock 0, interruptible 0")
                .of("insmod /lib/modules/apidemo.ko"),
            line("apidemo: spinlock irqs off before 0, inside 1, after 0, nested 1; locked 1, after unlock 0, trylock 1")
                .of("insmod /lib/modules/apidemo.ko"),
            line("apidemo: freed 5 nodes, list empty 1"),
            // misuse=1: each mistake reported in Linux's words, then refused.
            regex(r"^list_add double add: new=[0-9a-f]{8}, prev=[0-9a-f]{8}, next=[0-9a-f]{8}\.$")
                .of("insmod /lib/modules/apidemo.ko misuse=1"),
            regex(r"^WARNING: CPU: 0 PID: 1 at \S*list_debug\.rs:[0-9]+ __list_add_valid$")
                .of("insmod /lib/modules/apidemo.ko misuse=1"),
            regex(r"^list_del corruption, [0-9a-f]{8}->next is LIST_POISON1 \(00000100\)$")
                .of("insmod /lib/modules/apidemo.ko misuse=1"),
            regex(r"^WARNING: CPU: 0 PID: 1 at \S*list_debug\.rs:[0-9]+ __list_del_entry_valid$")
                .of("insmod /lib/modules/apidemo.ko misuse=1"),
            count("apidemo: misuse: list still has 5 of 5 nodes", 2),
            line("WARNING: possible recursive locking detected").of("insmod /lib/modules/apidemo.ko misuse=1"),
            line("apidemo: misuse: interruptible returns -35"),
            line("WARNING: bad unlock balance detected!").of("insmod /lib/modules/apidemo.ko misuse=1"),
            line("but there are no more locks to release!"),
            line("apidemo: misuse: mutex locked 0"),
            line("BUG: spinlock recursion on CPU#0, insmod/1"),
            line("BUG: spinlock already unlocked on CPU#0, insmod/1"),
            line("apidemo: misuse: spinlock locked 0"),
            regex(r"^apidemo +{size:apidemo} +0$").computed().of("lsmod"),
            count("apidemo: freed 5 nodes, list empty 1", 2).of("rmmod apidemo"),
            // Every allocation of an insmod, the module's own kmalloc,
            // kasprintf, kvasprintf and kstrdup included, fails in turn: the
            // module's error paths free what they took.
            regex(r"^faultinject: apidemo\.ko: [1-9][0-9]* allocation points failed one at a time: [1-9][0-9]* x ENOMEM, 0 leaks$"),
            line("selftest faultinject: PASS"),
            forbid_regex(r"Kernel panic|Unable to handle|Unknown symbol|leaked|instead of ENOMEM"),
            POWER_DOWN,
        ],
        timeout_s: 120,
        ..BASE
    },
    // --- The Linux 6.1 personality's runtime (issue 11) ---
    Case {
        // current in TPIDRURO with a non-zero canary at +1592, the 6.1
        // table complete, kzalloc through kmalloc_caches zeroed, 6.1's
        // alignment, __gnu_mcount_nc and __do_div64 with their register
        // ABIs, NEON between kernel_neon_begin/end, strscpy; no leak.
        // Twice: the second run reuses the blocks the first freed dirty.
        name: "selftest_linux61",
        input: &["selftest linux61", "selftest linux61", "selftest linux61 nope", "poweroff"],
        expect: &[
            count("selftest linux61: PASS", 2),
            regex(r"^linux61: current = init_task at 0xc[0-9a-f]{7} \(TPIDRURO ok\), canary at \+1592 set$"),
            regex(r"^linux61: \d+ exports, 0 without an address$"),
            regex(r"^linux61: kzalloc\(64\) via kmalloc_caches\[0\]\[6\] = 0xc[0-9a-f]{5}[048c]0: zeroed, 64-byte aligned$"),
            line("linux61: __kmalloc zeroed and aligned: ok; kmalloc_large(20000) ok; kvmalloc_node(6 MB) ok (vmalloc)"),
            regex(r"^linux61: kmalloc leak check: free pages \d+ -> \d+, VmallocUsed \d+ -> \d+, heap used \d+ -> \d+, areas \d+ -> \d+$"),
            line("linux61: __gnu_mcount_nc: returned with lr restored, sp rebalanced, ip untouched"),
            line("linux61: __do_div64: quotient r2:r3, remainder r1, r4 kept"),
            line("linux61: kernel_neon_begin: FPEXC.EN 1, preempt_count 0x0; NEON 21+21 = 42; kernel_neon_end: FPEXC.EN 0"),
            line("linux61: strscpy: -7 and 2"),
            line("linux61: div_s64_rem(-7000000000007, 1000) = -7000000000 rem -7; fips_enabled = 0"),
            line("linux61: kfree_sensitive: freed block zeroed"),
            line("linux61: bitops: test_and_set 5 -> 0 then 1, test_and_clear -> 1, test_and_change 31 -> 1; map 00000000 00000000 00000001"),
            line("Usage: selftest linux61 [stackprot|fortify]").of("selftest linux61 nope"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // A tick interrupt taken late counts every period that passed
        // (tick_do_update_jiffies64): 55 ms with IRQs masked move jiffies
        // by at least 5 at 100 Hz and 13 at 250 Hz, not by one each. Twice,
        // from two different phases of the tick.
        name: "selftest_jiffies",
        input: &["selftest jiffies", "selftest jiffies", "poweroff"],
        expect: &[
            count("selftest jiffies: PASS", 2),
            // The counts vary with the phase and the host's load; the test's
            // own bounds (PASS) come from the counter.
            regex(r"^jiffies: IRQs masked 55 ms: jiffies \+\d+ \(100 Hz\), Linux 6\.1 jiffies \+\d+ \(250 Hz\)$"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // __stack_chk_fail panics as 6.1's does, naming the corrupted
        // function (%pB).
        name: "linux61_stack_protector_panics",
        input: &["selftest linux61 stackprot"],
        expect: &[
            regex(r"^Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: kobold_linux61_smashed\+0x[0-9a-f]+/0x[0-9a-f]+$"),
        ],
        exit: PANIC_EXIT,
        ..BASE
    },
    Case {
        // fortify_panic: 6.1's message, then BUG(): the oops names it.
        name: "linux61_fortify_panic_bugs",
        input: &["selftest linux61 fortify"],
        expect: &[
            line("detected buffer overflow in memcpy"),
            regex(r"^Kernel BUG at \S*fortify_panic\S*\+0x[0-9a-f]+/0x[0-9a-f]+ \[verbose debug info unavailable\]$"),
            line("Internal error: Oops - BUG: 0 [#1] ARM"),
            FATAL_EXCEPTION,
        ],
        exit: PANIC_EXIT,
        ..BASE
    },
    // --- linux-61 (issue 11): Debian's own armhf modules ---
    Case {
        // Real files from Debian's linux-image-6.1.0-*-armmp (fetched with
        // apt when the test runs; skipped when it cannot be): tuner-types
        // imports nothing, so it loads with the 6.1 personality whatever
        // that table holds, signed trailer and all, and its `struct module`
        // is filled; usbnet is refused naming a symbol Kobold lacks, in
        // Linux's words; tuner-types with one byte of its vermagic changed
        // is refused as Linux does, and loads with `insmod -f`, tainted F
        // and E (a forced module's signature is not looked at: unsigned).
        name: "debian_modules",
        mem_mb: 256,
        initrd: true,
        extra_files: DEBIAN_FILES,
        requires: Some(debian_package),
        input: &[
            "insmod -v /debian/tuner-types.ko",
            "cat /proc/modules",
            "cat /sys/module/tuner_types/abi",
            "rmmod tuner_types",
            "insmod /debian/usbnet.ko",
            "insmod /debian/tuner-types-smp.ko",
            "insmod -f /debian/tuner-types-smp.ko",
            "cat /proc/modules",
            "cat /sys/module/tuner_types/taint",
            "rmmod tuner_types",
            "cat /proc/modules",
            "modinfo /debian/tuner-types.ko",
            "poweroff",
        ],
        expect: &[
            regex(r"^vermagic: +6\.1\.\S+ SMP mod_unload modversions ARMv7 p2v8\s*$")
                .of("modinfo /debian/tuner-types.ko"),
            line("sig_id:         PKCS#7").of("modinfo /debian/tuner-types.ko"),
            regex(r"^tuner_types: ftrace: 0 __mcount_loc call sites patched to nop \(pop \{lr\}\), 0 skipped$"),
            regex(r"^tuner_types \d+ 0 - Live 0xbf000000$").of("cat /proc/modules"),
            line("linux-6.1").of("cat /sys/module/tuner_types/abi"),
            regex(r"^usbnet: Unknown symbol \S+ \(err -2\)$"),
            line("insmod: can't insert '/debian/usbnet.ko': unknown symbol in module, or unknown parameter"),
            line(
                "tuner_types: version magic '6.1.0-57-armmp smp mod_unload modversions ARMv7 p2v8 ' \
                 should be '6.1.0-57-armmp SMP mod_unload modversions ARMv7 p2v8 '",
            ),
            line("insmod: can't insert '/debian/tuner-types-smp.ko': invalid module format"),
            line("tuner_types: bad vermagic: kernel tainted."),
            regex(r"^tuner_types \d+ 0 - Live 0xbf000000 \(FE\)$"),
            line("FE").of("cat /sys/module/tuner_types/taint"),
            forbid_regex(r"Internal error|Unable to handle kernel"),
            POWER_DOWN,
        ],
        timeout_s: 90,
        ..BASE
    },
    // --- linuxcheck (issue 11's proof): Debian's library modules compute right.
    Case {
        // Debian's nine library modules load with the 6.1 personality and
        // linuxcheck.ko (ours, built against modules/linux61/include) calls
        // their exports, comparing with published vectors (CRC catalogue,
        // RFC 7748, 8439, 1320, 6229); then all go and memory comes back.
        name: "linuxcheck",
        mem_mb: 256,
        initrd: true,
        extra_files: LINUXCHECK_FILES,
        requires: Some(debian_package),
        input: &[
            "cat /proc/meminfo",
            "cat /proc/vmallocinfo",
            "insmod /debian/crc7.ko",
            "insmod /debian/crc8.ko",
            "insmod /debian/crc16.ko",
            "insmod /debian/crc-itu-t.ko",
            "insmod /debian/crc64.ko",
            "insmod /debian/libcurve25519-generic.ko",
            "insmod /debian/libpoly1305.ko",
            "insmod /debian/cifs_md4.ko",
            "insmod /debian/libarc4.ko",
            "insmod /linux61/linuxcheck.ko",
            "cat /proc/modules",
            "cat /sys/module/linuxcheck/abi",
            "cat /sys/module/crc7/abi",
            "cat /proc/meminfo",
            "rmmod linuxcheck",
            "rmmod libarc4 cifs_md4 libpoly1305 libcurve25519_generic crc64 crc_itu_t crc16 crc8 crc7",
            "cat /proc/modules",
            "cat /proc/vmallocinfo",
            "cat /proc/meminfo",
            "poweroff",
        ],
        expect: &[
            line("linuxcheck: crc7_be: pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: crc8: pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: crc16: pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: crc_itu_t: pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: crc_itu_t(0xffff): pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: crc64_be: pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: crc64_rocksoft_generic: pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: curve25519_generic: pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: poly1305_generic: pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: cifs_md4: pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: arc4: pass").of("insmod /linux61/linuxcheck.ko"),
            line("linuxcheck: 11 passed, 0 failed").of("insmod /linux61/linuxcheck.ko"),
            forbid_regex(r"^linuxcheck: .*: fail"),
            // Ours is out of tree (no `intree=Y`): taint O, as Linux.
            regex(r"^linuxcheck \d+ 0 - Live 0xbf[0-9a-f]{6} \(O\)$").of("cat /proc/modules"),
            regex(r"^libcurve25519_generic \d+ 1 linuxcheck, Live 0xbf[0-9a-f]{6}$")
                .of("cat /proc/modules"),
            line("linux-6.1").of("cat /sys/module/linuxcheck/abi"),
            line("linux-6.1").of("cat /sys/module/crc7/abi"),
            line("linuxcheck: unloaded").of("rmmod linuxcheck"),
            comes_back(r"^MemFree: +(\d+) kB$", 40, 32),
            same_output("cat /proc/vmallocinfo"),
            forbid_regex(r"Internal error|Unable to handle kernel|Unknown symbol|^(insmod|rmmod): can.t"),
            POWER_DOWN,
        ],
        timeout_s: 120,
        ..BASE
    },
    // Issue 11, "Beyond the 32": the 6.1 personality's NLS registry. Debian's
    // nls_cp437 and nls_utf8 register their tables at init; the kernel looks
    // each up by charset and converts a character through the module's own
    // char2uni/uni2char (selftest nls); rmmod unregisters them. Before and
    // after, the lookup fails. nls_euc-jp, whose init needs cp932 through
    // load_nls, fails without it (linux61_nls_pin loads it with cp932).
    Case {
        name: "linux61_nls",
        mem_mb: 256,
        initrd: true,
        extra_files: NLS_FILES,
        requires: Some(debian_package),
        input: &[
            "selftest nls",
            "insmod /debian/nls_cp437.ko",
            "insmod /debian/nls_utf8.ko",
            "insmod /debian/nls_euc-jp.ko",
            "cat /sys/kernel/kobold/nls",
            "selftest nls",
            "rmmod nls_utf8",
            "rmmod nls_cp437",
            "cat /proc/modules",
            "selftest nls",
            "poweroff",
        ],
        expect: &[
            count("nls: cp437: not registered (insmod nls_cp437.ko)", 2),
            count("selftest nls: FAIL (check failed: charset not registered)", 2),
            // load_nls("cp932") finds no table (nls_cp932 is not loaded,
            // and request_module finds no nls_cp932.ko in /lib/modules):
            // nls_euc-jp's init says -EINVAL.
            line("insmod: can't insert '/debian/nls_euc-jp.ko': Invalid argument"),
            line("utf8 - nls_utf8").of("cat /sys/kernel/kobold/nls"),
            line("cp437 - nls_cp437").of("cat /sys/kernel/kobold/nls"),
            regex(r"^nls: cp437 at 0xbf[0-9a-f]{6}: char2uni\(82\) = U\+00E9 \(1\), uni2char\(U\+00E9\) = 82 \(1\)$"),
            regex(r"^nls: utf8 at 0xbf[0-9a-f]{6}: char2uni\(e282ac\) = U\+20AC \(3\), uni2char\(U\+20AC\) = e282ac \(3\)$"),
            line("nls: no-such-charset: not found"),
            count("selftest nls: PASS", 1),
            forbid_regex(r"^nls_").of("cat /proc/modules"),
            forbid_regex(r"Internal error|Unable to handle kernel|BUG"),
            POWER_DOWN,
        ],
        timeout_s: 90,
        ..BASE
    },
    // --- Module signatures (issue 12) ---
    Case {
        // Under module.sig_enforce=1 the sample modules, signed with the
        // build key at build time, load as before (no E); one flipped ELF
        // byte is refused as Linux 6.1 refuses it (-EKEYREJECTED); an
        // unsigned copy is refused with module_sig_check's notice; the
        // shell's modinfo names the signer as kmod's does.
        name: "sig_enforced_own_modules",
        append: Some("console=ttyAMA0 module.sig_enforce=1"),
        initrd: true,
        extra_files: SIG_FILES,
        input: &[
            "insmod /lib/modules/hello.ko",
            "cat /proc/modules",
            "rmmod hello",
            "insmod /sig/hello-flipped.ko",
            "insmod /unsigned/hello.ko",
            "cat /proc/modules",
            "modinfo /lib/modules/hello.ko",
            "poweroff",
        ],
        expect: &[
            regex(r"^hello \d+ 0 - Live 0xbf000000 \(O\)$").of("cat /proc/modules"),
            line("insmod: can't insert '/sig/hello-flipped.ko': Key was rejected by service"),
            line("Loading of unsigned module is rejected"),
            line("insmod: can't insert '/unsigned/hello.ko': Key was rejected by service"),
            line("sig_id:         PKCS#7").of("modinfo /lib/modules/hello.ko"),
            line("signer:         Kobold build time autogenerated kernel key")
                .of("modinfo /lib/modules/hello.ko"),
            regex(r"^sig_key:        [0-9A-F]{2}(:[0-9A-F]{2})+$").of("modinfo /lib/modules/hello.ko"),
            line("sig_hashalgo:   sha256").of("modinfo /lib/modules/hello.ko"),
            forbid_regex(r"module verification failed|Internal error|Unable to handle"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Without enforcement an unsigned module loads, tainting the
        // kernel E with Linux's notice (once), and so does a signed module
        // whose bytes changed (see docs/linux-compat.md: Linux 6.1 refuses
        // it); the signed sample loads untainted.
        name: "sig_unsigned_taints_e",
        initrd: true,
        extra_files: SIG_FILES,
        input: &[
            "insmod /unsigned/hello.ko",
            "cat /proc/modules",
            "cat /sys/module/hello/taint",
            "rmmod hello",
            "insmod /unsigned/hello.ko",
            "rmmod hello",
            "insmod /sig/hello-flipped.ko",
            "cat /proc/modules",
            "rmmod hello",
            "insmod /lib/modules/hello.ko",
            "cat /proc/modules",
            "poweroff",
        ],
        expect: &[
            line("hello: module verification failed: signature and/or required key missing - tainting kernel"),
            regex(r"^hello \d+ 0 - Live 0xbf000000 \(OE\)$"),
            line("OE").of("cat /sys/module/hello/taint"),
            regex(r"^hello \d+ 0 - Live 0xbf000000 \(O\)$"),
            forbid_line("insmod: can't insert '/sig/hello-flipped.ko': Key was rejected by service"),
            // pr_notice_once: said for the first unsigned load only.
            count(
                "hello: module verification failed: signature and/or required key missing - tainting kernel",
                1,
            ),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Debian's own crc7.ko, signed by the "Build time autogenerated
        // kernel key" whose certificate `cargo xtask test` extracts from
        // the package's vmlinuz (`linux-cert`) into the test kernels'
        // keyring: accepted under enforcement, untainted; refused after a
        // one-byte change.
        name: "sig_debian_crc7",
        mem_mb: 256,
        append: Some("console=ttyAMA0 module.sig_enforce=1"),
        initrd: true,
        extra_files: SIG_DEBIAN_FILES,
        requires: Some(debian_package),
        input: &[
            "insmod /debian/crc7.ko",
            "cat /proc/modules",
            "rmmod crc7",
            "insmod /debian/crc7-flipped.ko",
            "modinfo /debian/crc7.ko",
            "poweroff",
        ],
        expect: &[
            regex(r"^crc7 \d+ 0 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            line("insmod: can't insert '/debian/crc7-flipped.ko': Key was rejected by service"),
            line("signer:         Build time autogenerated kernel key").of("modinfo /debian/crc7.ko"),
            forbid_regex(r"module verification failed|Internal error|Unable to handle"),
            POWER_DOWN,
        ],
        timeout_s: 90,
        ..BASE
    },
    // --- Issue 11: the 6.1 personality's I2C core (i2c_transfer) ---
    Case {
        // i2ccheck.ko (ours, modules/linux61/i2ccheck.c) drives Kobold's
        // i2c_transfer/__i2c_transfer against a mock adapter (locking,
        // -EAGAIN retries, quirks, no master_xfer, suspended), then Debian's
        // lnbp21.ko through its exported lnbp21_attach and the ops it
        // installs, checking the control bytes lnbp21.c writes to 0x08.
        name: "linux61_i2c",
        mem_mb: 256,
        initrd: true,
        extra_files: I2C_FILES,
        requires: Some(debian_package),
        input: &[
            "cat /proc/meminfo",
            "insmod /debian/lnbp21.ko",
            "insmod /linux61/i2ccheck.ko",
            "cat /proc/modules",
            "cat /proc/meminfo",
            "rmmod i2ccheck",
            "rmmod lnbp21",
            "cat /proc/modules",
            "cat /proc/meminfo",
            "poweroff",
        ],
        expect: &[
            line("i2ccheck: i2c_transfer write+read: pass").of("insmod /linux61/i2ccheck.ko"),
            line("i2ccheck: bus locked around master_xfer: pass"),
            line("i2ccheck: retried on -EAGAIN: pass"),
            line("i2ccheck: retries exhausted: pass"),
            line("i2ccheck: retries 0 tries once: pass"),
            line("i2ccheck: other errno not retried: pass"),
            line("i2ccheck: no master_xfer: pass"),
            line("i2ccheck: quirk max_write_len: pass"),
            line("i2ccheck: quirk no zero length read: pass"),
            line("i2ccheck: quirks allow: pass"),
            line("i2ccheck: suspended: pass"),
            line("i2ccheck: lnbp21_attach on a failing bus: pass"),
            line("i2ccheck: lnbp21_attach: pass"),
            line("i2ccheck: lnbp21 set_voltage(18V): pass"),
            line("i2ccheck: lnbp21 set_voltage(13V): pass"),
            line("i2ccheck: lnbp21 set_voltage on a failing bus: pass"),
            line("i2ccheck: lnbp21 release_sec: pass"),
            line("i2ccheck: lnbp21_attach with overrides: pass"),
            line("i2ccheck: 18 passed, 0 failed").of("insmod /linux61/i2ccheck.ko"),
            forbid_regex(r"^i2ccheck: .*: fail"),
            // 6.1's messages: the quirk check, the suspended warning (once),
            // and lnbp21's own printk after a successful attach.
            line("i2c i2c-7: adapter quirk: msg too long (addr 0x0050, size 2, write)"),
            line("i2c i2c-7: adapter quirk: no zero length (addr 0x0050, size 0, read)"),
            count("i2c i2c-7: Transfer while suspended", 1),
            count("LNBx2x attached on addr=8", 2),
            regex(r"^lnbp21 \d+ 1 i2ccheck, Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            line("i2ccheck: unloaded").of("rmmod i2ccheck"),
            forbid_regex(r"^(lnbp21|i2ccheck) ").of("rmmod lnbp21"),
            comes_back(r"^MemFree: +(\d+) kB$", 8, 32),
            forbid_regex(r"Internal error|Unable to handle kernel|Unknown symbol|^(insmod|rmmod): can.t"),
            POWER_DOWN,
        ],
        timeout_s: 90,
        ..BASE
    },
    // --- linux61_devprintk (issue 11, "beyond the 32"): 6.1's dev_printk,
    // dynamic debug and arm_delay_ops, proved by devcheck.ko (ours, built
    // against modules/linux61/include) against the formats Linux documents,
    // and used by Debian's own modules that need them.
    Case {
        // devcheck prints through _dev_* / _dev_printk with devices whose
        // driver, bus or class names them, and through __dynamic_pr_debug /
        // __dynamic_dev_dbg with descriptors enabled +pmfl and +p (the
        // debug lines are KERN_DEBUG: dmesg shows them); its udelay loops
        // must let at least 100 ms of 250 Hz jiffies pass. Debian's
        // eeprom_93cx6 (arm_delay_ops) and as102_fe (__dynamic_pr_debug)
        // load and unload; memory comes back.
        name: "linux61_devprintk",
        mem_mb: 256,
        initrd: true,
        extra_files: DEVCHECK_FILES,
        requires: Some(debian_package),
        input: &[
            "cat /proc/meminfo",
            "insmod /linux61/devcheck.ko",
            "dmesg",
            "rmmod devcheck",
            "insmod /debian/eeprom_93cx6.ko",
            "insmod /debian/as102_fe.ko",
            "cat /proc/modules",
            "rmmod as102_fe eeprom_93cx6",
            "cat /proc/modules",
            "cat /proc/meminfo",
            "poweroff",
        ],
        expect: &[
            // drivers/base/core.c __dev_printk: "<driver> <name>: msg",
            // the driver string falling back to the bus, then the class,
            // then "".
            line("devcheck_drv devcheck.0: info 42").of("insmod /linux61/devcheck.ko"),
            line("devcheck_bus dc1: err bus").of("insmod /linux61/devcheck.ko"),
            line("devcheck_class dc2: warn beef").of("insmod /linux61/devcheck.ko"),
            line(" dc3: notice").of("insmod /linux61/devcheck.ko"),
            line("(NULL device *): null -1").of("insmod /linux61/devcheck.ko"),
            line("devcheck_drv devcheck.0: printk 7").of("insmod /linux61/devcheck.ko"),
            // dynamic-debug-howto: +m +f +l prefix "module:function:line: ";
            // +p alone, nothing; dev_dbg adds the device's prefix after.
            regex(r"^devcheck:devcheck_init:4242: debug on$").of("dmesg"),
            regex(r"^devcheck_drv devcheck\.0: dbg 7$").of("dmesg"),
            regex(r"^devcheck:devcheck_init:4242: devcheck_bus dc1: dbg pmfl$").of("dmesg"),
            // lib/hexdump.c: offsets, bytes, the ASCII column at 16 * 2 + 16 + 1.
            line("devcheck: 00000000: 40 41 42 43 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f  @ABC456789:;<=>?")
                .of("insmod /linux61/devcheck.ko"),
            regex(r"^devcheck: 00000010: 40 41 42 43 {38}@ABC$").of("insmod /linux61/devcheck.ko"),
            line("devcheck4: 43424140 37363534").of("insmod /linux61/devcheck.ko"),
            // kernel/panic.c: warn_slowpath_fmt's report, once with a
            // message; WARN_ON(0) prints nothing.
            line("------------[ cut here ]------------").of("insmod /linux61/devcheck.ko"),
            regex(r"^WARNING: CPU: 0 PID: \d+ at \S*devcheck\.c:\d+ devcheck_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[devcheck\]$")
                .of("insmod /linux61/devcheck.ko"),
            line("devcheck: warn 5").of("insmod /linux61/devcheck.ko"),
            regex(r"^Modules linked in: devcheck").of("insmod /linux61/devcheck.ko"),
            line("---[ end trace 0000000000000000 ]---").of("insmod /linux61/devcheck.ko"),
            line("devcheck: WARN returns its condition: pass").of("insmod /linux61/devcheck.ko"),
            line("devcheck: udelay const: pass").of("insmod /linux61/devcheck.ko"),
            line("devcheck: udelay: pass").of("insmod /linux61/devcheck.ko"),
            line("devcheck: read_current_timer of NULL: -22").of("insmod /linux61/devcheck.ko"),
            line("devcheck: unloaded").of("rmmod devcheck"),
            regex(r"^eeprom_93cx6 \d+ 0 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            regex(r"^as102_fe \d+ 0 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            comes_back(r"^MemFree: +(\d+) kB$", 0, 64),
            forbid_regex(r"devcheck: .*: fail"),
            forbid_regex(r"Internal error|Unable to handle kernel|Unknown symbol|^(insmod|rmmod): can.t"),
            POWER_DOWN,
        ],
        timeout_s: 120,
        ..BASE
    },
    Case {
        // load_nls pins the table's owner as 6.1's find_nls does
        // (try_module_get), unload_nls drops the pin (module_put): while
        // Debian's nls_euc-jp holds cp932 and nls_koi8-ru holds koi8-u,
        // their owners show a refcount of 1 and cannot be removed
        // (-EWOULDBLOCK); once the users are gone, they can.
        name: "linux61_nls_pin",
        mem_mb: 256,
        initrd: true,
        extra_files: NLS_PIN_FILES,
        requires: Some(debian_package),
        input: &[
            "insmod /debian/nls_cp932.ko",
            "insmod /debian/nls_euc-jp.ko",
            "insmod /debian/nls_koi8-u.ko",
            "insmod /debian/nls_koi8-ru.ko",
            "cat /proc/modules",
            "cat /sys/kernel/kobold/nls",
            "rmmod nls_cp932",
            "rmmod nls_koi8_u",
            "rmmod nls_euc_jp",
            "rmmod nls_koi8_ru",
            "cat /proc/modules",
            "rmmod nls_cp932",
            "rmmod nls_koi8_u",
            "cat /proc/modules",
            "poweroff",
        ],
        expect: &[
            regex(r"^nls_cp932 \d+ 1 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            regex(r"^nls_koi8_u \d+ 1 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            regex(r"^nls_euc_jp \d+ 0 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            line("euc-jp - nls_euc_jp").of("cat /sys/kernel/kobold/nls"),
            line("koi8-ru - nls_koi8_ru").of("cat /sys/kernel/kobold/nls"),
            // Refused while pinned, removed once the users are gone.
            count("rmmod: can't unload module 'nls_cp932': Resource temporarily unavailable", 1),
            count("rmmod: can't unload module 'nls_koi8_u': Resource temporarily unavailable", 1),
            regex(r"^nls_cp932 \d+ 0 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            forbid_regex(r"Internal error|Unable to handle kernel|BUG|WARNING|^insmod: can.t"),
            POWER_DOWN,
        ],
        timeout_s: 90,
        ..BASE
    },
    // --- keyring (issue 12): the keyring's boot lines, `insmod -f` and signatures ---
    Case {
        // Linux's late_initcall load_system_certificate_list: after the
        // timer and the initramfs, before .init is freed, at KERN_NOTICE,
        // the build key described as x509_key_preparse does (its CN, as it
        // starts with its O, and its subject key id). `insmod -f` is
        // Linux's MODULE_INIT_IGNORE_VERMAGIC: the module is "mangled", its
        // signature not looked at, so it is unsigned: tainted F (even with
        // a right vermagic) and E, signed or not; `bad vermagic` is said
        // while the kernel is not tainted F.
        name: "keyring_boot_and_forced_taints_fe",
        initrd: true,
        extra_files: SIG_FILES,
        input: &[
            "insmod -f /unsigned/hello.ko",
            "cat /proc/modules",
            "cat /sys/module/hello/taint",
            "rmmod hello",
            "insmod -f /lib/modules/hello.ko",
            "insmod -f /lib/modules/provider.ko",
            "cat /proc/modules",
            "rmmod provider",
            "rmmod hello",
            "insmod /lib/modules/hello.ko",
            "cat /proc/modules",
            "poweroff",
        ],
        expect: &[
            regex_block(&[
                r"^Loading compiled-in X\.509 certificates$",
                r"^Loaded X\.509 cert 'Kobold build time autogenerated kernel key: [0-9a-f]{40}'$",
            ])
            .at_boot(),
            regex_block(&[r"^Freeing initrd memory: \d+K$", r"^Loading compiled-in X\.509 certificates$"])
                .at_boot(),
            regex_block(&[
                r"^Loaded X\.509 cert '[^']*: [0-9a-f]+'$",
                r"^Freeing unused kernel memory: \d+K",
            ])
            .at_boot(),
            forbid_regex(r"^Problem (loading|parsing) in-kernel X\.509"),
            line("hello: bad vermagic: kernel tainted.").of("insmod -f /unsigned/hello.ko"),
            line("hello: module verification failed: signature and/or required key missing - tainting kernel")
                .of("insmod -f /unsigned/hello.ko"),
            regex(r"^hello \d+ 0 - Live 0xbf000000 \(OFE\)$").of("cat /proc/modules"),
            line("OFE").of("cat /sys/module/hello/taint"),
            // Signed, but forced: still E.
            regex(r"^hello \d+ 0 - Live 0xbf[0-9a-f]{6} \(OFE\)$").of("cat /proc/modules"),
            regex(r"^provider \d+ 0 - Live 0xbf[0-9a-f]{6} \(OFE\)$").of("cat /proc/modules"),
            // Tainted F already (hello): provider's forced load is silent.
            forbid_line("provider: bad vermagic: kernel tainted."),
            // Not forced, signed: untainted by F or E.
            regex(r"^hello \d+ 0 - Live 0xbf000000 \(O\)$").of("cat /proc/modules"),
            forbid_regex(r"Internal error|Unable to handle"),
            POWER_DOWN,
        ],
        ..BASE
    },
    Case {
        // Under module.sig_enforce=1 a forced module is an unsigned one
        // and refused before its vermagic is read (module_sig_check runs
        // first in load_module), signed or not.
        name: "keyring_enforced_refuses_forced",
        append: Some("console=ttyAMA0 module.sig_enforce=1"),
        initrd: true,
        extra_files: SIG_FILES,
        input: &[
            "insmod -f /lib/modules/hello.ko",
            "insmod -f /unsigned/hello.ko",
            "cat /proc/modules",
            "insmod /lib/modules/hello.ko",
            "cat /proc/modules",
            "poweroff",
        ],
        expect: &[
            line("Loading of unsigned module is rejected").of("insmod -f /lib/modules/hello.ko"),
            line("insmod: can't insert '/lib/modules/hello.ko': Key was rejected by service"),
            line("Loading of unsigned module is rejected").of("insmod -f /unsigned/hello.ko"),
            line("insmod: can't insert '/unsigned/hello.ko': Key was rejected by service"),
            forbid_regex(r"bad vermagic|module verification failed"),
            regex(r"^hello \d+ 0 - Live 0xbf000000 \(O\)$").of("cat /proc/modules"),
            forbid_regex(r"Internal error|Unable to handle"),
            POWER_DOWN,
        ],
        ..BASE
    },
    // --- request_module (issue 11): the in-kernel modprobe ---
    Case {
        // 6.1's load_nls falls back to request_module("nls_%s"), which runs
        // `modprobe -q -- nls_cp932`: Kobold's in-kernel modprobe finds
        // /lib/modules/nls_cp932.ko (and nls_koi8-u.ko, `-` and `_` alike)
        // and inserts it, so Debian's nls_euc-jp and nls_koi8-ru load by
        // themselves. The requested modules stay pinned by their users
        // (refcount 1, rmmod refused with -EWOULDBLOCK) until those are
        // removed, then go too.
        name: "linux61_request_module",
        mem_mb: 256,
        initrd: true,
        extra_files: REQUEST_MODULE_FILES,
        requires: Some(debian_package),
        input: &[
            "insmod /debian/nls_euc-jp.ko",
            "insmod /debian/nls_koi8-ru.ko",
            "cat /proc/modules",
            "cat /sys/kernel/kobold/nls",
            "rmmod nls_cp932",
            "rmmod nls_euc_jp",
            "rmmod nls_cp932",
            "rmmod nls_koi8_u",
            "rmmod nls_koi8_ru",
            "rmmod nls_koi8_u",
            "lsmod",
            "poweroff",
        ],
        expect: &[
            regex(r"^nls_cp932 \d+ 1 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            regex(r"^nls_euc_jp \d+ 0 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            regex(r"^nls_koi8_u \d+ 1 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            regex(r"^nls_koi8_ru \d+ 0 - Live 0xbf[0-9a-f]{6}$").of("cat /proc/modules"),
            line("cp932 sjis nls_cp932").of("cat /sys/kernel/kobold/nls"),
            line("euc-jp - nls_euc_jp").of("cat /sys/kernel/kobold/nls"),
            line("koi8-ru - nls_koi8_ru").of("cat /sys/kernel/kobold/nls"),
            // Refused once each while pinned; gone at the end.
            count("rmmod: can't unload module 'nls_cp932': Resource temporarily unavailable", 1),
            count("rmmod: can't unload module 'nls_koi8_u': Resource temporarily unavailable", 1),
            forbid_regex(r"^nls_").of("lsmod"),
            forbid_regex(r"Internal error|Unable to handle kernel|BUG|WARNING|^insmod: can.t|request_module"),
            POWER_DOWN,
        ],
        timeout_s: 90,
        ..BASE
    },
    Case {
        // The charset's module is not in /lib/modules: modprobe finds
        // nothing (quietly, -q), load_nls looks again and gives NULL, and
        // nls_euc-jp's init fails with -EINVAL, as on Linux. Twice, with the
        // same memory before and after: nothing is left loaded, mapped or
        // held (the request's nesting slot included).
        name: "linux61_request_module_absent",
        mem_mb: 256,
        initrd: true,
        extra_files: REQUEST_MODULE_ABSENT_FILES,
        requires: Some(debian_package),
        input: &[
            "cat /proc/vmallocinfo",
            "insmod /debian/nls_euc-jp.ko",
            "lsmod",
            "cat /proc/vmallocinfo",
            "insmod /debian/nls_euc-jp.ko",
            "cat /proc/vmallocinfo",
            "poweroff",
        ],
        expect: &[
            count("insmod: can't insert '/debian/nls_euc-jp.ko': Invalid argument", 2),
            same_output("cat /proc/vmallocinfo"),
            forbid_regex(r"^nls_").of("lsmod"),
            forbid_regex(r"Internal error|Unable to handle kernel|BUG|WARNING|request_module"),
            POWER_DOWN,
        ],
        timeout_s: 90,
        ..BASE
    },
];

/// `linux61_request_module`'s files: the users under /debian, the charsets
/// they request where the in-kernel modprobe looks.
const REQUEST_MODULE_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "debian/nls_euc-jp.ko",
        contents: || crate::linux_modules::debian_module("nls_euc-jp.ko"),
    },
    ExtraFile {
        path: "debian/nls_koi8-ru.ko",
        contents: || crate::linux_modules::debian_module("nls_koi8-ru.ko"),
    },
    ExtraFile {
        path: "lib/modules/nls_cp932.ko",
        contents: || crate::linux_modules::debian_module("nls_cp932.ko"),
    },
    ExtraFile {
        path: "lib/modules/nls_koi8-u.ko",
        contents: || crate::linux_modules::debian_module("nls_koi8-u.ko"),
    },
];

/// `linux61_request_module_absent`'s: the user only.
const REQUEST_MODULE_ABSENT_FILES: &[ExtraFile] = &[ExtraFile {
    path: "debian/nls_euc-jp.ko",
    contents: || crate::linux_modules::debian_module("nls_euc-jp.ko"),
}];

/// A built sample module's bytes (`target/kobold/modules`, built and
/// signed before the cases' initramfs).
fn sample_module(name: &str) -> Vec<u8> {
    crate::workspace_root()
        .ok()
        .and_then(|r| std::fs::read(r.join(crate::modules::OUT_DIR).join(name)).ok())
        .unwrap_or_default()
}

/// `file` with one byte of its ELF part (before the signature) flipped.
fn flip_elf_byte(mut file: Vec<u8>) -> Vec<u8> {
    if let Ok((elf, _)) = kobold_loader::signature::split(&file) {
        let at = elf.len() / 2;
        if let Some(b) = file.get_mut(at) {
            *b ^= 0x01;
        }
    }
    file
}

/// The signature cases' modules: a signed sample with one flipped byte and
/// an unsigned one (`unsigned/` is left unsigned by the initramfs builder).
const SIG_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "sig/hello-flipped.ko",
        contents: || flip_elf_byte(sample_module("hello.ko")),
    },
    ExtraFile {
        path: "unsigned/hello.ko",
        contents: || {
            let f = sample_module("hello.ko");
            match kobold_loader::signature::split(&f) {
                Ok((elf, _)) => elf.to_vec(),
                Err(_) => f,
            }
        },
    },
];

/// Debian's crc7.ko, as shipped and with one byte changed.
const SIG_DEBIAN_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "debian/crc7.ko",
        contents: || crate::linux_modules::debian_module("crc7.ko"),
    },
    ExtraFile {
        path: "debian/crc7-flipped.ko",
        contents: || flip_elf_byte(crate::linux_modules::debian_module("crc7.ko")),
    },
];

/// The Debian modules `linux61_nls` loads.
const NLS_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "debian/nls_cp437.ko",
        contents: || crate::linux_modules::debian_module("nls_cp437.ko"),
    },
    ExtraFile {
        path: "debian/nls_utf8.ko",
        contents: || crate::linux_modules::debian_module("nls_utf8.ko"),
    },
    ExtraFile {
        path: "debian/nls_euc-jp.ko",
        contents: || crate::linux_modules::debian_module("nls_euc-jp.ko"),
    },
];

/// Debian's library modules and linuxcheck.ko, for `linuxcheck`: the
/// libraries from the package (when the case runs), linuxcheck.ko as
/// `cargo xtask test` built it (`crate::modules::build_linux61_modules`).
/// Also the files of the book's `debian` labs (`crate::labs`).
pub const LINUXCHECK_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "debian/crc7.ko",
        contents: || crate::linux_modules::debian_module("crc7.ko"),
    },
    ExtraFile {
        path: "debian/crc8.ko",
        contents: || crate::linux_modules::debian_module("crc8.ko"),
    },
    ExtraFile {
        path: "debian/crc16.ko",
        contents: || crate::linux_modules::debian_module("crc16.ko"),
    },
    ExtraFile {
        path: "debian/crc-itu-t.ko",
        contents: || crate::linux_modules::debian_module("crc-itu-t.ko"),
    },
    ExtraFile {
        path: "debian/crc64.ko",
        contents: || crate::linux_modules::debian_module("crc64.ko"),
    },
    ExtraFile {
        path: "debian/libcurve25519-generic.ko",
        contents: || crate::linux_modules::debian_module("libcurve25519-generic.ko"),
    },
    ExtraFile {
        path: "debian/libpoly1305.ko",
        contents: || crate::linux_modules::debian_module("libpoly1305.ko"),
    },
    ExtraFile {
        path: "debian/cifs_md4.ko",
        contents: || crate::linux_modules::debian_module("cifs_md4.ko"),
    },
    ExtraFile {
        path: "debian/libarc4.ko",
        contents: || crate::linux_modules::debian_module("libarc4.ko"),
    },
    ExtraFile {
        path: "linux61/linuxcheck.ko",
        contents: || crate::modules::linux61_module("linuxcheck.ko"),
    },
];

/// devcheck.ko and the Debian modules of `linux61_devprintk`.
const DEVCHECK_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "linux61/devcheck.ko",
        contents: || crate::modules::linux61_module("devcheck.ko"),
    },
    ExtraFile {
        path: "debian/eeprom_93cx6.ko",
        contents: || crate::linux_modules::debian_module("eeprom_93cx6.ko"),
    },
    ExtraFile {
        path: "debian/as102_fe.ko",
        contents: || crate::linux_modules::debian_module("as102_fe.ko"),
    },
];

/// The NLS modules of `linux61_nls_pin`.
const NLS_PIN_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "debian/nls_cp932.ko",
        contents: || crate::linux_modules::debian_module("nls_cp932.ko"),
    },
    ExtraFile {
        path: "debian/nls_euc-jp.ko",
        contents: || crate::linux_modules::debian_module("nls_euc-jp.ko"),
    },
    ExtraFile {
        path: "debian/nls_koi8-u.ko",
        contents: || crate::linux_modules::debian_module("nls_koi8-u.ko"),
    },
    ExtraFile {
        path: "debian/nls_koi8-ru.ko",
        contents: || crate::linux_modules::debian_module("nls_koi8-ru.ko"),
    },
];

/// Debian's package, for `debian_modules`, `linuxcheck` and the `debian`
/// labs: `Err` says why it cannot be had.
pub fn debian_package() -> Result<(), String> {
    crate::linux_modules::package_for_tests().map(|_| ())
}

/// `tuner-types.ko` with its vermagic's `SMP` spelled `smp`: another
/// kernel's module as far as the vermagic check can tell.
fn tuner_types_smp() -> Vec<u8> {
    let mut f = crate::linux_modules::debian_module("tuner-types.ko");
    let from = b"vermagic=6.1.0-57-armmp SMP ";
    if let Some(at) = f.windows(from.len()).position(|w| w == from) {
        f[at + from.len() - 4..at + from.len() - 1].copy_from_slice(b"smp");
    }
    f
}

/// The Debian modules `debian_modules` loads (read from the package when
/// the case runs).
const DEBIAN_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "debian/tuner-types.ko",
        contents: || crate::linux_modules::debian_module("tuner-types.ko"),
    },
    ExtraFile {
        path: "debian/usbnet.ko",
        contents: || crate::linux_modules::debian_module("usbnet.ko"),
    },
    ExtraFile {
        path: "debian/tuner-types-smp.ko",
        contents: tuner_types_smp,
    },
];

/// The cases whose name contains `filter` (all of them for `None`).
pub fn select(filter: Option<&str>) -> Vec<&'static Case> {
    CASES
        .iter()
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .collect()
}

/// Debian's lnbp21.ko and i2ccheck.ko (built by `cargo xtask test`), for
/// `linux61_i2c`.
const I2C_FILES: &[ExtraFile] = &[
    ExtraFile {
        path: "debian/lnbp21.ko",
        contents: || crate::linux_modules::debian_module("lnbp21.ko"),
    },
    ExtraFile {
        path: "linux61/i2ccheck.ko",
        contents: || crate::modules::linux61_module("i2ccheck.ko"),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MEM_MB_RANGE;

    #[test]
    fn table_is_well_formed() {
        let mut names = std::collections::HashSet::new();
        for case in CASES {
            assert!(names.insert(case.name), "duplicate case name {}", case.name);
            assert!(
                !case.name.is_empty() && !case.input.is_empty(),
                "{}",
                case.name
            );
            assert!(MEM_MB_RANGE.contains(&case.mem_mb), "{}", case.name);
            assert!(
                case.initrd || case.extra_files.is_empty(),
                "{}: extra files need the initramfs",
                case.name
            );
            for check in case.expect {
                // Placeholders only in computed checks (elsewhere they would
                // be matched literally), each well-formed.
                let keys = std::cell::RefCell::new(Vec::new());
                let dummy = |key: &str| {
                    keys.borrow_mut().push(key.to_string());
                    crate::figures::check_syntax(key).map(|()| "0".to_string())
                };
                for s in check.expected() {
                    let filled = crate::harness::fill_placeholders(s, &dummy)
                        .unwrap_or_else(|e| panic!("{}: `{s}`: {e}", case.name));
                    if check.regexes().contains(&s) {
                        regex::Regex::new(&filled)
                            .unwrap_or_else(|e| panic!("{}: /{s}/: {e}", case.name));
                    }
                }
                assert_eq!(
                    check.computed,
                    !keys.borrow().is_empty(),
                    "{}: {check:?}: placeholders need .computed(), and .computed() needs placeholders",
                    case.name
                );
                if let crate::harness::Scope::Output(cmd) = check.scope {
                    assert!(
                        case.input.contains(&cmd),
                        "{}: checks output of untyped `{cmd}`",
                        case.name
                    );
                    assert!(
                        !case.type_ahead,
                        "{}: typed-ahead input has no per-command output",
                        case.name
                    );
                }
                if let crate::harness::Match::SameOutput(cmd) = check.matcher {
                    assert!(
                        case.input.iter().filter(|&&c| c == cmd).count() >= 2 && !case.type_ahead,
                        "{}: `{cmd}` must be typed at least twice to compare",
                        case.name
                    );
                }
            }
        }
    }

    #[test]
    fn filter() {
        assert_eq!(select(None).len(), CASES.len());
        let oops: Vec<&str> = select(Some("oops_")).iter().map(|c| c.name).collect();
        assert_eq!(
            oops,
            [
                "oops_module_text_write",
                "oops_module_ro_after_init",
                "oops_module_data_exec",
                "oops_write_kern",
                "oops_vmalloc_guard",
                "oops_null",
                "oops_unmapped_write",
                "oops_access_unmapped",
                "oops_undefined"
            ]
        );
    }

    #[test]
    fn generated_files() {
        let r = random_4700k();
        assert_eq!(r.len(), 4_700_000);
        assert_ne!(&r[..4], b"\x7fELF");
        assert_eq!(r, random_4700k(), "the same bytes every run");
        let t = straddling_text();
        assert_eq!(t.len(), 4114);
        assert_eq!(&t[4095..4097], "\u{e9}".as_bytes());
        assert!(POWEROFF_TOO_LONG.len() > 256);
        assert!(POWEROFF_TOO_LONG[..256].trim() == "poweroff");
    }

    #[test]
    fn layout_lines_have_linux_format() {
        // "    %-8s: 0x%08lx - 0x%08lx   (%4ld MB)" etc., as a sanity check
        // on the hand-written expectations.
        let re = regex::Regex::new(
            r"^    [a-z]{5,7} *: 0x[0-9a-f]{8} - 0x[0-9a-f]{8}   \([ \d]{3}\d (kB|MB)\)$",
        )
        .unwrap();
        for case in CASES {
            for check in case.expect {
                if let crate::harness::Match::Block(lines) = check.matcher
                    && lines.first() == Some(&LAYOUT)
                {
                    for l in &lines[1..] {
                        assert!(re.is_match(l), "{}: `{l}`", case.name);
                        assert_eq!(l.find(':'), Some(12), "{}: `{l}`", case.name);
                    }
                }
            }
        }
        assert_eq!(VECTOR.len(), MODULES_HIGHMEM.len());
    }
}
