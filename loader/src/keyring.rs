//! The built-in keyring's boot lines, made when the kernel image is made.
//!
//! Linux's `late_initcall` `load_system_certificate_list`
//! (certs/system_keyring.c) logs `Loading compiled-in X.509 certificates`
//! and, per certificate (`load_certificate_list`, certs/common.c), `Loaded
//! X.509 cert 'DESCRIPTION'` with the key's description ([`crate::x509`]),
//! both at `KERN_NOTICE`; a certificate that does not parse gives `Problem
//! loading in-kernel X.509 certificate (-74)` and a list that does not
//! split into DER certificates `Problem parsing in-kernel X.509
//! certificate list` (the rest is skipped), both at `KERN_ERR`.
//!
//! **Why the parse is done at build time.** Linux parses the certificates
//! at boot because its keyrings are live: the same code later takes keys at
//! run time (`add_key(2)`, `keyctl`), and the built-in list is only the
//! first input. Kobold's built-in keyring is read-only data fixed when the
//! image is built (`cargo xtask build` writes `target/kobold/keyring.der`,
//! kernel/build.rs embeds it) and nothing adds to it later, so its lines
//! are a function of the build's bytes: [`sidecar`] computes them once, when
//! the image is made, with the very function the boot used to run
//! ([`crate::x509::key_description`]), and xtask writes them next to the
//! keyring (`target/kobold/keyring.lines`, the one place both are
//! produced). The kernel prints them as [`sidecar_lines`] split them, a
//! `const fn` it evaluates when it is compiled: the boot runs neither a
//! DER decoder nor a line split. Decoding at boot cost no memory but about
//! 10 ms of wall clock under QEMU — TCG translating the `der` decoder's
//! code, run once — out of a 70 ms boot (docs/BENCHMARKS.md, "The
//! physical floor"); the log is unchanged, line for line and level for
//! level.
//!
//! **The sidecar** is text: a header `# keyring.der: LEN bytes, fnv1a64
//! HASH` naming the keyring it describes (kernel/build.rs refuses a sidecar
//! whose header does not match the keyring it embeds, so the two cannot
//! drift apart), then one line per boot line, prefixed with its printk
//! level as Linux writes it to `/dev/kmsg` (`<5>` notice, `<3>` error).
//! Descriptions never hold a newline ([`crate::x509`] prints control
//! characters as `?`).

use alloc::string::String;
use core::fmt::{self, Write};

use crate::pkcs7;
use crate::x509::{self, KeyDescription};

/// One line of the keyring's boot log (see the module docs).
#[derive(Debug)]
pub enum BootLine<'a> {
    /// `Loading compiled-in X.509 certificates`.
    Loading,
    /// `Loaded X.509 cert 'DESCRIPTION'`.
    Loaded(KeyDescription<'a>),
    /// `Problem loading in-kernel X.509 certificate (-ERRNO)`.
    Problem(i32),
    /// `Problem parsing in-kernel X.509 certificate list`.
    BadList,
}

impl BootLine<'_> {
    /// Whether Linux logs it at `KERN_ERR` (else `KERN_NOTICE`).
    pub fn is_error(&self) -> bool {
        matches!(self, BootLine::Problem(_) | BootLine::BadList)
    }
}

impl fmt::Display for BootLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootLine::Loading => f.write_str("Loading compiled-in X.509 certificates"),
            BootLine::Loaded(d) => write!(f, "Loaded X.509 cert '{d}'"),
            BootLine::Problem(e) => {
                write!(f, "Problem loading in-kernel X.509 certificate (-{e})")
            }
            BootLine::BadList => f.write_str("Problem parsing in-kernel X.509 certificate list"),
        }
    }
}

/// Linux's `load_system_certificate_list` over `keyring` (concatenated
/// DER): each boot line, in order, handed to `log`. An empty keyring (a
/// kernel without `CONFIG_MODULE_SIG`) logs nothing. Build time (and host
/// tests) only: the kernel prints what [`sidecar`] recorded.
pub fn boot_lines<'a>(keyring: &'a [u8], mut log: impl FnMut(BootLine<'a>)) {
    if keyring.is_empty() {
        return;
    }
    log(BootLine::Loading);
    for cert in pkcs7::certificates(keyring) {
        match cert {
            Ok(der) => log(match x509::key_description(der) {
                Ok(d) => BootLine::Loaded(d),
                Err(e) => BootLine::Problem(e),
            }),
            Err(_) => log(BootLine::BadList),
        }
    }
}

