//! Kobold's shell: a prompt on the serial console and a handful of
//! busybox-style commands.
//!
//! The command logic is separate from the hardware: [`Shell::execute`] takes a
//! [`Platform`] that performs the actions (read a /proc file, touch physical
//! memory, power off). The kernel implements it for real; the unit tests with
//! a fake, so every command and error message is tested on the host.
//!
//! Errors follow busybox's wording (`sh: foo: not found`, `devmem: invalid
//! number 'x'`, `cat: /x: No such file or directory`) and never stop the
//! shell.
//!
//! A [`Shell`] keeps what a session owns: the areas its `vmalloc` command
//! made. `vfree` frees only those — as a user process can only `munmap` its
//! own mappings — so `vfree` of the console's ioremap, a module's memory or
//! any other kernel area is refused with `EINVAL` instead of silencing the
//! UART or pulling memory from under a live module.
pub mod devmem;
#[cfg(target_arch = "arm")]
pub mod kernel;
pub mod line;
pub mod modules;
pub mod pt;

use crate::errno::Errno;
use crate::module::ModName;
use crate::selftest::SelftestError;
use alloc::vec::Vec;
use core::fmt::{self, Write};

/// The prompt, busybox ash's for root in `/`; defined in kobold-common,
/// where xtask's harness finds it too.
pub use kobold_common::shell::PROMPT;

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

/// Why `insmod FILE` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsmodError {
    /// The file could not be read (busybox: `can't open`).
    Open(Errno),
    /// The kernel refused the module (busybox: `can't insert`).
    Insert(Errno),
}

