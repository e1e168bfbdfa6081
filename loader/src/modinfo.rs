//! `.modinfo`: NUL-separated `key=value` strings (Linux's MODULE_INFO, and
//! what `modinfo` prints). A key may repeat (`depends`, `alias`, `parm`).
//!
//! [`write_modinfo`] is the one formatter of kmod's `modinfo` output: the
//! kernel shell's `modinfo` and `cargo xtask modinfo` both print through it.

use crate::elf::Module;
use core::fmt::{self, Write};

/// Iterates over the `(key, value)` pairs of a `.modinfo` section; strings
/// without `=` or that are not UTF-8 are skipped, as are empty ones
/// (alignment padding between entries).
pub fn entries(modinfo: &[u8]) -> impl Iterator<Item = (&str, &str)> {
    modinfo
        .split(|&b| b == 0)
        .filter_map(|s| core::str::from_utf8(s).ok())
        .filter_map(|s| s.split_once('='))
}

/// The first value of `key`: what `entries(modinfo).find(..)` answers
/// ([`get_many`] with one key: entries are looked at as bytes and decoded
/// as UTF-8 only when their key matches).
pub fn get<'a>(modinfo: &'a [u8], key: &str) -> Option<&'a str> {
    let [value] = get_many(modinfo, [key]);
    value
}

/// The first value of each of `keys`, in one pass over `modinfo`: what
/// `entries(modinfo).find(..)` answers for each key, but an entry is looked
/// at as bytes (is its key, before the first `=`, one of `keys`?) and
/// decoded as UTF-8 only when it is, and the NULs are found once for all
/// keys, a word at a time (`find_nul`). insmod asks for four keys (`name`, `license`, `intree`,
/// `vermagic`), and four passes of [`get`] found every NUL of `.modinfo`
/// four times (about 2,000 ARM instructions for a 150-byte section).
pub fn get_many<'a, const N: usize>(modinfo: &'a [u8], keys: [&str; N]) -> [Option<&'a str>; N] {
    let mut found = [None; N];
    let mut missing = keys.iter().filter(|k| !k.contains('=')).count();
    let mut rest = modinfo;
    while !rest.is_empty() && missing > 0 {
        let end = crate::find_nul(rest).unwrap_or(rest.len());
        let entry = rest.get(..end).unwrap_or(&[]);
        // `entries` splits at the first '=': the key is what precedes it.
        if let Some(eq) = entry.iter().position(|&b| b == b'=') {
            let k = entry.get(..eq).unwrap_or(&[]);
            for (key, slot) in keys.iter().zip(found.iter_mut()) {
                if slot.is_none()
                    && crate::name_is_bytes(k, key.as_bytes())
                    && let Some(v) = core::str::from_utf8(entry)
                        .ok()
                        .and_then(|s| s.get(eq + 1..))
                {
                    *slot = Some(v);
                    missing -= 1;
                }
            }
        }
        rest = rest.get(end + 1..).unwrap_or(&[]);
    }
    found
}

/// Linux's `MODULE_NAME_LEN` (`64 - sizeof(unsigned long)` on 32-bit ARM):
/// a name and its NUL fit in this many bytes.
pub const MODULE_NAME_LEN: usize = 56;

/// A module name that [`check_name`] refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidName<'a>(pub &'a str);

impl core::fmt::Display for InvalidName<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "module name '{}' is invalid: only letters, digits, '_' and '-', at most {} bytes",
            // Escaped: a name with a newline must not forge a log line.
            self.0.escape_debug(),
            MODULE_NAME_LEN - 1
        )
    }
}

impl core::error::Error for InvalidName<'_> {}

/// Checks a module name (from `.modinfo` `name=` or the file name): 1 to
/// `MODULE_NAME_LEN - 1` (55) bytes of `[A-Za-z0-9_-]`. Linux only bounds
/// the length (`struct module`'s `name[MODULE_NAME_LEN]`); Kobold also
/// keeps the name to the characters kbuild makes module names of, so it is
/// safe to print in /proc/modules and in messages.
pub fn check_name(name: &str) -> Result<(), InvalidName<'_>> {
    let ok = !name.is_empty()
        && name.len() < MODULE_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok { Ok(()) } else { Err(InvalidName(name)) }
}

/// The parameter a `parm`/`parmtype` value (`name:rest`) is about.
fn parm_name(v: &str) -> &str {
    v.split_once(':').map_or(v, |(n, _)| n)
}

/// `key:` left-aligned in 16 columns (kmod's `%-16s`).
fn key(out: &mut dyn Write, k: &str) -> fmt::Result {
    write!(out, "{k}:")?;
    for _ in k.len() + 1..16 {
        out.write_char(' ')?;
    }
    Ok(())
}

