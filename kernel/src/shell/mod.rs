//! Kobold's shell: a prompt on the serial console and a handful of
//! busybox-style commands.
//!
//! The command logic is separate from the hardware: [`execute`] takes a
//! [`Platform`] that performs the actions (read a /proc file, touch physical
//! memory, power off). The kernel implements it for real; the unit tests with
//! a fake, so every command and error message is tested on the host.
//!
//! Errors follow busybox's wording (`sh: foo: not found`, `devmem: invalid
//! number 'x'`, `cat: /x: No such file or directory`) and never stop the
//! shell.
pub mod devmem;
pub mod line;
pub mod modules;

use crate::errno::Errno;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

/// The prompt, busybox ash's for root in `/`.
pub const PROMPT: &str = "/ # ";

/// Ways `provoke-crash` can crash the kernel on purpose (names after Linux's
/// lkdtm, drivers/misc/lkdtm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashKind {
    /// `panic()`.
    Panic,
    /// Read from virtual address 0.
    AccessNull,
    /// Write to virtual address 0 (lkdtm's EXCEPTION).
    Exception,
    /// Read from an unmapped kernel address (0xfef00000, in the vmalloc
    /// range, never mapped).
    AccessUnmapped,
    /// Execute a permanently undefined instruction.
    Undefined,
    /// Write to kernel text, which is read-only after boot.
    WriteKern,
    /// Write one byte past the end of a vmalloc area, into its guard page.
    VmallocGuard,
}

impl CrashKind {
    pub const ALL: [(&'static str, CrashKind); 7] = [
        ("PANIC", CrashKind::Panic),
        ("ACCESS_NULL", CrashKind::AccessNull),
        ("EXCEPTION", CrashKind::Exception),
        ("ACCESS_UNMAPPED", CrashKind::AccessUnmapped),
        ("UNDEFINED", CrashKind::Undefined),
        ("WRITE_KERN", CrashKind::WriteKern),
        ("VMALLOC_GUARD", CrashKind::VmallocGuard),
    ];

    /// The lkdtm-style name, e.g. `ACCESS_NULL`.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }

    pub fn parse(s: &str) -> Option<CrashKind> {
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|&(_, k)| k)
    }
}