/// FNV-1a, 64 bits: the header's fingerprint of the keyring (kernel/build.rs
/// computes the same to check the pair).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The header line (without its newline) naming `keyring`.
pub fn header(keyring: &[u8]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "# keyring.der: {} bytes, fnv1a64 {:016x}",
        keyring.len(),
        fnv1a64(keyring)
    );
    s
}

/// The sidecar for `keyring` (see the module docs): the header, then each
/// of [`boot_lines`] with its level. Build time only (xtask); it allocates
/// freely.
pub fn sidecar(keyring: &[u8]) -> String {
    let mut s = header(keyring);
    s.push('\n');
    boot_lines(keyring, |l| {
        let level = if l.is_error() { 3 } else { 5 };
        let _ = writeln!(s, "<{level}>{l}");
    });
    s
}

/// The boot lines a sidecar records, in order: `(is_error, text)`. The
/// header and any line without a level prefix are skipped; an empty
/// sidecar (a kernel without a keyring) yields nothing.
///
/// The split is [`sidecar_line`]'s, a `const fn`; the kernel runs it when it
/// is compiled ([`sidecar_lines`]), so the boot only walks the finished list.
pub fn read_sidecar(sidecar: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut pos = 0;
    core::iter::from_fn(move || {
        let (line, next) = sidecar_line(sidecar, pos)?;
        pos = next;
        Some(line)
    })
}

/// How many lines [`read_sidecar`] yields for `sidecar`, in a `const`: the
/// length of [`sidecar_lines`]'s array.
pub const fn sidecar_count(sidecar: &str) -> usize {
    let (mut n, mut pos) = (0, 0);
    while let Some((_, next)) = sidecar_line(sidecar, pos) {
        n += 1;
        pos = next;
    }
    n
}

/// The first `N` lines [`read_sidecar`] yields for `sidecar`, as an array a
/// `static` can hold (slots past its last line hold `(false, "")`). The
/// kernel evaluates it at compile time over the sidecar it embeds, with `N`
/// from [`sidecar_count`]: the line split and the level prefixes are then
/// never run at boot, where QEMU translated them (~60 guest instructions,
/// docs/BENCHMARKS.md, "The physical floor").
pub const fn sidecar_lines<const N: usize>(sidecar: &str) -> [(bool, &str); N] {
    let mut lines = [(false, ""); N];
    let (mut i, mut pos) = (0, 0);
    while i < N {
        let Some((line, next)) = sidecar_line(sidecar, pos) else {
            break;
        };
        lines[i] = line;
        i += 1;
        pos = next;
    }
    lines
}

