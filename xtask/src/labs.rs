//! The lab book's labs as QEMU tests: every ```` ```lab ```` block in
//! `docs/book/*.md` is booted and typed, and the output it shows must
//! appear, so the book cannot drift from the kernel (`cargo xtask labs`;
//! `cargo xtask test` runs them with the other QEMU cases).
//!
//! A lab block is what a student sees on the console:
//!
//! ````text
//! ```lab mem=1024 append="console=ttyAMA0 vmalloc=512M"
//!     vmalloc : 0xdf800000 - 0xff000000   ( 504 MB)
//! / # cat /proc/meminfo
//! MemTotal:        {…} kB
//! ```
//! ````
//!
//! - Options after `lab`: `mem=N` (QEMU's `-m`, default 256),
//!   `append="…"` (the whole command line, default `console=ttyAMA0`),
//!   `nohighmem` (the `!HIGHMEM` build), `exit=N` (QEMU's exit status,
//!   default 0: `poweroff` is typed after the last command unless the lab
//!   ends QEMU itself, e.g. with a panic and `exit=3`).
//! - `debian`: the lab needs Debian's package (chapter 12): its library
//!   modules go into `/debian/` and `linuxcheck.ko` into `/linux61/` (the
//!   `linuxcheck` case's files), and the lab is skipped, saying why, when
//!   the package cannot be fetched.
//! - Lines before the first `/ # ` are expected in the boot log; the lines
//!   after a `/ # COMMAND` line, in that command's output.
//! - Expected lines match whole lines, printk timestamps ignored; `{…}`
//!   (or `{...}`) stands for any text, for what differs between builds.
//!   A line `...` alone says "more output here" and is not checked.

use crate::cases::{BASE, Case, PANIC_EXIT};
use crate::config::Variant;
use crate::harness::{Check, regex};
use anyhow::{Context, Result, bail};
use std::path::Path;

/// Where the book lives, from the repository root.
pub const BOOK: &str = "docs/book";

/// One parsed lab: where it is, and the case that runs it.
#[derive(Debug)]
pub struct Lab {
    pub file: String,
    pub line: usize,
    pub case: Case,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// An expected line as a whole-line regex: literal text, `{…}` as `.*`.
pub fn line_regex(expected: &str) -> String {
    let mut re = String::from("^");
    let mut rest = expected;
    while let Some(at) = rest.find('{') {
        let (lit, tail) = rest.split_at(at);
        re.push_str(&regex::escape(lit));
        match tail.find('}') {
            Some(end) if matches!(&tail[1..end], "…" | "...") => {
                re.push_str(".*");
                rest = &tail[end + 1..];
            }
            _ => {
                re.push_str(&regex::escape("{"));
                rest = &tail[1..];
            }
        }
    }
    re.push_str(&regex::escape(rest));
    re.push('$');
    re
}

/// Drops a printk timestamp (`[    0.033352] `) from an expected line.
fn strip_time(line: &str) -> &str {
    crate::harness::strip_printk_time(line)
}

/// Parses the options of a ```` ```lab ```` line.
fn options(info: &str, case: &mut Case) -> Result<()> {
    let mut rest = info.trim();
    while !rest.is_empty() {
        let (word, tail) = if let Some(eq) = rest.find('=')
            && rest[eq + 1..].starts_with('"')
        {
            let close = rest[eq + 2..]
                .find('"')
                .context("an option's quoted value is not closed")?;
            let end = eq + 2 + close + 1;
            (&rest[..end], &rest[end..])
        } else {
            rest.split_once(' ').unwrap_or((rest, ""))
        };
        rest = tail.trim_start();
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        let value = value.trim_matches('"');
        match key {
            "mem" => case.mem_mb = value.parse().context("mem=N")?,
            "append" => case.append = Some(leak(value.to_string())),
            "nohighmem" => case.variant = Variant::NoHighmem,
            "exit" => case.exit = value.parse().context("exit=N")?,
            "debian" => {
                case.extra_files = crate::cases::LINUXCHECK_FILES;
                case.requires = Some(crate::cases::debian_package);
            }
            other => bail!("unknown lab option `{other}`"),
        }
    }
    Ok(())
}

/// The labs of one chapter (`file` names it in test names and errors).
pub fn parse(file: &str, text: &str) -> Result<Vec<Lab>> {
    let mut labs = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, l)) = lines.next() {
        let Some(info) = l.trim_start().strip_prefix("```lab") else {
            continue;
        };
        let mut case = Case {
            initrd: true,
            mem_mb: 256,
            timeout_s: 120,
            ..BASE
        };
        options(info, &mut case).with_context(|| format!("{file}:{}", n + 1))?;
        let mut input: Vec<&'static str> = Vec::new();
        let mut checks: Vec<Check> = Vec::new();
        let mut command: Option<&'static str> = None;
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                closed = true;
                break;
            }
            if let Some(cmd) = l.strip_prefix("/ # ") {
                let cmd = leak(cmd.trim_end().to_string());
                input.push(cmd);
                command = Some(cmd);
                continue;
            }
            let expected = strip_time(l.trim_end());
            if expected.trim().is_empty() || expected.trim() == "..." {
                continue;
            }
            let check = regex(leak(line_regex(expected)));
            checks.push(match command {
                Some(cmd) => check.of(cmd),
                None => check.at_boot(),
            });
        }
        if !closed {
            bail!("{file}:{}: the lab block is not closed", n + 1);
        }
        if input.is_empty() {
            bail!("{file}:{}: a lab types at least one command", n + 1);
        }
        if case.exit == 0 && input.last() != Some(&"poweroff") {
            input.push("poweroff");
        }
        if case.exit == PANIC_EXIT {
            case.initrd = true;
        }
        let stem = file.trim_end_matches(".md");
        case.name = leak(format!("lab:{stem}:{}", n + 1));
        case.input = Box::leak(input.into_boxed_slice());
        case.expect = Box::leak(checks.into_boxed_slice());
        labs.push(Lab {
            file: file.to_string(),
            line: n + 1,
            case,
        });
    }
    Ok(labs)
}

