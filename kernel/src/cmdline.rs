//! The kernel command line (Linux: kernel/params.c `parse_args` and
//! `next_arg`, init/main.c `obsolete_checksetup`, lib/cmdline.c).
//!
//! The boot loader hands over one line of text (ATAG_CMDLINE or the DTB's
//! `/chosen/bootargs`). Linux splits it into parameters with `next_arg`:
//!
//! - parameters are separated by spaces; each is `name=value` or `name`;
//! - a value with spaces is written in double quotes (`name="a b"`), and the
//!   quotes are not part of the value; a whole parameter may be quoted too
//!   (`"name=a b"`);
//! - in names, `-` and `_` are the same character (`parameq`), so
//!   `modules_load=` is `modules-load=`;
//! - a parameter given twice is applied twice, so the last one wins (for
//!   `modules-load=`, whose values add up, every one counts, as
//!   systemd-modules-load reads them);
//! - parameters the kernel does not know are left alone: they are for
//!   init (Kobold has none), and `/proc/cmdline` shows the line exactly as
//!   it came.
//!
//! [`Cmdline`] is that, typed: an iterator over [`Param`]s and one accessor
//! per parameter the kernel acts on (`vmalloc=`, `modules-load=`,
//! `loglevel=`, `panic=`, `console=`, `module.trace=`, the fault-injection
//! attributes). The
//! accessors parse their value and return a [`CmdlineError`] that says what
//! was wrong, for the console. Nothing here allocates: every value is a
//! slice of the line.

use core::fmt;
use kobold_layout::{ParseError, VmallocArg, early_vmalloc};

/// The command line, as the boot loader gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmdline<'a> {
    line: &'a str,
}

/// One parameter: `name=value` (`value` is `Some`, without quotes) or a
/// bare `name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    pub name: &'a str,
    pub value: Option<&'a str>,
}

impl Param<'_> {
    /// Whether this parameter is `name` (`-` and `_` alike).
    pub fn is(&self, name: &str) -> bool {
        parameq(self.name, name)
    }
}

/// Linux's `parameq`: names compare equal with `-` and `_` exchanged.
pub fn parameq(a: &str, b: &str) -> bool {
    let norm = |c: u8| if c == b'-' { b'_' } else { c };
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| norm(x) == norm(y))
}

/// A parameter's value the kernel could not use. `Display` gives the
/// console's text, `name=value: what is wrong` (the caller adds what it
/// does about it, e.g. `, ignored`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdlineError<'a> {
    /// A size (`memparse` syntax: `240M`, `0x1000`) that is not one.
    InvalidSize {
        name: &'static str,
        value: &'a str,
        reason: ParseError,
    },
    /// An integer that is not one.
    InvalidNumber { name: &'static str, value: &'a str },
    /// `name` without `=value` where a value is needed.
    MissingValue { name: &'static str },
    /// A boolean that is not one (Linux's `strtobool`).
    InvalidBool { name: &'static str, value: &'a str },
}

impl fmt::Display for CmdlineError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdlineError::InvalidSize {
                name,
                value,
                reason,
            } => write!(f, "{name}={value}: invalid size: {reason}"),
            CmdlineError::InvalidNumber { name, value } => {
                write!(f, "{name}={value}: invalid number")
            }
            CmdlineError::MissingValue { name } => write!(f, "{name}: missing value"),
            CmdlineError::InvalidBool { name, value } => {
                write!(f, "{name}={value}: invalid value (expected 1/0, y/n, Y/N)")
            }
        }
    }
}

/// The fault-injection attributes settable at boot (Linux's
/// `__setup("failslab=")`, `__setup("fail_page_alloc=")`, and Kobold's
/// `fail_vmap_area=`), by the name mm::fault_inject knows them by.
pub const FAULT_ATTRS: [&str; 3] = ["failslab", "fail_page_alloc", "fail_vmap_area"];

impl<'a> Cmdline<'a> {
    pub const fn new(line: &'a str) -> Self {
        Cmdline { line }
    }