/// What the shell needs from the kernel.
pub trait Platform {
    /// Writes the contents of a /proc file.
    fn proc_read(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno>;
    /// Writes the kernel log.
    fn dmesg(&mut self, out: &mut dyn Write);
    /// Reads (`write == None`) or writes a physical address.
    fn devmem(&mut self, req: devmem::Request) -> Result<u32, Errno>;
    /// Powers off; returns only if that failed.
    fn poweroff(&mut self);
    /// Resets the board; returns only if that failed.
    fn reboot(&mut self);
    /// Crashes the kernel as asked; returns only for an unsupported kind.
    fn provoke_crash(&mut self, kind: CrashKind);
    /// `vmalloc(size)`: a new area's address.
    fn vmalloc(&mut self, size: u32) -> Result<u32, Errno>;
    /// `vfree(addr)`.
    fn vfree(&mut self, addr: u32) -> Result<(), Errno>;
    /// Runs a built-in self-test and reports on `out`; Err if it failed.
    /// Runs self-test `name` with its arguments.
    fn selftest(&mut self, name: &str, args: &[&str], out: &mut dyn Write) -> Result<(), Errno>;
    /// Reads the translation-table entries for a virtual address.
    fn page_walk(&mut self, virt: u32) -> crate::mm::pgtable::PageWalk;
    /// A file of the rootfs (the unpacked initramfs).
    fn read_file(&mut self, path: &str) -> Result<Vec<u8>, Errno>;
    /// Writes the entries of a rootfs directory.
    fn list_dir(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno>;
    /// Loads a module; returns its name.
    fn insmod(&mut self, path: &str, bytes: &[u8], args: &[&str]) -> Result<String, Errno>;
    /// Unloads a module.
    fn rmmod(&mut self, name: &str) -> Result<(), Errno>;
    /// Writes `lsmod` output.
    fn lsmod(&mut self, out: &mut dyn Write) -> fmt::Result;
}

struct Command {
    name: &'static str,
    usage: &'static str,
    help: &'static str,
    run: fn(&[&str], &mut dyn Write, &mut dyn Platform) -> fmt::Result,
}

const COMMANDS: &[Command] = &[
    Command {
        name: "help",
        usage: "help",
        help: "list the commands",
        run: cmd_help,
    },
    Command {
        name: "cat",
        usage: "cat FILE...",
        help: "print files (/proc/modules, /proc/meminfo, /proc/vmallocinfo, ...)",
        run: cmd_cat,
    },
    Command {
        name: "dmesg",
        usage: "dmesg",
        help: "print the kernel log",
        run: cmd_dmesg,
    },
    Command {
        name: "devmem",
        usage: devmem::USAGE,
        help: "read/write a physical address (WIDTH 8, 16 or 32)",
        run: cmd_devmem,
    },
    Command {
        name: "vmalloc",
        usage: "vmalloc SIZE",
        help: "allocate SIZE bytes with vmalloc and keep them (see /proc/vmallocinfo, pt)",
        run: cmd_vmalloc,
    },
    Command {
        name: "vfree",
        usage: "vfree ADDR",
        help: "free an area made by vmalloc",
        run: cmd_vfree,
    },
    Command {
        name: "selftest",
        usage: "selftest heap|highmem|vmalloc|modules|modcycle|modbench|faultinject [MODULE]|soak [N [SEED]]",
        help: "exercise a subsystem and check it leaks nothing",
        run: cmd_selftest,
    },
    Command {
        name: "pt",
        usage: "pt VADDR",
        help: "walk the page tables for a virtual address and explain each entry",
        run: cmd_pt,
    },
    Command {
        name: "insmod",
        usage: "insmod FILE [SYMBOL=VALUE]...",
        help: "load a kernel module (try /lib/modules/hello.ko)",
        run: modules::cmd_insmod,
    },
    Command {
        name: "rmmod",
        usage: "rmmod MODULE...",
        help: "unload kernel modules",
        run: modules::cmd_rmmod,
    },
    Command {
        name: "lsmod",
        usage: "lsmod",
        help: "list the loaded modules",
        run: modules::cmd_lsmod,
    },
    Command {
        name: "modinfo",
        usage: "modinfo FILE",
        help: "show a module's .modinfo (license, parameters, ...)",
        run: modules::cmd_modinfo,
    },
    Command {
        name: "ls",
        usage: "ls [PATH]...",
        help: "list a directory of the initramfs",
        run: modules::cmd_ls,
    },
    Command {
        name: "poweroff",
        usage: "poweroff",
        help: "power the board off",
        run: cmd_poweroff,
    },
    Command {
        name: "reboot",
        usage: "reboot",
        help: "reset the board",
        run: cmd_reboot,
    },
    Command {
        name: "provoke-crash",
        usage: "provoke-crash PANIC|ACCESS_NULL|EXCEPTION|ACCESS_UNMAPPED|UNDEFINED|WRITE_KERN|VMALLOC_GUARD",
        help: "crash the kernel on purpose, to see an oops",
        run: cmd_provoke_crash,
    },
];

/// Runs one command line.
pub fn execute(line: &str, out: &mut dyn Write, platform: &mut dyn Platform) -> fmt::Result {
    let mut words = [""; 16];
    let mut n = 0;
    for w in line.split_ascii_whitespace() {
        if n == words.len() {
            return writeln!(out, "sh: too many arguments");
        }
        words[n] = w;
        n += 1;
    }
    let Some((&name, args)) = words[..n].split_first() else {
        return Ok(());
    };
    match COMMANDS.iter().find(|c| c.name == name) {
        Some(c) => (c.run)(args, out, platform),
        None => writeln!(out, "sh: {name}: not found"),
    }
}

fn cmd_help(_: &[&str], out: &mut dyn Write, _: &mut dyn Platform) -> fmt::Result {
    writeln!(out, "Kobold shell commands:")?;
    for c in COMMANDS {
        writeln!(out, "  {}\n      {}", c.usage, c.help)?;
    }
    Ok(())
}

fn cmd_cat(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    if args.is_empty() {
        return writeln!(out, "Usage: cat FILE...");
    }
    for path in args {
        let r = if path.starts_with("/proc/") {
            p.proc_read(path, out)
        } else {
            p.read_file(path).map(|bytes| {
                for chunk in bytes.utf8_chunks() {
                    let _ = out.write_str(chunk.valid());
                    if !chunk.invalid().is_empty() {
                        let _ = out.write_char('\u{fffd}');
                    }
                }
            })
        };
        if let Err(e) = r {
            writeln!(out, "cat: {path}: {e}")?;
        }
    }
    Ok(())
}

fn cmd_dmesg(_: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    p.dmesg(out);
    Ok(())
}

fn cmd_devmem(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let req = match devmem::parse(args) {
        Ok(r) => r,
        Err(e) => return writeln!(out, "{e}"),
    };
    match p.devmem(req) {
        Ok(v) if req.write.is_none() => writeln!(out, "{}", devmem::ReadResult(v, req.width)),
        Ok(_) => Ok(()),
        Err(e) => writeln!(out, "devmem: {:#010x}: {} ({})", req.phys, e, e.name()),
    }
}

fn cmd_vmalloc(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let [size] = args else {
        return writeln!(out, "Usage: vmalloc SIZE");
    };
    match devmem::parse_number(size).and_then(|v| u32::try_from(v).ok()) {
        Some(n) => match p.vmalloc(n) {
            Ok(addr) => writeln!(out, "{addr:#010x}"),
            Err(e) => writeln!(out, "vmalloc: {size}: {e} ({})", e.name()),
        },
        None => writeln!(out, "vmalloc: invalid size '{size}'"),
    }
}

fn cmd_vfree(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let [addr] = args else {
        return writeln!(out, "Usage: vfree ADDR");
    };
    match devmem::parse_number(addr).and_then(|v| u32::try_from(v).ok()) {
        Some(a) => match p.vfree(a) {
            Ok(()) => Ok(()),
            Err(e) => writeln!(out, "vfree: {addr}: {e} ({})", e.name()),
        },
        None => writeln!(out, "vfree: invalid address '{addr}'"),
    }
}

fn cmd_selftest(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let [name, rest @ ..] = args else {
        return writeln!(
            out,
            "Usage: selftest heap|highmem|vmalloc|modules|modcycle|modbench|faultinject [MODULE]|soak [N [SEED]]"
        );
    };
    match p.selftest(name, rest, out) {
        Ok(()) => writeln!(out, "selftest {name}: PASS"),
        Err(e) if e == Errno::ENOENT => writeln!(out, "selftest: unknown test '{name}'"),
        Err(e) => writeln!(out, "selftest {name}: FAIL ({})", e.name()),
    }
}

fn cmd_pt(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let [addr] = args else {
        return writeln!(out, "Usage: pt VADDR");
    };
    match devmem::parse_number(addr).and_then(|v| u32::try_from(v).ok()) {
        Some(virt) => crate::mm::pgtable::write_walk(out, &p.page_walk(virt)),
        None => writeln!(out, "pt: invalid address '{addr}'"),
    }
}

fn cmd_poweroff(_: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    p.poweroff();
    writeln!(out, "poweroff: the board did not power off")
}

fn cmd_reboot(_: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    p.reboot();
    writeln!(out, "reboot: the board did not reset")
}

fn cmd_provoke_crash(args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let usage = COMMANDS
        .iter()
        .find(|c| c.name == "provoke-crash")
        .map_or("", |c| c.usage);
    match args {
        [kind] => match CrashKind::parse(kind) {
            Some(k) => {
                p.provoke_crash(k);
                writeln!(out, "provoke-crash: {kind}: the kernel survived")
            }
            None => writeln!(
                out,
                "provoke-crash: unknown crash type '{kind}'\nUsage: {usage}"
            ),
        },
        _ => writeln!(out, "Usage: {usage}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Fake {
        mem: std::collections::HashMap<u32, u32>,
        log: Vec<String>,
    }

    impl Platform for Fake {
        fn proc_read(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno> {
            match path {
                "/proc/cmdline" => writeln!(out, "console=ttyAMA0").map_err(|_| Errno::EIO),
                _ => Err(Errno::ENOENT),
            }
        }
        fn dmesg(&mut self, out: &mut dyn Write) {
            let _ = out.write_str("[    0.000000] Booting Kobold\n");
        }
        fn devmem(&mut self, req: devmem::Request) -> Result<u32, Errno> {
            if req.phys == 0xdead_0000 {
                return Err(Errno::EFAULT);
            }
            match req.write {
                Some(v) => {
                    self.mem.insert(req.phys, v);
                    Ok(v)
                }
                None => Ok(*self.mem.get(&req.phys).unwrap_or(&0x1190_f500)),
            }
        }
        fn poweroff(&mut self) {
            self.log.push("poweroff".into());
        }
        fn reboot(&mut self) {
            self.log.push("reboot".into());
        }
        fn provoke_crash(&mut self, kind: CrashKind) {
            self.log.push(format!("{kind:?}"));
        }
        fn vmalloc(&mut self, size: u32) -> Result<u32, Errno> {
            if size == 0 {
                Err(Errno::EINVAL)
            } else {
                Ok(0xf000_0000)
            }
        }
        fn vfree(&mut self, addr: u32) -> Result<(), Errno> {
            if addr == 0xf000_0000 {
                Ok(())
            } else {
                Err(Errno::EINVAL)
            }
        }
        fn selftest(&mut self, name: &str, _: &[&str], out: &mut dyn Write) -> Result<(), Errno> {
            match name {
                "ok" => writeln!(out, "fine").map_err(|_| Errno::EIO),
                "bad" => Err(Errno::ENOMEM),
                _ => Err(Errno::ENOENT),
            }
        }
        fn page_walk(&mut self, virt: u32) -> crate::mm::pgtable::PageWalk {
            crate::mm::pgtable::PageWalk {
                virt,
                ttbr0: 0x6000_406a,
                l1: 0,
                l2: None,
            }
        }
        fn read_file(&mut self, path: &str) -> Result<Vec<u8>, Errno> {
            match path {
                "/lib/modules/hello.ko" => Ok(b"ELF".to_vec()),
                "/etc/motd" => Ok(b"hi\n".to_vec()),
                _ => Err(Errno::ENOENT),
            }
        }
        fn list_dir(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno> {
            match path {
                "/" => writeln!(out, "lib/").map_err(|_| Errno::EIO),
                _ => Err(Errno::ENOENT),
            }
        }
        fn insmod(&mut self, path: &str, _: &[u8], args: &[&str]) -> Result<String, Errno> {
            self.log.push(format!("insmod {path} {args:?}"));
            match args.first() {
                Some(&"bad=1") => Err(Errno::ENOEXEC),
                Some(&"x") => Err(Errno::ENOENT),
                _ => Ok("hello".into()),
            }
        }
        fn rmmod(&mut self, name: &str) -> Result<(), Errno> {
            match name {
                "hello" => Ok(()),
                "busy" => Err(Errno::EAGAIN),
                _ => Err(Errno::ENOENT),
            }
        }
        fn lsmod(&mut self, out: &mut dyn Write) -> fmt::Result {
            writeln!(out, "Module                  Size  Used by")
        }
    }

    fn run(p: &mut Fake, line: &str) -> String {
        let mut s = String::new();
        execute(line, &mut s, p).unwrap();
        s
    }

    #[test]
    fn commands_and_errors() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, ""), "");
        assert_eq!(run(&mut p, "   "), "");
        assert_eq!(run(&mut p, "nosuchcmd"), "sh: nosuchcmd: not found\n");
        assert_eq!(run(&mut p, "cat /proc/cmdline"), "console=ttyAMA0\n");
        assert_eq!(
            run(&mut p, "cat /nope"),
            "cat: /nope: No such file or directory\n"
        );
        assert_eq!(run(&mut p, "cat"), "Usage: cat FILE...\n");
        assert!(run(&mut p, "help").contains("devmem ADDRESS [WIDTH [VALUE]]"));
        assert_eq!(run(&mut p, "dmesg"), "[    0.000000] Booting Kobold\n");
        assert_eq!(run(&mut p, "devmem 0x10000000"), "0x1190F500\n");
        assert_eq!(run(&mut p, "devmem 0x6ff00000 32 0x12345678"), "");
        assert_eq!(run(&mut p, "devmem 0x6ff00000"), "0x12345678\n");
        assert_eq!(
            run(&mut p, "devmem junk"),
            "devmem: invalid number 'junk'\n"
        );
        assert_eq!(
            run(&mut p, "devmem"),
            "Usage: devmem ADDRESS [WIDTH [VALUE]]\n"
        );
        assert_eq!(
            run(&mut p, "devmem 0xdead0000"),
            "devmem: 0xdead0000: Bad address (EFAULT)\n"
        );
        assert!(run(&mut p, "provoke-crash").starts_with("Usage: provoke-crash"));
        assert!(
            run(&mut p, "provoke-crash BOGUS")
                .starts_with("provoke-crash: unknown crash type 'BOGUS'")
        );
        run(&mut p, "provoke-crash access_null");
        assert_eq!(
            run(&mut p, "poweroff"),
            "poweroff: the board did not power off\n"
        );
        assert_eq!(p.log, vec!["AccessNull", "poweroff"]);
        assert!(run(&mut p, "pt 0x1000").ends_with("fault: nothing is mapped in this megabyte\n"));
        assert_eq!(run(&mut p, "pt"), "Usage: pt VADDR\n");
        assert_eq!(run(&mut p, "selftest ok"), "fine\nselftest ok: PASS\n");
        assert_eq!(run(&mut p, "vmalloc 4096"), "0xf0000000\n");
        assert_eq!(
            run(&mut p, "vmalloc 0"),
            "vmalloc: 0: Invalid argument (EINVAL)\n"
        );
        assert_eq!(
            run(&mut p, "vmalloc lots"),
            "vmalloc: invalid size 'lots'\n"
        );
        assert_eq!(run(&mut p, "vfree 0xf0000000"), "");
        assert_eq!(
            run(&mut p, "vfree 0x1000"),
            "vfree: 0x1000: Invalid argument (EINVAL)\n"
        );
        assert_eq!(run(&mut p, "selftest bad"), "selftest bad: FAIL (ENOMEM)\n");
        assert_eq!(run(&mut p, "selftest zz"), "selftest: unknown test 'zz'\n");
        assert_eq!(run(&mut p, "pt zz"), "pt: invalid address 'zz'\n");
        assert_eq!(run(&mut p, "insmod /lib/modules/hello.ko count=3"), "");
        assert_eq!(
            run(&mut p, "insmod /nope.ko"),
            "insmod: can't open '/nope.ko': No such file or directory\n"
        );
        assert_eq!(
            run(&mut p, "insmod /lib/modules/hello.ko bad=1"),
            "insmod: can't insert '/lib/modules/hello.ko': invalid module format\n"
        );
        assert_eq!(
            run(&mut p, "insmod /lib/modules/hello.ko x"),
            "insmod: can't insert '/lib/modules/hello.ko': unknown symbol in module, or unknown parameter\n"
        );
        assert_eq!(
            run(&mut p, "insmod"),
            "Usage: insmod FILE [SYMBOL=VALUE]...\n"
        );
        assert_eq!(run(&mut p, "rmmod hello.ko"), "");
        assert_eq!(
            run(&mut p, "rmmod busy nosuch-mod"),
            "rmmod: can't unload module 'busy': Resource temporarily unavailable\n\
             rmmod: can't unload module 'nosuch_mod': No such file or directory\n"
        );
        assert_eq!(
            run(&mut p, "lsmod"),
            "Module                  Size  Used by\n"
        );
        assert_eq!(run(&mut p, "ls"), "lib/\n");
        assert_eq!(run(&mut p, "ls /x"), "ls: /x: No such file or directory\n");
        assert_eq!(run(&mut p, "cat /etc/motd"), "hi\n");
        assert_eq!(
            run(&mut p, "modinfo /lib/modules/hello.ko"),
            "modinfo: ERROR: /lib/modules/hello.ko: Module len 3 truncated\n"
        );
        let many = "x ".repeat(20);
        assert_eq!(run(&mut p, &many), "sh: too many arguments\n");
    }
}