/// Every lab of the book, chapters in file-name order.
pub fn all(root: &Path) -> Result<Vec<Lab>> {
    let dir = root.join(BOOK);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    let mut labs = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        labs.extend(parse(&name, &text)?);
    }
    Ok(labs)
}

/// The labs as QEMU cases (leaked: they live as long as the run).
pub fn cases(root: &Path, filter: Option<&str>) -> Result<Vec<&'static Case>> {
    Ok(all(root)?
        .into_iter()
        .map(|l| &*Box::leak(Box::new(l.case)))
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{Match, Scope};

    #[test]
    fn placeholders_match_any_text_and_the_rest_is_literal() {
        let re = regex::Regex::new(&line_regex("hello {…} 0 - Live 0xbf000000 (O)")).unwrap();
        assert!(re.is_match("hello 12288 0 - Live 0xbf000000 (O)"));
        assert!(!re.is_match("hello 12288 0 - Live 0xbf000000 (PO)"));
        let re = regex::Regex::new(&line_regex("a.b {x} {...}")).unwrap();
        assert!(re.is_match("a.b {x} anything"));
        assert!(!re.is_match("aXb {x} anything"));
    }

    #[test]
    fn a_lab_block_becomes_a_case() {
        let md = "Text.\n\n```lab mem=1024 append=\"console=ttyAMA0 vmalloc=512M\"\n    vmalloc : 0xdf800000 - 0xff000000   ( 504 MB)\n/ # cat /proc/meminfo\n[    0.000100] MemTotal: {…} kB\n...\n```\n\n```lab exit=3\n/ # provoke-crash PANIC\nKernel panic - not syncing: {…}\n```\n";
        let labs = parse("01-x.md", md).unwrap();
        assert_eq!(labs.len(), 2);
        let c = &labs[0].case;
        assert_eq!((c.name, c.mem_mb), ("lab:01-x:3", 1024));
        assert_eq!(c.append, Some("console=ttyAMA0 vmalloc=512M"));
        assert_eq!(c.input, ["cat /proc/meminfo", "poweroff"]);
        assert_eq!(c.expect.len(), 2);
        assert_eq!(c.expect[0].scope, Scope::Boot);
        assert_eq!(c.expect[1].scope, Scope::Output("cat /proc/meminfo"));
        assert!(matches!(c.expect[1].matcher, Match::Regex(re) if re.starts_with("^MemTotal: ")));
        let panic = &labs[1].case;
        assert_eq!((panic.exit, panic.input), (3, &["provoke-crash PANIC"][..]));
    }

    #[test]
    fn the_debian_option_adds_the_package_and_can_skip() {
        let labs = parse(
            "12-x.md",
            "```lab debian mem=512\n/ # insmod /debian/crc7.ko\n```\n",
        )
        .unwrap();
        let c = &labs[0].case;
        assert_eq!(c.mem_mb, 512);
        assert!(c.requires.is_some());
        assert!(c.extra_files.iter().any(|f| f.path == "debian/crc7.ko"));
        assert!(
            c.extra_files
                .iter()
                .any(|f| f.path == "linux61/linuxcheck.ko")
        );
        let plain = parse("x.md", "```lab\n/ # ls\n```\n").unwrap();
        assert!(plain[0].case.requires.is_none() && plain[0].case.extra_files.is_empty());
    }

    #[test]
    fn mistakes_in_a_lab_are_reported_with_their_place() {
        assert!(parse("x.md", "```lab\n/ # ls\n").is_err(), "unclosed");
        assert!(
            parse("x.md", "```lab speed=9\n/ # ls\n```\n").is_err(),
            "option"
        );
        assert!(
            parse("x.md", "```lab\nno command\n```\n").is_err(),
            "no command"
        );
    }

    #[test]
    fn the_books_labs_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let labs = all(&root).unwrap();
        assert!(labs.len() >= 8, "{} labs", labs.len());
    }
}