/// What the shell needs from the kernel.
pub trait Platform {
    /// Writes the contents of a /proc or /sys file.
    fn proc_read(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno>;
    /// Writes the kernel log.
    fn dmesg(&mut self, out: &mut dyn Write);
    /// Empties the kernel log (`dmesg -c`).
    fn dmesg_clear(&mut self);
    /// Sets the console loglevel (`dmesg -n`).
    fn set_console_loglevel(&mut self, level: u8);
    /// Reads (`write == None`) or writes a physical address.
    fn devmem(&mut self, req: devmem::Request) -> Result<u32, Errno>;
    /// Powers off; returns only if that failed.
    fn poweroff(&mut self);
    /// The figures of /proc/meminfo (for `free`).
    fn meminfo(&mut self) -> crate::proc::MemInfo;
    /// Nanoseconds since reset (for `time`, `uptime`).
    fn now_ns(&mut self) -> u64 {
        crate::time::now_ns()
    }
    /// Resets the board; returns only if that failed.
    fn reboot(&mut self);
    /// Crashes the kernel as asked; returns only for an unsupported kind.
    fn provoke_crash(&mut self, kind: CrashKind);
    /// `vmalloc(size)`: a new area's address.
    fn vmalloc(&mut self, size: u32) -> Result<u32, Errno>;
    /// `vfree(addr)`.
    fn vfree(&mut self, addr: u32) -> Result<(), Errno>;
    /// Runs self-test `name` (one of [`crate::selftest::TESTS`]) with its
    /// arguments and reports on `out`; Err if it failed or does not exist.
    fn selftest(
        &mut self,
        name: &str,
        args: &[&str],
        out: &mut dyn Write,
    ) -> Result<(), SelftestError>;
    /// Reads the translation-table entries for a virtual address.
    fn page_walk(&mut self, virt: u32) -> crate::mm::pgtable::PageWalk;
    /// A loaded module's regions and permission groups (`pt --module`).
    fn module_map(&mut self, name: &str) -> Option<pt::ModuleMap>;
    /// Calls `f` once with a rootfs file's whole contents (mapped
    /// contiguously for the duration of the call).
    fn with_file(&mut self, path: &str, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno>;
    /// Calls `f` with a rootfs file's contents piece by piece, in order
    /// (page by page: nothing is mapped or copied as a whole).
    fn read_file_pages(&mut self, path: &str, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno>;
    /// Writes the entries of a rootfs directory.
    fn list_dir(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno>;
    /// Loads the module in rootfs file `path`; returns its name. With
    /// `flags.verbose` (`insmod -v`) every step of the link is logged;
    /// `flags.force` (`insmod -f`) loads past a `version magic` refusal
    /// and treats the module as unsigned.
    fn insmod(
        &mut self,
        path: &str,
        args: &[&str],
        flags: crate::module::LoadFlags,
    ) -> Result<ModName, InsmodError>;
    /// Unloads a module.
    fn rmmod(&mut self, name: &str) -> Result<(), Errno>;
    /// Writes `lsmod` output.
    fn lsmod(&mut self, out: &mut dyn Write) -> fmt::Result;
}

/// A command: the session, its arguments, where its output goes, the kernel.
type Run = fn(&mut Shell, &[&str], &mut dyn Write, &mut dyn Platform) -> fmt::Result;

struct Command {
    name: &'static str,
    usage: &'static str,
    help: &'static str,
    run: Run,
}

const COMMANDS: &[Command] = &[
    Command {
        name: "help",
        usage: "help [COMMAND]",
        help: "list the commands, or show one command's usage",
        run: cmd_help,
    },
    Command {
        name: "echo",
        usage: "echo [ARG]...",
        help: "print the arguments, separated by spaces",
        run: cmd_echo,
    },
    Command {
        name: "uptime",
        usage: "uptime",
        help: "how long the kernel has been up (Kobold has no load: 0.00)",
        run: cmd_uptime,
    },
    Command {
        name: "free",
        usage: "free",
        help: "memory in kB, from the counters of /proc/meminfo",
        run: cmd_free,
    },
    Command {
        name: "clear",
        usage: "clear",
        help: "clear the terminal screen",
        run: cmd_clear,
    },
    Command {
        name: "cat",
        usage: "cat FILE...",
        help: "print files (/proc/modules, /proc/meminfo, /proc/vmallocinfo, ...)",
        run: cmd_cat,
    },
    Command {
        name: "dmesg",
        usage: "dmesg [-c] [-n LEVEL]",
        help: "print the kernel log (-c: then clear it; -n: set the console loglevel, 1-8)",
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
        usage: crate::selftest::USAGE,
        help: "exercise a subsystem and check it leaks nothing",
        run: cmd_selftest,
    },
    Command {
        name: "pt",
        usage: "pt VADDR | pt START END|+LEN | pt --module NAME",
        help: "walk the page tables for an address; one line per page of a range or of a module's groups (and its guard pages)",
        run: pt::cmd_pt,
    },
    Command {
        name: "insmod",
        usage: "insmod [-v] FILE [SYMBOL=VALUE]...",
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
        name: "time",
        usage: "time COMMAND [ARG]...",
        help: "run a command and say how long it took (guest time)",
        run: cmd_time,
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

/// One shell session and what it owns.
#[derive(Debug, Default)]
pub struct Shell {
    /// Start addresses of the areas this session's `vmalloc` made and has
    /// not freed: the only ones its `vfree` may free.
    vmalloc_areas: Vec<u32>,
}

impl Shell {
    pub const fn new() -> Self {
        Shell {
            vmalloc_areas: Vec::new(),
        }
    }

    /// Runs one command line.
    pub fn execute(
        &mut self,
        line: &str,
        out: &mut dyn Write,
        platform: &mut dyn Platform,
    ) -> fmt::Result {
        let mut buf = [0u8; line::MAX_LINE];
        let mut spans = [(0, 0); 16];
        let n = match split_words(line, &mut buf, &mut spans) {
            Ok(n) => n,
            Err(WordsError::TooMany) => return writeln!(out, "sh: too many arguments"),
            Err(WordsError::TooLong) => return self.line_too_long(out),
            Err(WordsError::Unterminated) => {
                return writeln!(out, "sh: unterminated quoted string");
            }
        };
        // Cut only at ASCII bytes, so each word is whole UTF-8 (the spans
        // past `n` are empty). One loop over all the spans: filling an
        // array of `""` first was 32 stores for QEMU to translate.
        let words = spans.map(|(start, end)| {
            buf.get(start..end)
                .and_then(|b| core::str::from_utf8(b).ok())
                .unwrap_or("")
        });
        match words[..n].split_first() {
            Some((&name, args)) => self.run(name, args, out, platform),
            None => Ok(()),
        }
    }

    /// Runs command `name` with `args`.
    fn run(
        &mut self,
        name: &str,
        args: &[&str],
        out: &mut dyn Write,
        platform: &mut dyn Platform,
    ) -> fmt::Result {
        match COMMANDS.iter().find(|c| c.name == name) {
            Some(c) => (c.run)(self, args, out, platform),
            None => writeln!(out, "sh: {name}: not found"),
        }
    }

    /// Says why a line longer than [`line::MAX_LINE`] was not run.
    pub fn line_too_long(&mut self, out: &mut dyn Write) -> fmt::Result {
        writeln!(out, "sh: line too long (max {} characters)", line::MAX_LINE)
    }

    /// The areas made by `vmalloc` and not yet freed, oldest first.
    pub fn vmalloc_areas(&self) -> &[u32] {
        &self.vmalloc_areas
    }
}

/// Why a command line could not be split into words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WordsError {
    TooMany,
    TooLong,
    Unterminated,
}

/// Splits `line` into words as busybox ash does for double quotes (and as
/// Linux's `parse_args` does for `who="two words"`): whitespace separates
/// words except inside `"..."`, the quotes themselves are removed, and `""`
/// is an empty word. The words' bytes go to `buf`, their ranges to `spans`;
/// returns how many there are.
fn split_words(
    line: &str,
    buf: &mut [u8],
    spans: &mut [(usize, usize)],
) -> Result<usize, WordsError> {
    let (mut len, mut n, mut start) = (0, 0, None);
    let mut quoted = false;
    let mut end_word = |start: &mut Option<usize>, len: usize| -> Result<(), WordsError> {
        if let Some(s) = start.take() {
            *spans.get_mut(n).ok_or(WordsError::TooMany)? = (s, len);
            n += 1;
        }
        Ok(())
    };
    for &b in line.as_bytes() {
        if b == b'"' {
            quoted = !quoted;
            start.get_or_insert(len);
        } else if b.is_ascii_whitespace() && !quoted {
            end_word(&mut start, len)?;
        } else {
            start.get_or_insert(len);
            *buf.get_mut(len).ok_or(WordsError::TooLong)? = b;
            len += 1;
        }
    }
    if quoted {
        return Err(WordsError::Unterminated);
    }
    end_word(&mut start, len)?;
    Ok(n)
}

/// Writes bytes that arrive in pieces as text: valid UTF-8 as is, each
/// invalid sequence as U+FFFD (as `String::from_utf8_lossy` does), and a
/// character split between two pieces (a page boundary, for `cat`) whole.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    /// The start of a character whose remaining bytes are in the next piece.
    carry: [u8; 3],
    carried: usize,
}

/// The length a UTF-8 sequence starting with `lead` has (0: not a lead).
fn utf8_width(lead: u8) -> usize {
    match lead {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 0,
    }
}

impl Utf8Stream {
    /// Writes the next piece.
    pub fn write(&mut self, mut bytes: &[u8], out: &mut dyn Write) -> fmt::Result {
        if self.carried > 0 {
            let mut buf = [0u8; 4];
            buf[..self.carried].copy_from_slice(&self.carry[..self.carried]);
            let want = utf8_width(self.carry[0]).max(self.carried + 1);
            let take = (want - self.carried).min(bytes.len());
            buf[self.carried..self.carried + take].copy_from_slice(&bytes[..take]);
            let have = self.carried + take;
            match core::str::from_utf8(&buf[..have]) {
                Ok(s) => {
                    out.write_str(s)?;
                    self.carried = 0;
                    bytes = &bytes[take..];
                }
                // Still a valid beginning, and the piece is used up.
                Err(e) if e.error_len().is_none() && have < want => {
                    self.carry[..have].copy_from_slice(&buf[..have]);
                    self.carried = have;
                    return Ok(());
                }
                // Not a character after all: one replacement for the
                // longest invalid start (the carried bytes and any
                // continuation bytes of this piece); the rest is read afresh.
                Err(e) => {
                    out.write_char('\u{fffd}')?;
                    let used = e.error_len().unwrap_or(have).saturating_sub(self.carried);
                    bytes = bytes.get(used..).unwrap_or_default();
                    self.carried = 0;
                }
            }
        }
        let mut chunks = bytes.utf8_chunks().peekable();
        while let Some(chunk) = chunks.next() {
            out.write_str(chunk.valid())?;
            let bad = chunk.invalid();
            if bad.is_empty() {
                continue;
            }
            let incomplete = chunks.peek().is_none()
                && bad.len() < 4
                && core::str::from_utf8(bad).is_err_and(|e| e.error_len().is_none());
            if incomplete {
                self.carry[..bad.len()].copy_from_slice(bad);
                self.carried = bad.len();
            } else {
                out.write_char('\u{fffd}')?;
            }
        }
        Ok(())
    }

    /// Ends the text: a character left incomplete is replaced.
    pub fn finish(&mut self, out: &mut dyn Write) -> fmt::Result {
        if core::mem::take(&mut self.carried) > 0 {
            out.write_char('\u{fffd}')?;
        }
        Ok(())
    }
}

/// Tab completion's candidates (see [`mod@line`]): the commands' names, and a
/// directory's entries as `ls` lists them ([`Platform::list_dir`], one entry
/// a line, a file's size after two spaces), with `/proc` and `/sys` added to
/// `/`. Entries are cut out of the listing as it is written, in a fixed
/// buffer, and handed on one by one: nothing is collected.
pub struct Completer<'a>(pub &'a mut dyn Platform);

impl line::Complete for Completer<'_> {
    fn commands(&mut self, f: &mut dyn FnMut(&str)) {
        for c in COMMANDS {
            f(c.name);
        }
    }

    fn entries(&mut self, dir: &str, f: &mut dyn FnMut(&str)) {
        let root = dir.trim_end_matches('/').is_empty();
        let mut seen = [false; 2];
        let mut each = |name: &str| {
            for (seen, virt) in seen.iter_mut().zip(["proc/", "sys/"]) {
                *seen |= name == virt;
            }
            f(name);
        };
        let mut split = EntrySplitter {
            f: &mut each,
            buf: [0; 128],
            len: 0,
            cut: false,
        };
        let listed = self.0.list_dir(dir, &mut split);
        split.flush();
        if listed.is_ok() && root {
            for (seen, virt) in seen.into_iter().zip(["proc/", "sys/"]) {
                if !seen {
                    f(virt);
                }
            }
        }
    }
}

/// Cuts a directory listing into entry names (what comes before the first
/// two spaces of each line); over-long entries are skipped.
struct EntrySplitter<'a> {
    f: &'a mut dyn FnMut(&str),
    buf: [u8; 128],
    len: usize,
    /// The line being collected did not fit in `buf`.
    cut: bool,
}

impl EntrySplitter<'_> {
    fn flush(&mut self) {
        let line = self.buf.get(..self.len).unwrap_or_default();
        let name = line
            .windows(2)
            .position(|w| w == b"  ")
            .map_or(line, |i| line.get(..i).unwrap_or_default());
        if !self.cut
            && !name.is_empty()
            && let Ok(name) = core::str::from_utf8(name)
        {
            (self.f)(name);
        }
        self.len = 0;
        self.cut = false;
    }
}

