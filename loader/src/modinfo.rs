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
}