/// The first boot line of `sidecar` at or after byte `pos` (a line start)
/// and where the line after it starts: the text cut as `str::lines` cuts it
/// (at each `\n`, a `\r` right before it dropped, no empty line after a
/// final `\n`), lines without a `<3>` or `<5>` prefix skipped, the prefix
/// taken off (host test `read_sidecar_is_lines_and_strip_prefix`). Every
/// cut is next to an ASCII byte, so every slice is on char boundaries.
pub const fn sidecar_line(sidecar: &str, mut pos: usize) -> Option<((bool, &str), usize)> {
    let b = sidecar.as_bytes();
    while pos < b.len() {
        let mut end = pos;
        while end < b.len() && b[end] != b'\n' {
            end += 1;
        }
        let next = end + 1;
        // A `\r` goes only before a `\n` (`lines` keeps a last line's).
        if end < b.len() && end > pos && b[end - 1] == b'\r' {
            end -= 1;
        }
        if end - pos >= 3 && b[pos] == b'<' && b[pos + 2] == b'>' {
            let level = b[pos + 1];
            if level == b'3' || level == b'5' {
                let (head, _) = b.split_at(end);
                let (_, text) = head.split_at(pos + 3);
                if let Ok(text) = core::str::from_utf8(text) {
                    return Some(((level == b'3', text), next));
                }
            }
        }
        pos = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    const CERT_A: &[u8] = include_bytes!("../testdata/sig/a.der");
    const CERT_B: &[u8] = include_bytes!("../testdata/sig/b.der");

    fn direct(ring: &[u8]) -> Vec<(bool, String)> {
        let mut v = Vec::new();
        boot_lines(ring, |l| v.push((l.is_error(), l.to_string())));
        v
    }

    fn recorded(ring: &[u8]) -> Vec<(bool, String)> {
        read_sidecar(&sidecar(ring))
            .map(|(e, t)| (e, t.to_string()))
            .collect()
    }

    /// `read_sidecar` answers what `lines` and `strip_prefix` answer, on
    /// sidecars with CRLF, empty lines, no final newline, other levels,
    /// short and non-ASCII lines.
    #[test]
    fn read_sidecar_is_lines_and_strip_prefix() {
        fn reference(s: &str) -> Vec<(bool, &str)> {
            s.lines()
                .filter_map(|l| {
                    if let Some(t) = l.strip_prefix("<3>") {
                        Some((true, t))
                    } else {
                        l.strip_prefix("<5>").map(|t| (false, t))
                    }
                })
                .collect()
        }
        let cases = [
            "",
            "\n",
            "\n\n",
            "<5>",
            "<5>\n",
            "<3>x",
            "# header\n<5>Loading\n<3>Problem (-74)\n",
            "<5>a\r\n<3>b\r\n\r\n<5>c",
            "<4>warn\n<5\n<>\n5>x\n<55>x\n<3>\n",
            "<5>caf\u{e9} \u{2014} ok\n\u{e9}<5>no\n<5>\r",
            "\r\n<5>\r\r\n",
        ];
        for c in cases {
            assert_eq!(read_sidecar(c).collect::<Vec<_>>(), reference(c), "{c:?}");
        }
    }

    /// The sidecar holds exactly what decoding at boot would have printed.
    #[test]
    fn the_sidecar_is_what_key_description_gives() {
        let ring = [CERT_A, CERT_B].concat();
        let got = recorded(&ring);
        assert_eq!(got, direct(&ring));
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            (false, "Loading compiled-in X.509 certificates".to_string())
        );
        for (cert, line) in [CERT_A, CERT_B].iter().zip(&got[1..]) {
            let d = x509::key_description(cert).unwrap();
            assert_eq!(*line, (false, alloc::format!("Loaded X.509 cert '{d}'")));
        }
        assert_eq!(
            got[1].1,
            "Loaded X.509 cert 'Kobold test signing key: 6f4a483ddfe9b784364f16bc028c7884f8b0e3bb'"
        );
        assert!(sidecar(&ring).starts_with(&alloc::format!(
            "# keyring.der: {} bytes, fnv1a64 ",
            ring.len()
        )));
    }

    /// A certificate that does not parse, then a list cut short: Linux's
    /// two failure lines, at `KERN_ERR`, recorded as such.
    #[test]
    fn bad_certificates_give_linuxs_failure_lines() {
        let bad = [CERT_A, b"\x30\x03\x02\x01\x00", &CERT_B[..40]].concat();
        let got = recorded(&bad);
        assert_eq!(got, direct(&bad));
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[2],
            (
                true,
                "Problem loading in-kernel X.509 certificate (-74)".to_string()
            )
        );
        assert_eq!(
            got[3],
            (
                true,
                "Problem parsing in-kernel X.509 certificate list".to_string()
            )
        );
        assert!(sidecar(&bad).contains("\n<3>Problem loading in-kernel X.509 certificate (-74)\n"));
    }

    /// `sidecar_lines` (the kernel's compile-time split) holds exactly
    /// what `read_sidecar` yields, `sidecar_count` of them, then padding.
    #[test]
    fn sidecar_lines_are_read_sidecars() {
        let bad = [CERT_A, b"\x30\x03\x02\x01\x00", &CERT_B[..40]].concat();
        let sides = [
            sidecar(&[CERT_A, CERT_B].concat()),
            sidecar(&bad),
            String::new(),
        ];
        let cases = ["<5>a\r\n<3>b\r\n\r\n<5>c", "x\n<5>caf\u{e9}\n<4>no\n<3>\r"];
        for c in sides.iter().map(String::as_str).chain(cases) {
            let want: Vec<(bool, &str)> = read_sidecar(c).collect();
            assert_eq!(sidecar_count(c), want.len(), "{c:?}");
            let got = sidecar_lines::<8>(c);
            assert_eq!(got[..want.len()], want[..], "{c:?}");
            assert!(got[want.len()..].iter().all(|l| *l == (false, "")));
        }
        const SIDE: &str = "# keyring.der: 1 bytes, fnv1a64 0\n<5>Loading\n<3>Problem\n";
        static LINES: [(bool, &str); sidecar_count(SIDE)] = sidecar_lines(SIDE);
        assert_eq!(LINES, [(false, "Loading"), (true, "Problem")]);
    }

    #[test]
    fn an_empty_keyring_prints_nothing() {
        assert_eq!(recorded(&[]), []);
        assert_eq!(read_sidecar("").count(), 0);
    }

    #[test]
    fn fnv1a64_is_the_published_function() {
        // The FNV reference values (draft-eastlake-fnv).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