impl Write for EntrySplitter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if b == b'\n' {
                self.flush();
            } else if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            } else {
                self.cut = true;
            }
        }
        Ok(())
    }
}

/// `help` lists every command; `help CMD` shows one (as bash's `help CMD`;
/// busybox prints the same `Usage:` text for `CMD --help`).
fn cmd_help(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    _: &mut dyn Platform,
) -> fmt::Result {
    match args {
        [] => {}
        [name] => {
            return match COMMANDS.iter().find(|c| c.name == *name) {
                Some(c) => writeln!(
                    out,
                    "Usage: {}
\n{}",
                    c.usage, c.help
                ),
                None => writeln!(out, "help: no such command '{name}'"),
            };
        }
        _ => return writeln!(out, "Usage: help [COMMAND]"),
    }
    writeln!(out, "Kobold shell commands:")?;
    for c in COMMANDS {
        writeln!(out, "  {}\n      {}", c.usage, c.help)?;
    }
    Ok(())
}

/// busybox's `echo` without options: the arguments joined by one space.
fn cmd_echo(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    _: &mut dyn Platform,
) -> fmt::Result {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.write_char(' ')?;
        }
        out.write_str(a)?;
    }
    out.write_char('\n')
}

/// busybox's `uptime`: ` HH:MM:SS up [D days, ]{H:MM|M min},  load average:
/// ...`. Kobold has no RTC, so — as Linux without one, whose clock starts at
/// the epoch — the time of day is the time since boot; it has no run queue
/// to average, so the load is 0.00. The time is /proc/uptime's source.
fn cmd_uptime(_: &mut Shell, _: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let up = p.now_ns() / 1_000_000_000;
    let (days, hours, mins, secs) = (up / 86_400, up / 3600 % 24, up / 60 % 60, up % 60);
    write!(out, " {hours:02}:{mins:02}:{secs:02} up ")?;
    if days > 0 {
        write!(out, "{days} day{}, ", if days == 1 { "" } else { "s" })?;
    }
    if hours > 0 {
        write!(out, "{hours:2}:{mins:02}")?;
    } else {
        write!(out, "{mins} min")?;
    }
    writeln!(out, ",  load average: 0.00, 0.00, 0.00")
}

