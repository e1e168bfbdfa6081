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
//! produced). The kernel prints them with [`read_sidecar`], a line split
//! that runs no DER decoder. Decoding at boot cost no memory but about
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
/// sidecar (a kernel without a keyring) yields nothing. This is all the
/// kernel runs at boot.
///
/// The lines are split and their levels read a byte at a time, in line:
/// `str::lines` and `strip_prefix` cost core's `memchr` and `memcmp`, about
/// 170 guest instructions that QEMU translated at boot for these few lines
/// alone (docs/BENCHMARKS.md, the physical floor). The result is theirs
/// (host test `read_sidecar_is_lines_and_strip_prefix`).
pub fn read_sidecar(sidecar: &str) -> impl Iterator<Item = (bool, &str)> {
    SidecarLines(sidecar).filter_map(|l| {
        let b = l.as_bytes();
        if b.len() >= 3 && b[0] == b'<' && b[2] == b'>' && (b[1] == b'3' || b[1] == b'5') {
            // Three ASCII bytes: a char boundary.
            l.get(3..).map(|t| (b[1] == b'3', t))
        } else {
            None
        }
    })
}

/// `str::lines`: the text split at each `\n`, a `\r` right before it
/// dropped, no empty line after a final `\n`.
struct SidecarLines<'a>(&'a str);

impl<'a> Iterator for SidecarLines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let text = self.0;
        if text.is_empty() {
            return None;
        }
        let b = text.as_bytes();
        let mut end = 0;
        while end < b.len() && b[end] != b'\n' {
            end += 1;
        }
        // `\n` is ASCII, so both ends are char boundaries.
        let line = text.get(..end).unwrap_or(text);
        self.0 = text.get(end + 1..).unwrap_or("");
        // A `\r` goes only before a `\n` (`lines` keeps a last line's).
        Some(match line.as_bytes().last() {
            Some(b'\r') if end < b.len() => line.get(..line.len() - 1).unwrap_or(line),
            _ => line,
        })
    }
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