/// Writes kmod's `modinfo` lines for the module `m` read from `path`:
/// `filename:` first, then every `.modinfo` key in file order, each
/// `key:` padded to 16 columns, except `parm` and `parmtype`, which are
/// merged into one `parm:` line per parameter (in order of first mention)
/// as `name:description (type)`. Allocates nothing (the merge rescans the
/// entries instead of collecting them), so the kernel can run it on any
/// file.
pub fn write_modinfo(out: &mut dyn Write, path: &str, m: &Module<'_>) -> fmt::Result {
    let is_parm = |k: &str| k == "parm" || k == "parmtype";
    key(out, "filename")?;
    writeln!(out, "{path}")?;
    for (k, v) in m.modinfo_entries().filter(|(k, _)| !is_parm(k)) {
        key(out, k)?;
        writeln!(out, "{v}")?;
    }
    for (i, (_, v)) in m
        .modinfo_entries()
        .enumerate()
        .filter(|(_, (k, _))| is_parm(k))
    {
        let name = parm_name(v);
        let seen = m
            .modinfo_entries()
            .take(i)
            .any(|(k, w)| is_parm(k) && parm_name(w) == name);
        if seen {
            continue;
        }
        let mine = |kind: &'static str| {
            m.modinfo_entries()
                .filter(move |&(k, w)| k == kind && parm_name(w) == name)
                .map(|(_, w)| w.split_once(':').map_or("", |(_, rest)| rest))
        };
        key(out, "parm")?;
        write!(out, "{name}:")?;
        let mut any = false;
        for desc in mine("parm") {
            out.write_str(desc)?;
            any |= !desc.is_empty();
        }
        for ty in mine("parmtype") {
            if any {
                out.write_char(' ')?;
            }
            write!(out, "({ty})")?;
            any = true;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `get` answers what the first matching entry of `entries` answers,
    /// for keys that are present, repeated, absent, empty, hold '=', and
    /// entries that are not UTF-8 or lack a terminating NUL.
    #[test]
    fn get_is_the_first_entry() {
        let tables: [&[u8]; 6] = [
            b"license=GPL\0\0name=x\0name=y\0a=b=c\0=empty\0",
            b"name=\xff\0name=ok\0license=G\xffPL\0license=GPL\0",
            b"name=unterminated",
            b"\0\0\0",
            b"",
            b"namex=1\0name\0name=2\0vermagic=6.1.0 SMP mod_unload\0",
        ];
        let keys = [
            "name", "license", "a", "a=b", "", "vermagic", "missing", "n",
        ];
        for t in tables {
            for k in keys {
                let want = entries(t).find(|(x, _)| *x == k).map(|(_, v)| v);
                assert_eq!(get(t, k), want, "{k:?} in {t:?}");
            }
            // All the keys in one pass (one of them twice), and insmod's four.
            let many = get_many(t, keys);
            for (k, v) in keys.iter().zip(many) {
                assert_eq!(v, get(t, k), "{k:?} of many in {t:?}");
            }
            let [a, b] = get_many(t, ["name", "name"]);
            assert_eq!((a, b), (get(t, "name"), get(t, "name")), "{t:?}");
            let four = get_many(t, ["name", "license", "intree", "vermagic"]);
            for (k, v) in ["name", "license", "intree", "vermagic"].iter().zip(four) {
                assert_eq!(v, get(t, k), "{k:?} of four in {t:?}");
            }
        }
    }

    #[test]
    fn parses_key_value_strings() {
        let m =
            b"license=GPL\0\0\0author=Kobold\0depends=\0parm=count:int\0parm=name:charp\0junk\0";
        assert_eq!(get(m, "license"), Some("GPL"));
        assert_eq!(get(m, "depends"), Some(""));
        assert_eq!(get(m, "missing"), None);
        let parms: alloc::vec::Vec<_> = entries(m)
            .filter(|(k, _)| *k == "parm")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(parms, ["count:int", "name:charp"]);
        assert_eq!(entries(b"\xff=\x01\0a=b").count(), 1);
    }

    #[test]
    fn module_names() {
        extern crate std;
        use std::string::ToString;
        for good in [
            "hello",
            "rust_hello",
            "snd-hda-intel",
            "a",
            "X9",
            &"n".repeat(55),
        ] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        let long = "n".repeat(56);
        for bad in [
            "",
            "a b",
            "a/b",
            "..",
            "name\n",
            "h\u{e9}llo",
            "x.ko",
            &long,
        ] {
            assert_eq!(check_name(bad), Err(InvalidName(bad)), "{bad:?}");
        }
        assert_eq!(
            check_name("x y").unwrap_err().to_string(),
            "module name 'x y' is invalid: only letters, digits, '_' and '-', at most 55 bytes"
        );
    }

    /// A module whose only section is `.modinfo` holding `info`.
    fn with_modinfo(info: &[u8]) -> alloc::vec::Vec<u8> {
        use object::write::Object;
        use object::{Architecture, BinaryFormat, Endianness, SectionKind};
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let mi = o.add_section(
            alloc::vec![],
            b".modinfo".to_vec(),
            SectionKind::ReadOnlyData,
        );
        o.append_section_data(mi, info, 1);
        o.write().unwrap()
    }

    #[test]
    fn modinfo_is_printed_as_kmod_does() {
        extern crate std;
        use std::string::String;
        let bytes = with_modinfo(
            b"license=GPL\0parmtype=count:int\0parm=count:How many (0: none)\0\
              author=Kobold\0parmtype=who:charp\0parm=quiet:\0parmtype=quiet:bool\0",
        );
        let m = crate::validate(&bytes).unwrap();
        let mut out = String::new();
        write_modinfo(&mut out, "/lib/modules/x.ko", &m).unwrap();
        assert_eq!(
            out,
            "filename:       /lib/modules/x.ko\n\
             license:        GPL\n\
             author:         Kobold\n\
             parm:           count:How many (0: none) (int)\n\
             parm:           who:(charp)\n\
             parm:           quiet:(bool)\n"
        );
    }
}