/// busybox's `free` (kB): total and free are MemTotal and MemFree; Kobold
/// has no shared memory, page cache or swap, so those are 0 and available
/// is what is free.
fn cmd_free(_: &mut Shell, _: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    let m = p.meminfo();
    let used = m.total_kb.saturating_sub(m.free_kb);
    writeln!(
        out,
        "       {:>12}{:>12}{:>12}{:>12}{:>12}{:>12}",
        "total", "used", "free", "shared", "buff/cache", "available"
    )?;
    writeln!(
        out,
        "Mem:   {:>12}{:>12}{:>12}{:>12}{:>12}{:>12}",
        m.total_kb, used, m.free_kb, 0, 0, m.free_kb
    )?;
    writeln!(out, "Swap:  {:>12}{:>12}{:>12}", 0, 0, 0)
}

/// `clear`: cursor home, erase the screen (the ANSI sequences busybox's
/// `clear` writes).
fn cmd_clear(_: &mut Shell, _: &[&str], out: &mut dyn Write, _: &mut dyn Platform) -> fmt::Result {
    out.write_str("\x1b[H\x1b[2J")
}

fn cmd_cat(_: &mut Shell, args: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    if args.is_empty() {
        return writeln!(out, "Usage: cat FILE...");
    }
    for path in args {
        let r = if path.starts_with("/proc/") || path.starts_with("/sys/") {
            p.proc_read(path, out)
        } else {
            let mut text = Utf8Stream::default();
            let r = p.read_file_pages(path, &mut |piece| {
                let _ = text.write(piece, out);
            });
            let _ = text.finish(out);
            r
        };
        if let Err(e) = r {
            writeln!(out, "cat: {path}: {e}")?;
        }
    }
    Ok(())
}

/// busybox's `dmesg [-c] [-n LEVEL]`: `-n` only sets the console loglevel
/// (messages of a lower level reach the console); `-c` prints, then clears.
fn cmd_dmesg(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    match args {
        [] => p.dmesg(out),
        ["-c"] => {
            p.dmesg(out);
            p.dmesg_clear();
        }
        ["-n", level] => match level.parse::<u8>() {
            Ok(n @ 1..=8) => p.set_console_loglevel(n),
            _ => return writeln!(out, "dmesg: invalid level '{level}' (1 to 8)"),
        },
        _ => return writeln!(out, "Usage: dmesg [-c] [-n LEVEL]"),
    }
    Ok(())
}

