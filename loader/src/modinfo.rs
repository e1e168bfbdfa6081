//! `.modinfo`: NUL-separated `key=value` strings (Linux's MODULE_INFO, and
//! what `modinfo` prints). A key may repeat (`depends`, `alias`, `parm`).

/// Iterates over the `(key, value)` pairs of a `.modinfo` section; strings
/// without `=` or that are not UTF-8 are skipped, as are empty ones
/// (alignment padding between entries).
pub fn entries(modinfo: &[u8]) -> impl Iterator<Item = (&str, &str)> {
    modinfo
        .split(|&b| b == 0)
        .filter_map(|s| core::str::from_utf8(s).ok())
        .filter_map(|s| s.split_once('='))
}

/// The first value of `key`.
pub fn get<'a>(modinfo: &'a [u8], key: &str) -> Option<&'a str> {
    entries(modinfo).find(|(k, _)| *k == key).map(|(_, v)| v)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