    /// The line unchanged (what `/proc/cmdline` shows).
    pub const fn as_str(&self) -> &'a str {
        self.line
    }

    /// Every parameter, in order (Linux's `parse_args` loop).
    pub fn params(&self) -> Params<'a> {
        Params { rest: self.line }
    }

    /// The last `name` parameter, if any.
    #[inline(never)] // one copy to translate at boot, not one per caller
    pub fn last(&self, name: &str) -> Option<Param<'a>> {
        self.params().filter(|p| p.is(name)).last()
    }

    /// The value of the last `name=value`; a bare `name` is an error.
    fn value(&self, name: &'static str) -> Option<Result<&'a str, CmdlineError<'a>>> {
        self.last(name)
            .map(|p| p.value.ok_or(CmdlineError::MissingValue { name }))
    }

    /// `vmalloc=SIZE` through Linux's `early_vmalloc` (clamped to 16 MB ..
    /// 976 MB, with the warning the result carries).
    pub fn vmalloc(&self) -> Option<Result<VmallocArg, CmdlineError<'a>>> {
        const NAME: &str = "vmalloc";
        self.value(NAME).map(|v| {
            let value = v?;
            early_vmalloc(value).map_err(|reason| CmdlineError::InvalidSize {
                name: NAME,
                value,
                reason,
            })
        })
    }

    /// The modules of every `modules-load=a,b,...`, in order, empty names
    /// skipped (systemd-modules-load's syntax).
    pub fn modules_load(&self) -> impl Iterator<Item = &'a str> {
        self.params()
            .filter(|p| p.is("modules-load"))
            .filter_map(|p| p.value)
            .flat_map(|v| v.split(','))
            .filter(|n| !n.is_empty())
    }

    /// `MODULE.PARAM=VALUE` parameters for `module` (names compared as
    /// `parameq` does), as `(PARAM, VALUE)`, in order: what modprobe takes
    /// from /proc/cmdline for a module it loads, and what `modules-load=`
    /// passes to its insmod.
    pub fn module_params<'m>(
        &self,
        module: &'m str,
    ) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + use<'a, 'm> {
        self.params().filter_map(move |p| {
            let (m, param) = p.name.split_once('.')?;
            (parameq(m, module) && !param.is_empty()).then_some((param, p.value))
        })
    }

    /// `loglevel=N`: the console loglevel (Linux's `loglevel` handler).
    pub fn loglevel(&self) -> Option<Result<u8, CmdlineError<'a>>> {
        const NAME: &str = "loglevel";
        self.value(NAME).map(|v| {
            let value = v?;
            value
                .parse()
                .map_err(|_| CmdlineError::InvalidNumber { name: NAME, value })
        })
    }

    /// `panic=N`: seconds before a panicked kernel reboots (0: never,
    /// negative: at once), Linux's `panic_timeout`.
    pub fn panic(&self) -> Option<Result<i32, CmdlineError<'a>>> {
        const NAME: &str = "panic";
        self.value(NAME).map(|v| {
            let value = v?;
            value
                .parse()
                .map_err(|_| CmdlineError::InvalidNumber { name: NAME, value })
        })
    }

    /// `module.trace=BOOL`: trace every module load as `insmod -v` does.
    /// Parsed as Linux's `param_set_bool` (`strtobool`: the first
    /// character, `y`/`Y`/`1` or `n`/`N`/`0`); a bare `module.trace` is
    /// true.
    pub fn module_trace(&self) -> Option<Result<bool, CmdlineError<'a>>> {
        self.bool_param("module.trace")
    }

    /// `module.sig_enforce=BOOL`: refuse modules without a valid signature
    /// from a key of the built-in keyring (Linux's `sig_enforce`,
    /// kernel/module/signing.c, a `bool` module parameter: parsed as
    /// [`Cmdline::module_trace`]; a bare `module.sig_enforce` is true).
    pub fn module_sig_enforce(&self) -> Option<Result<bool, CmdlineError<'a>>> {
        self.bool_param("module.sig_enforce")
    }

    /// A `bool` parameter (Linux's `param_set_bool`).
    fn bool_param(&self, name: &'static str) -> Option<Result<bool, CmdlineError<'a>>> {
        self.last(name)
            .map(|p| match p.value.map(|v| v.bytes().next()) {
                None => Ok(true),
                Some(Some(b'y' | b'Y' | b'1')) => Ok(true),
                Some(Some(b'n' | b'N' | b'0')) => Ok(false),
                Some(_) => Err(CmdlineError::InvalidBool {
                    name,
                    value: p.value.unwrap_or(""),
                }),
            })
    }

    /// `console=NAME[,OPTIONS]`, the last one (Linux's preferred console).
    pub fn console(&self) -> Option<&'a str> {
        self.last("console").and_then(|p| p.value)
    }

    /// Every fault-injection attribute (`failslab=`, `fail_page_alloc=`,
    /// `fail_vmap_area=`), in order, as (name from [`FAULT_ATTRS`], value),
    /// for mm::fault_inject to parse.
    pub fn fault_attrs(&self) -> impl Iterator<Item = (&'static str, &'a str)> {
        self.params().filter_map(|p| {
            let name = FAULT_ATTRS.iter().find(|n| p.is(n))?;
            Some((*name, p.value?))
        })
    }
}