fn cmd_devmem(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
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

fn cmd_vmalloc(
    sh: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    let [size] = args else {
        return writeln!(out, "Usage: vmalloc SIZE");
    };
    let Some(n) = devmem::parse_number(size).and_then(|v| u32::try_from(v).ok()) else {
        return writeln!(out, "vmalloc: invalid size '{size}'");
    };
    // Room to remember the area first: an area the shell could not record
    // could never be freed.
    let r = sh
        .vmalloc_areas
        .try_reserve(1)
        .map_err(|_| Errno::ENOMEM)
        .and_then(|()| p.vmalloc(n));
    match r {
        Ok(addr) => {
            sh.vmalloc_areas.push(addr); // within the capacity reserved
            writeln!(out, "{addr:#010x}")
        }
        Err(e) => writeln!(out, "vmalloc: {size}: {e} ({})", e.name()),
    }
}

fn cmd_vfree(
    sh: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    let [addr] = args else {
        return writeln!(out, "Usage: vfree ADDR");
    };
    let Some(a) = devmem::parse_number(addr).and_then(|v| u32::try_from(v).ok()) else {
        return writeln!(out, "vfree: invalid address '{addr}'");
    };
    // Only an area this shell's vmalloc made: never the console's ioremap,
    // a module's memory or any other kernel area.
    let r = match sh.vmalloc_areas.iter().position(|&x| x == a) {
        Some(i) => p.vfree(a).map(|()| {
            sh.vmalloc_areas.swap_remove(i);
        }),
        None => Err(Errno::EINVAL),
    };
    match r {
        Ok(()) => Ok(()),
        Err(e) => writeln!(out, "vfree: {addr}: {e} ({})", e.name()),
    }
}

/// busybox's `time`: runs the command, then prints the elapsed time in
/// its format. Everything runs in the kernel, so it is all `sys` time.
fn cmd_time(
    sh: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    let Some((&name, rest)) = args.split_first() else {
        return writeln!(out, "Usage: time COMMAND [ARG]...");
    };
    let start = p.now_ns();
    sh.run(name, rest, out, p)?;
    let ns = p.now_ns().saturating_sub(start);
    let (centis, mins) = (ns / 10_000_000 % 6000, ns / 60_000_000_000);
    writeln!(out, "real\t{mins}m {}.{:02}s", centis / 100, centis % 100)?;
    writeln!(out, "user\t0m 0.00s")?;
    writeln!(out, "sys\t{mins}m {}.{:02}s", centis / 100, centis % 100)
}

fn cmd_selftest(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    let [name, rest @ ..] = args else {
        return writeln!(out, "Usage: {}", crate::selftest::USAGE);
    };
    match p.selftest(name, rest, out) {
        Ok(()) => writeln!(out, "selftest {name}: PASS"),
        Err(SelftestError::UnknownTest) => writeln!(out, "selftest: unknown test '{name}'"),
        Err(SelftestError::Usage) => match crate::selftest::find(name) {
            Some(t) => writeln!(out, "Usage: selftest {}{}", t.name, t.args),
            None => writeln!(out, "Usage: {}", crate::selftest::USAGE),
        },
        Err(e) => writeln!(out, "selftest {name}: FAIL ({e})"),
    }
}

fn cmd_poweroff(
    _: &mut Shell,
    _: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    p.poweroff();
    writeln!(out, "poweroff: the board did not power off")
}

fn cmd_reboot(_: &mut Shell, _: &[&str], out: &mut dyn Write, p: &mut dyn Platform) -> fmt::Result {
    p.reboot();
    writeln!(out, "reboot: the board did not reset")
}

fn cmd_provoke_crash(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
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
        next_area: u32,
        /// The clock: each reading advances it by `tick` ns.
        clock: u64,
        tick: u64,
    }

    impl Fake {
        fn file(path: &str) -> Result<&'static [u8], Errno> {
            match path {
                "/lib/modules/hello.ko" => Ok(b"ELF"),
                "/etc/motd" => Ok(b"hi\n"),
                "/etc/utf8" => Ok("gr\u{fc}\u{df}e \u{2014} \u{1f980}\n".as_bytes()),
                "/lib/modules" => Err(Errno::EISDIR),
                _ => Err(Errno::ENOENT),
            }
        }
    }

    impl Platform for Fake {
        fn proc_read(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno> {
            match path {
                "/proc/cmdline" => writeln!(out, "console=ttyAMA0").map_err(|_| Errno::EIO),
                _ => Err(Errno::ENOENT),
            }
        }
        fn dmesg(&mut self, out: &mut dyn Write) {
            if !self.log.iter().any(|l| l == "dmesg cleared") {
                let _ = out.write_str("[    0.000000] Booting Kobold\n");
            }
        }
        fn dmesg_clear(&mut self) {
            self.log.push("dmesg cleared".into());
        }
        fn set_console_loglevel(&mut self, level: u8) {
            self.log.push(format!("console loglevel {level}"));
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
        fn meminfo(&mut self) -> crate::proc::MemInfo {
            crate::proc::MemInfo {
                total_kb: 1_031_000,
                free_kb: 1_020_000,
                ..Default::default()
            }
        }
        fn now_ns(&mut self) -> u64 {
            self.clock += self.tick;
            self.clock
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
                self.next_area += 0x1000;
                Ok(0xf000_0000 + self.next_area)
            }
        }
        fn vfree(&mut self, addr: u32) -> Result<(), Errno> {
            self.log.push(format!("vfree {addr:#x}"));
            Ok(())
        }
        fn selftest(
            &mut self,
            name: &str,
            _: &[&str],
            out: &mut dyn Write,
        ) -> Result<(), SelftestError> {
            match name {
                "ok" => writeln!(out, "fine").map_err(|_| Errno::EIO.into()),
                "bad" => Err(Errno::ENOMEM.into()),
                "soak" => Err(SelftestError::Usage),
                "modcycle" => Err(SelftestError::File {
                    module: ModName::new("hello").unwrap(),
                    errno: Errno::ENOENT,
                }),
                "leaky" => Err(SelftestError::Failed("counters moved")),
                _ => Err(SelftestError::UnknownTest),
            }
        }
        fn page_walk(&mut self, virt: u32) -> crate::mm::pgtable::PageWalk {
            use crate::mm::pgtable::{Prot, small_page};
            // The fake module "hello": text RX at 0xbf000000, data RW at
            // 0xbf001000, nothing after; nothing else is mapped.
            let l2 = match virt >> 12 {
                0xbf000 => Some(small_page(0x6100_0000, Prot::KERNEL_RX)),
                0xbf001 => Some(small_page(0x6100_1000, Prot::KERNEL_RW)),
                0xbf002 => Some(0),
                _ => None,
            };
            crate::mm::pgtable::PageWalk {
                virt,
                ttbr0: 0x6000_406a,
                l1: if l2.is_some() { 0x6000_0001 } else { 0 },
                l2,
            }
        }
        fn module_map(&mut self, name: &str) -> Option<super::pt::ModuleMap> {
            use kobold_loader::layout::{Group, Region};
            (name == "hello").then(|| {
                super::pt::ModuleMap::new(
                    (0xbf00_0000, 0x2000),
                    None,
                    &[
                        (Region::Core, Group::Text, 0, 0x100),
                        (Region::Core, Group::Data, 0x1000, 0x1004),
                    ],
                )
            })
        }
        fn with_file(&mut self, path: &str, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
            f(Self::file(path)?);
            Ok(())
        }
        fn read_file_pages(&mut self, path: &str, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
            // Tiny "pages", so characters straddle them.
            Self::file(path)?.chunks(3).for_each(f);
            Ok(())
        }
        fn list_dir(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno> {
            match path {
                "/" => writeln!(out, "lib/").map_err(|_| Errno::EIO),
                "/lib/modules" => write!(out, "hello.ko  (3 bytes)\nhelper.ko  (3 bytes)\n")
                    .map_err(|_| Errno::EIO),
                _ => Err(Errno::ENOENT),
            }
        }
        fn insmod(
            &mut self,
            path: &str,
            args: &[&str],
            flags: crate::module::LoadFlags,
        ) -> Result<ModName, InsmodError> {
            let v = match (flags.verbose, flags.force) {
                (true, true) => "-v -f ",
                (true, false) => "-v ",
                (false, true) => "-f ",
                (false, false) => "",
            };
            self.log.push(format!("insmod {v}{path} {args:?}"));
            Self::file(path).map_err(InsmodError::Open)?;
            match args.first() {
                Some(&"bad=1") => Err(InsmodError::Insert(Errno::ENOEXEC)),
                Some(&"x") => Err(InsmodError::Insert(Errno::ENOENT)),
                _ => Ok(ModName::new("hello").unwrap()),
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
        run_in(&mut Shell::new(), p, line)
    }

    fn run_in(sh: &mut Shell, p: &mut Fake, line: &str) -> String {
        let mut s = String::new();
        sh.execute(line, &mut s, p).unwrap();
        s
    }

    #[test]
    fn time_runs_the_command_and_prints_busybox_format() {
        let mut p = Fake {
            tick: 61_234_000_000,
            ..Fake::default()
        };
        let mut sh = Shell::new();
        assert_eq!(
            run_in(&mut sh, &mut p, "time cat /proc/cmdline"),
            "console=ttyAMA0\nreal\t1m 1.23s\nuser\t0m 0.00s\nsys\t1m 1.23s\n"
        );
        assert_eq!(
            run_in(&mut sh, &mut p, "time nosuch"),
            "sh: nosuch: not found\nreal\t1m 1.23s\nuser\t0m 0.00s\nsys\t1m 1.23s\n"
        );
        assert_eq!(
            run_in(&mut sh, &mut p, "time"),
            "Usage: time COMMAND [ARG]...\n"
        );
    }

    #[test]
    fn vfree_frees_only_the_shells_own_areas() {
        let mut p = Fake::default();
        let mut sh = Shell::new();
        assert_eq!(run_in(&mut sh, &mut p, "vmalloc 4096"), "0xf0001000\n");
        assert_eq!(run_in(&mut sh, &mut p, "vmalloc 8192"), "0xf0002000\n");
        assert_eq!(sh.vmalloc_areas(), [0xf000_1000, 0xf000_2000]);
        // Kernel areas (the console's ioremap, a module), an address inside
        // an area, garbage: refused without reaching the kernel.
        for addr in ["0xd0800000", "0xbf000000", "0xf0001004", "0", "0xffffffff"] {
            assert_eq!(
                run_in(&mut sh, &mut p, &format!("vfree {addr}")),
                format!("vfree: {addr}: Invalid argument (EINVAL)\n")
            );
        }
        assert!(p.log.is_empty(), "{:?}", p.log);
        assert_eq!(run_in(&mut sh, &mut p, "vfree 0xf0001000"), "");
        assert_eq!(p.log, ["vfree 0xf0001000"]);
        // Freed once: a second vfree is refused.
        assert_eq!(
            run_in(&mut sh, &mut p, "vfree 0xf0001000"),
            "vfree: 0xf0001000: Invalid argument (EINVAL)\n"
        );
        assert_eq!(sh.vmalloc_areas(), [0xf000_2000]);
        // Another session owns nothing.
        assert_eq!(
            run(&mut p, "vfree 0xf0002000"),
            "vfree: 0xf0002000: Invalid argument (EINVAL)\n"
        );
        assert_eq!(run_in(&mut sh, &mut p, "vfree 0xf0002000"), "");
        assert!(sh.vmalloc_areas().is_empty());
        assert_eq!(
            run_in(&mut sh, &mut p, "vfree nope"),
            "vfree: invalid address 'nope'\n"
        );
    }

    #[test]
    fn line_too_long_message() {
        let mut s = String::new();
        Shell::new().line_too_long(&mut s).unwrap();
        assert_eq!(s, "sh: line too long (max 256 characters)\n");
    }

    #[test]
    fn cat_reassembles_characters_across_pages() {
        let mut p = Fake::default();
        assert_eq!(
            run(&mut p, "cat /etc/utf8"),
            "gr\u{fc}\u{df}e \u{2014} \u{1f980}\n"
        );
        assert_eq!(
            run(&mut p, "cat /lib/modules"),
            "cat: /lib/modules: Is a directory\n"
        );
    }

    /// Splitting bytes anywhere gives what decoding them whole gives.
    #[test]
    fn utf8_stream_matches_lossy_decoding() {
        let samples: Vec<Vec<u8>> = vec![
            "a\u{e9}\u{20ac}\u{1f980}z".into(),
            b"\xff\xc3(\xe2\x82\xf0\x9f\x98x\xed\xa0\x80\xe0\x80\xc3".to_vec(),
            b"\xf0\x90A\xe0\xa0\xc2\xc2\xa9\xf4\x90\x80\x80".to_vec(),
        ];
        let mut seed = 0x2545_f491u32;
        let mut random = Vec::new();
        for _ in 0..400 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            // Mostly high bytes, so sequences of every kind appear.
            random.push([0x41, 0x80, 0xbf, 0xc3, 0xe2, 0xf0, 0x9f, 0xa9][(seed % 8) as usize]);
        }
        for bytes in samples.iter().chain([&random]) {
            let want = String::from_utf8_lossy(bytes);
            for piece in 1..=5 {
                let mut got = String::new();
                let mut st = Utf8Stream::default();
                for chunk in bytes.chunks(piece) {
                    st.write(chunk, &mut got).unwrap();
                }
                st.finish(&mut got).unwrap();
                assert_eq!(got, want, "pieces of {piece}: {bytes:x?}");
            }
            for cut in 0..=bytes.len() {
                let mut got = String::new();
                let mut st = Utf8Stream::default();
                st.write(&bytes[..cut], &mut got).unwrap();
                st.write(&[], &mut got).unwrap();
                st.write(&bytes[cut..], &mut got).unwrap();
                st.finish(&mut got).unwrap();
                assert_eq!(got, want, "cut at {cut}: {bytes:x?}");
            }
        }
    }

    #[test]
    fn blank_lines_print_nothing() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, ""), "");
        assert_eq!(run(&mut p, "   "), "");
    }

    #[test]
    fn unknown_commands_and_too_many_arguments() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "nosuchcmd"), "sh: nosuchcmd: not found\n");
        let many = "x ".repeat(20);
        assert_eq!(run(&mut p, &many), "sh: too many arguments\n");
    }

    #[test]
    fn cat_prints_files_and_proc_and_names_errors() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "cat /proc/cmdline"), "console=ttyAMA0\n");
        assert_eq!(run(&mut p, "cat /etc/motd"), "hi\n");
        assert_eq!(
            run(&mut p, "cat /nope"),
            "cat: /nope: No such file or directory\n"
        );
        assert_eq!(run(&mut p, "cat"), "Usage: cat FILE...\n");
    }

    #[test]
    fn help_shows_usages() {
        let mut p = Fake::default();
        assert!(run(&mut p, "help").contains("devmem ADDRESS [WIDTH [VALUE]]"));
    }

    #[test]
    fn double_quotes_make_one_word() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "echo \"a  b\"   c"), "a  b c\n");
        assert_eq!(run(&mut p, "echo x\"y z\"w"), "xy zw\n");
        assert_eq!(run(&mut p, "echo \"\" end"), " end\n");
        assert_eq!(run(&mut p, "echo \"gr\u{fc}\u{df}e\""), "gr\u{fc}\u{df}e\n");
        assert_eq!(
            run(
                &mut p,
                "insmod /lib/modules/hello.ko who=\"two words\" count=2"
            ),
            ""
        );
        assert_eq!(
            p.log.last().map(String::as_str),
            Some("insmod /lib/modules/hello.ko [\"who=two words\", \"count=2\"]")
        );
        assert_eq!(
            run(&mut p, "echo \"oops"),
            "sh: unterminated quoted string\n"
        );
        assert_eq!(run(&mut p, "\""), "sh: unterminated quoted string\n");
        // Sixteen words fit, even quoted; a seventeenth does not.
        let sixteen = "\"a b\" ".repeat(16);
        assert_eq!(
            run(&mut p, &format!("echo {}", &sixteen[6..])),
            format!("{}\n", ["a b"; 15].join(" "))
        );
        assert_eq!(
            run(&mut p, &format!("echo {sixteen}")),
            "sh: too many arguments\n"
        );
        let long = "x".repeat(line::MAX_LINE + 1);
        assert_eq!(
            run(&mut p, &long),
            "sh: line too long (max 256 characters)\n"
        );
    }

    #[test]
    fn help_shows_one_command() {
        let mut p = Fake::default();
        assert_eq!(
            run(&mut p, "help free"),
            "Usage: free\n\nmemory in kB, from the counters of /proc/meminfo\n"
        );
        assert!(run(&mut p, "help devmem").starts_with("Usage: devmem ADDRESS [WIDTH [VALUE]]\n"));
        assert_eq!(run(&mut p, "help x"), "help: no such command 'x'\n");
        assert_eq!(run(&mut p, "help a b"), "Usage: help [COMMAND]\n");
        // Every command listed has its own help.
        for c in COMMANDS {
            assert!(run(&mut p, &format!("help {}", c.name)).starts_with("Usage: "));
        }
    }

    #[test]
    fn echo_uptime_free_clear() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "echo"), "\n");
        assert_eq!(run(&mut p, "echo a   b c"), "a b c\n");
        assert_eq!(run(&mut p, "clear"), "\x1b[H\x1b[2J");
        let uptime = |ns: u64| {
            let mut p = Fake {
                tick: ns,
                ..Fake::default()
            };
            run(&mut p, "uptime")
        };
        assert_eq!(
            uptime(12_990_000_000),
            " 00:00:12 up 0 min,  load average: 0.00, 0.00, 0.00\n"
        );
        assert_eq!(
            uptime((3600 * 5 + 60 * 7 + 3) * 1_000_000_000),
            " 05:07:03 up  5:07,  load average: 0.00, 0.00, 0.00\n"
        );
        assert_eq!(
            uptime((86_400 * 2 + 125) * 1_000_000_000),
            " 00:02:05 up 2 days, 2 min,  load average: 0.00, 0.00, 0.00\n"
        );
        assert_eq!(
            uptime(86_400 * 1_000_000_000),
            " 00:00:00 up 1 day, 0 min,  load average: 0.00, 0.00, 0.00\n"
        );
        assert_eq!(
            run(&mut p, "free"),
            "              total        used        free      shared  buff/cache   available\n\
             Mem:        1031000       11000     1020000           0           0     1020000\n\
             Swap:             0           0           0\n"
        );
    }

    #[test]
    fn dmesg_prints_the_log() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "dmesg"), "[    0.000000] Booting Kobold\n");
    }

    #[test]
    fn dmesg_clears_and_sets_the_console_level() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "dmesg -n 4"), "");
        assert_eq!(p.log.last().map(String::as_str), Some("console loglevel 4"));
        assert_eq!(
            run(&mut p, "dmesg -n 9"),
            "dmesg: invalid level '9' (1 to 8)\n"
        );
        assert_eq!(
            run(&mut p, "dmesg -n x"),
            "dmesg: invalid level 'x' (1 to 8)\n"
        );
        assert_eq!(run(&mut p, "dmesg -x"), "Usage: dmesg [-c] [-n LEVEL]\n");
        assert_eq!(run(&mut p, "dmesg -c"), "[    0.000000] Booting Kobold\n");
        assert_eq!(run(&mut p, "dmesg"), "");
    }

    #[test]
    fn devmem_reads_writes_and_names_errors() {
        let mut p = Fake::default();
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
    }

    #[test]
    fn provoke_crash_and_poweroff_reach_the_platform() {
        let mut p = Fake::default();
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
    }

    #[test]
    fn pt_walks_and_names_errors() {
        let mut p = Fake::default();
        assert!(run(&mut p, "pt 0x1000").ends_with("fault: nothing is mapped in this megabyte\n"));
        let usage = "Usage: pt VADDR | pt START END|+LEN | pt --module NAME\n";
        assert_eq!(run(&mut p, "pt"), usage);
        assert_eq!(
            run(&mut p, "pt 0xbf000000 +0x2001"),
            "0xbf000000 -> 0x61000000 RO X  normal, write-back write-allocate\n\
             0xbf001000 -> 0x61001000 RW XN normal, write-back write-allocate\n\
             0xbf002000 unmapped\n"
        );
        assert_eq!(run(&mut p, "pt 0xbf000000 0xbf000001").lines().count(), 1);
        assert_eq!(
            run(&mut p, "pt 0x1000 0x1000"),
            "pt: invalid end '0x1000'\n"
        );
        assert_eq!(
            run(&mut p, "pt 0 0xffffffff"),
            "pt: at most 1024 pages at a time\n"
        );
        assert_eq!(
            run(&mut p, "pt --module hello"),
            "hello core region 0xbf000000-0xbf002000\n\
             text          0xbf000000 -> 0x61000000 RO X  normal, write-back write-allocate\n\
             data          0xbf001000 -> 0x61001000 RW XN normal, write-back write-allocate\n\
             guard         0xbf002000 unmapped\n"
        );
        assert_eq!(
            run(&mut p, "pt --module nope"),
            "pt: module 'nope' is not loaded\n"
        );
        assert_eq!(run(&mut p, "pt zz"), "pt: invalid address 'zz'\n");
    }

    #[test]
    fn selftest_passes_fails_and_knows_its_tests() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "selftest ok"), "fine\nselftest ok: PASS\n");
        assert_eq!(run(&mut p, "selftest bad"), "selftest bad: FAIL (ENOMEM)\n");
        assert_eq!(run(&mut p, "selftest zz"), "selftest: unknown test 'zz'\n");
    }

    #[test]
    fn vmalloc_and_vfree_check_their_arguments() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "vmalloc 4096"), "0xf0001000\n");
        assert_eq!(
            run(&mut p, "vmalloc 0"),
            "vmalloc: 0: Invalid argument (EINVAL)\n"
        );
        assert_eq!(
            run(&mut p, "vmalloc lots"),
            "vmalloc: invalid size 'lots'\n"
        );
        assert_eq!(
            run(&mut p, "vfree 0x1000"),
            "vfree: 0x1000: Invalid argument (EINVAL)\n"
        );
    }

    #[test]
    fn insmod_names_each_error_as_busybox() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "insmod /lib/modules/hello.ko count=3"), "");
        assert_eq!(
            run(&mut p, "insmod /nope.ko"),
            "insmod: can't open '/nope.ko': No such file or directory\n"
        );
        assert_eq!(
            run(&mut p, "insmod /lib/modules"),
            "insmod: can't open '/lib/modules': Is a directory\n"
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
            "Usage: insmod [-v] FILE [SYMBOL=VALUE]...\n"
        );
        assert_eq!(
            run(&mut p, "insmod -v"),
            "Usage: insmod [-v] FILE [SYMBOL=VALUE]...\n"
        );
        assert_eq!(run(&mut p, "insmod -v /lib/modules/hello.ko a=1"), "");
        assert_eq!(
            p.log.last().map(String::as_str),
            Some("insmod -v /lib/modules/hello.ko [\"a=1\"]")
        );
    }

    #[test]
    fn rmmod_takes_file_names_and_names_each_failure() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "rmmod hello.ko"), "");
        assert_eq!(
            run(&mut p, "rmmod busy nosuch-mod"),
            "rmmod: can't unload module 'busy': Resource temporarily unavailable\n\
             rmmod: can't unload module 'nosuch_mod': No such file or directory\n"
        );
    }

    #[test]
    fn lsmod_prints_the_platforms_list() {
        let mut p = Fake::default();
        assert_eq!(
            run(&mut p, "lsmod"),
            "Module                  Size  Used by\n"
        );
    }

    #[test]
    fn completer_offers_commands_and_listed_entries() {
        use line::Complete;
        let mut p = Fake::default();
        let mut c = Completer(&mut p);
        let mut got = Vec::new();
        c.commands(&mut |n| got.push(n.to_string()));
        assert!(got.iter().any(|n| n == "insmod") && got.iter().any(|n| n == "help"));
        let mut got = Vec::new();
        c.entries("/lib/modules", &mut |n| got.push(n.to_string()));
        assert_eq!(got, ["hello.ko", "helper.ko"], "sizes cut off");
        let mut got = Vec::new();
        c.entries("/", &mut |n| got.push(n.to_string()));
        assert_eq!(got, ["lib/", "proc/", "sys/"]);
        let mut got = Vec::new();
        c.entries("/nope", &mut |n| got.push(n.to_string()));
        assert!(got.is_empty());
        // Driven through the line editor: `insmod /lib/modules/hel` + Tab.
        let mut ed = line::LineEditor::new();
        for &b in b"ins\t/lib/modules/hel\tl\t" {
            ed.feed_with(b, &mut |_| {}, &mut Completer(&mut p));
        }
        assert_eq!(ed.line(), "insmod /lib/modules/hello.ko ");
    }

    #[test]
    fn ls_lists_and_names_errors() {
        let mut p = Fake::default();
        assert_eq!(run(&mut p, "ls"), "lib/\n");
        assert_eq!(run(&mut p, "ls /x"), "ls: /x: No such file or directory\n");
    }

    #[test]
    fn modinfo_names_errors_as_kmod() {
        let mut p = Fake::default();
        assert_eq!(
            run(&mut p, "modinfo /nope.ko"),
            "modinfo: ERROR: Module /nope.ko not found: No such file or directory\n"
        );
        assert_eq!(
            run(&mut p, "modinfo /lib/modules/hello.ko"),
            "modinfo: ERROR: /lib/modules/hello.ko: Module len 3 truncated\n"
        );
    }

    #[test]
    fn selftest_reports_typed_errors_and_reads_the_table() {
        let mut p = Fake::default();
        assert_eq!(
            run(&mut p, "selftest modcycle"),
            "selftest modcycle: FAIL (hello.ko: No such file or directory (ENOENT))\n"
        );
        assert_eq!(
            run(&mut p, "selftest leaky"),
            "selftest leaky: FAIL (check failed: counters moved)\n"
        );
        assert_eq!(
            run(&mut p, "selftest soak x"),
            "Usage: selftest soak [N [SEED]]\n"
        );
        assert_eq!(
            run(&mut p, "selftest"),
            "Usage: selftest heap|highmem|vmalloc|modules|modcycle|modbench [FILE...]|faultinject [MODULE]|soak [N [SEED]]|linux61 [stackprot|fortify]|nls|jiffies\n"
        );
    }
}