/// The command line as boot found it, for the rest of the kernel's life
/// (Linux's `saved_command_line`). (The kernel's lock rather than a
/// `spin::Once`: saving and reading are calls to the lock's one out-of-line
/// copy, where each `Once` brought its own copy of the once-machinery that
/// QEMU translated at boot.)
static SAVED: crate::sync::Mutex<Option<Cmdline<'static>>> = crate::sync::Mutex::new(None);

/// Keeps `c` as the saved command line; only the first call counts.
pub fn save(c: Cmdline<'static>) {
    SAVED.lock().get_or_insert(c);
}

/// The saved command line (empty before boot saved it).
pub fn saved() -> Cmdline<'static> {
    SAVED.lock().unwrap_or(Cmdline::new(""))
}

/// The parameters of a line, one by one (Linux's `next_arg`).
#[derive(Clone, Debug)]
pub struct Params<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    /// One parameter, found by a single byte loop as `next_arg` does. All
    /// the positions it cuts at are of ASCII bytes (or the line's end), so
    /// every slice stays on character boundaries. (The `char`-based
    /// `trim_start_matches` and `strip_prefix` it replaced decoded UTF-8 and
    /// checked boundaries at each step: ~60 more guest instructions that
    /// QEMU translated at boot.)
    fn next(&mut self) -> Option<Param<'a>> {
        let line = self.rest;
        let b = line.as_bytes();
        let Some(mut i) = b.iter().position(|c| !c.is_ascii_whitespace()) else {
            self.rest = "";
            return None;
        };
        // A leading quote opens a quoted parameter; quotes toggle whether a
        // space ends it.
        let quoted = b[i] == b'"';
        if quoted {
            i += 1;
        }
        let start = i;
        let mut in_quote = quoted;
        let mut equals = None;
        while let Some(&c) = b.get(i) {
            if c.is_ascii_whitespace() && !in_quote {
                break;
            }
            if c == b'=' && equals.is_none() {
                equals = Some(i);
            }
            if c == b'"' {
                in_quote = !in_quote;
            }
            i += 1;
        }
        self.rest = &line[i..];
        // A closing quote is not part of the value (or of a quoted name),
        // nor is a value's opening one.
        let value_start = equals.map(|e| e + 1);
        let value_quoted = value_start.is_some_and(|v| v < i && b[v] == b'"');
        let mut end = i;
        if (quoted || value_quoted) && end > value_start.unwrap_or(start) && b[end - 1] == b'"' {
            end -= 1;
        }
        Some(match equals {
            None => Param {
                name: &line[start..end],
                value: None,
            },
            Some(e) => {
                let v = e + 1 + usize::from(e + 1 < end && b[e + 1] == b'"');
                Param {
                    name: &line[start..e],
                    value: Some(&line[v..end]),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `load_boot_modules` returns early when `last("modules-load")` is
    /// None: then `modules_load` must have nothing to give.
    #[test]
    fn no_modules_load_param_means_no_modules() {
        for line in [
            "",
            "console=ttyAMA0",
            "modules-load=a",
            "modules_load=a,b",
            "modules-load",
            "modules-load=",
            "x modules-load=,c y",
            "modules-loadx=a",
            "\"modules-load=d\"",
        ] {
            let c = Cmdline::new(line);
            if c.last("modules-load").is_none() {
                assert_eq!(c.modules_load().count(), 0, "{line:?}");
            }
        }
        assert!(
            Cmdline::new("console=ttyAMA0")
                .last("modules-load")
                .is_none()
        );
        assert_eq!(
            Cmdline::new("x modules_load=,c y").modules_load().count(),
            1
        );
    }

    fn params(line: &str) -> Vec<(&str, Option<&str>)> {
        Cmdline::new(line)
            .params()
            .map(|p| (p.name, p.value))
            .collect()
    }

    #[test]
    fn splits_names_and_values_on_spaces() {
        assert_eq!(
            params("  console=ttyAMA0 quiet  vmalloc=240M x= "),
            [
                ("console", Some("ttyAMA0")),
                ("quiet", None),
                ("vmalloc", Some("240M")),
                ("x", Some("")),
            ]
        );
        assert_eq!(params(""), []);
        assert_eq!(params("   "), []);
        // Only the first `=` separates.
        assert_eq!(params("a=b=c"), [("a", Some("b=c"))]);
    }

    #[test]
    fn quotes_hold_spaces_and_are_not_part_of_the_value() {
        assert_eq!(
            params(r#"a="x y" "b=1 2" c"#),
            [("a", Some("x y")), ("b", Some("1 2")), ("c", None)]
        );
        // An unterminated quote runs to the end of the line.
        assert_eq!(params(r#"a="x y"#), [("a", Some("x y"))]);
        // A lone quote is an empty parameter, not a panic.
        assert_eq!(params(r#"""#), [("", None)]);
        assert_eq!(params(r#"a=""#), [("a", Some(""))]);
    }

    #[test]
    fn dashes_and_underscores_are_alike_in_names() {
        assert!(parameq("modules-load", "modules_load"));
        assert!(!parameq("modules-load", "modules-loa"));
        let c = Cmdline::new("modules_load=a modules-load=b,,c");
        assert_eq!(c.modules_load().collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn the_line_is_kept_unchanged() {
        let line = r#"console=ttyAMA0 typeahead=yes "odd=1 2"  dtbtest"#;
        let c = Cmdline::new(line);
        assert_eq!(c.as_str(), line);
        assert_eq!(c.last("typeahead").and_then(|p| p.value), Some("yes"));
        assert_eq!(c.console(), Some("ttyAMA0"));
    }

    #[test]
    fn vmalloc_is_a_size_and_the_last_one_wins() {
        let c = Cmdline::new("vmalloc=8M vmalloc=240M");
        assert_eq!(c.vmalloc().unwrap().unwrap().vmalloc_min, 0xf000_0000);
        assert_eq!(Cmdline::new("quiet").vmalloc(), None);
        let bad = Cmdline::new("vmalloc=lots").vmalloc().unwrap().unwrap_err();
        assert_eq!(
            bad,
            CmdlineError::InvalidSize {
                name: "vmalloc",
                value: "lots",
                reason: ParseError::NoDigits
            }
        );
        // What the console shows (the QEMU case vmalloc_garbage_is_ignored
        // matches `vmalloc=lots: ..., ignored`).
        assert!(
            bad.to_string()
                .starts_with("vmalloc=lots: invalid size: expected a number")
        );
        assert_eq!(
            Cmdline::new("vmalloc").vmalloc(),
            Some(Err(CmdlineError::MissingValue { name: "vmalloc" }))
        );
        assert_eq!(
            CmdlineError::MissingValue { name: "vmalloc" }.to_string(),
            "vmalloc: missing value"
        );
    }

    #[test]
    fn loglevel_and_panic_are_numbers() {
        let c = Cmdline::new("loglevel=4 panic=-1");
        assert_eq!(c.loglevel(), Some(Ok(4)));
        assert_eq!(c.panic(), Some(Ok(-1)));
        let c = Cmdline::new("loglevel=loud panic=");
        let e = c.loglevel().unwrap().unwrap_err();
        assert_eq!(e.to_string(), "loglevel=loud: invalid number");
        assert_eq!(
            c.panic(),
            Some(Err(CmdlineError::InvalidNumber {
                name: "panic",
                value: ""
            }))
        );
        assert_eq!(Cmdline::new("").loglevel(), None);
    }

    #[test]
    fn module_parameters_for_modules_load() {
        let c = Cmdline::new(
            "modules-load=hello hello.count=3 other.count=1 hello.who=\"two words\" hello. hello_x.y=1 hello.flag",
        );
        assert_eq!(
            c.module_params("hello").collect::<Vec<_>>(),
            [
                ("count", Some("3")),
                ("who", Some("two words")),
                ("flag", None)
            ]
        );
        assert_eq!(
            c.module_params("hello-x").collect::<Vec<_>>(),
            [("y", Some("1"))]
        );
        assert_eq!(c.module_params("nope").count(), 0);
    }

    #[test]
    fn module_sig_enforce_is_a_bool() {
        assert_eq!(Cmdline::new("console=ttyAMA0").module_sig_enforce(), None);
        for (line, want) in [
            ("module.sig_enforce", true),
            ("module.sig_enforce=1", true),
            ("module.sig_enforce=0", false),
            ("module.sig_enforce=1 module.sig_enforce=n", false),
        ] {
            assert_eq!(
                Cmdline::new(line).module_sig_enforce(),
                Some(Ok(want)),
                "{line}"
            );
        }
        assert!(matches!(
            Cmdline::new("module.sig_enforce=x").module_sig_enforce(),
            Some(Err(CmdlineError::InvalidBool { .. }))
        ));
    }

    #[test]
    fn module_trace_is_a_bool() {
        assert_eq!(Cmdline::new("console=ttyAMA0").module_trace(), None);
        for (line, want) in [
            ("module.trace=1", true),
            ("module.trace=Y", true),
            ("module.trace=yes", true),
            ("module.trace", true),
            ("module.trace=0", false),
            ("module.trace=1 module.trace=n", false),
        ] {
            assert_eq!(Cmdline::new(line).module_trace(), Some(Ok(want)), "{line}");
        }
        let e = Cmdline::new("module.trace=on")
            .module_trace()
            .unwrap()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "module.trace=on: invalid value (expected 1/0, y/n, Y/N)"
        );
        assert_eq!(
            Cmdline::new("module.trace=").module_trace(),
            Some(Err(CmdlineError::InvalidBool {
                name: "module.trace",
                value: ""
            }))
        );
    }

    #[test]
    fn fault_attributes_are_passed_on_in_order() {
        let c = Cmdline::new(
            "failslab=1,100 console=ttyAMA0 fail-page-alloc=x,1,1,1 fail_vmap_area=1,100,0,1 failslab",
        );
        assert_eq!(
            c.fault_attrs().collect::<Vec<_>>(),
            [
                ("failslab", "1,100"),
                ("fail_page_alloc", "x,1,1,1"),
                ("fail_vmap_area", "1,100,0,1"),
            ]
        );
    }

    /// The `next_arg` this module had before the byte loop, kept as the
    /// reference the loop is compared with.
    fn reference_next<'a>(rest: &mut &'a str) -> Option<Param<'a>> {
        let args = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if args.is_empty() {
            *rest = args;
            return None;
        }
        let (args, quoted) = match args.strip_prefix('"') {
            Some(a) => (a, true),
            None => (args, false),
        };
        let mut in_quote = quoted;
        let mut equals = None;
        let mut end = args.len();
        for (i, b) in args.bytes().enumerate() {
            if b.is_ascii_whitespace() && !in_quote {
                end = i;
                break;
            }
            if equals.is_none() && b == b'=' {
                equals = Some(i);
            }
            if b == b'"' {
                in_quote = !in_quote;
            }
        }
        *rest = &args[end..];
        let mut word = &args[..end];
        let value_quoted = equals.is_some_and(|e| word[e + 1..].starts_with('"'));
        if (quoted || value_quoted)
            && word.ends_with('"')
            && word.len() > equals.map_or(0, |e| e + 1)
        {
            word = &word[..word.len() - 1];
        }
        Some(match equals {
            None => Param {
                name: word,
                value: None,
            },
            Some(e) => {
                let value = &word[e + 1..];
                Param {
                    name: &word[..e],
                    value: Some(value.strip_prefix('"').unwrap_or(value)),
                }
            }
        })
    }

    /// Every line of up to six characters from spaces, quotes, `=`, a
    /// letter and a two-byte letter splits as the reference splits it.
    #[test]
    fn the_byte_loop_splits_as_the_reference() {
        let alphabet = [" ", "\t", "\"", "=", "a", "é"];
        let mut lines = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = lines
                .iter()
                .filter(|l| l.chars().count() == lines.last().unwrap().chars().count())
                .flat_map(|l| alphabet.iter().map(move |c| format!("{l}{c}")))
                .collect();
            lines.extend(longer);
        }
        for line in &lines {
            let got: Vec<_> = Cmdline::new(line).params().collect();
            let mut rest = line.as_str();
            let want: Vec<_> = core::iter::from_fn(|| reference_next(&mut rest)).collect();
            assert_eq!(got, want, "{line:?}");
        }
    }

    #[test]
    fn multibyte_text_never_splits_a_character() {
        let line = "é=ü \"ß=€ x\" ☃";
        let got = params(line);
        assert_eq!(got, [("é", Some("ü")), ("ß", Some("€ x")), ("☃", None)]);
    }
}
