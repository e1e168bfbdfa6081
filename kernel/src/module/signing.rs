//! Module signature checking: Linux 6.1's `module_sig_check()`
//! (kernel/module/signing.c) over the built-in keyring.
//!
//! **The keyring.** `cargo xtask build` writes the DER certificates the
//! kernel trusts (its own build key's, `certs/signing_key.x509` in Linux,
//! plus every `--trust-cert`) to `target/kobold/keyring.der`; kernel/build.rs
//! embeds the file, as Linux's certs/system_certificates.S embeds
//! `system_certificates` (the ARM kernel only). A kernel built without xtask (plain `cargo
//! build`, the host tests) has an empty keyring and is treated as Linux
//! built without `CONFIG_MODULE_SIG`: no check, no taint.
//!
//! **The policy**, exactly `module_sig_check`'s:
//! - a valid signature from a keyring key: loaded, `sig_ok`;
//! - unsigned (`-ENODATA`), unsupported crypto (`-ENOPKG`), or a key the
//!   keyring lacks (`-ENOKEY`): loaded, tainting the module `E`
//!   (`TAINT_UNSIGNED_MODULE`) with "NAME: module verification failed:
//!   signature and/or required key missing - tainting kernel" (said once
//!   per boot, `pr_notice_once`), unless `module.sig_enforce=1`: then
//!   "Loading of unsigned module is rejected" (or `module with unsupported
//!   crypto`, `module with unavailable key`) and `-EKEYREJECTED`;
//! - a message that does not decode (`-EBADMSG`) or a signature that does
//!   not match its key (`-EKEYREJECTED`, "Key was rejected by service"):
//!   refused under `module.sig_enforce=1` with that errno; without it,
//!   loaded and tainted `E` like an unsigned module. (Linux 6.1 refuses
//!   these even when not enforcing — "All other errors are fatal" — a
//!   deviation kept so that a module whose bytes were changed, e.g. a
//!   vermagic edited for `insmod -f`, meets the same checks as before
//!   signatures; see docs/linux-compat.md.) A trailer that does not hold
//!   together (`mod_check_sig`) stays `-EBADMSG` either way.
//!
//! **`insmod -f`** (Linux's `MODULE_INIT_IGNORE_VERMAGIC` /
//! `MODULE_INIT_IGNORE_MODVERSIONS` flags to `finit_module`) makes the
//! module "mangled": `module_sig_check` does not look at its signature at
//! all ("a module with version information removed is no longer the
//! module that was signed"), so it is an unsigned module: `-ENODATA`,
//! loaded and tainted `E` (with `F` from the vermagic check), or, under
//! `module.sig_enforce=1`, refused with "Loading of unsigned module is
//! rejected" and `-EKEYREJECTED` before any other check. As in Linux the
//! trailer is then not taken off either: the ELF checks ignore the bytes
//! after the sections.
//!
//! **The keyring at boot** ([`load_system_certificate_list`]): Linux's
//! `late_initcall` of certs/system_keyring.c logs `Loading compiled-in
//! X.509 certificates` and, per certificate (`load_certificate_list`,
//! certs/common.c), `Loaded X.509 cert 'DESCRIPTION'` with the key's
//! description ([`kobold_loader::x509`]), both at `KERN_NOTICE`; a
//! certificate that does not parse gives `Problem loading in-kernel X.509
//! certificate (-74)` and a list that does not split into DER
//! certificates `Problem parsing in-kernel X.509 certificate list` (the
//! rest is skipped), both at `KERN_ERR`. Linux parses the certificates at
//! boot because its keyrings also take keys at run time; Kobold's built-in
//! keyring cannot change after the build, so its parse is done once, when
//! the image is made, by the same code (`kobold_loader::keyring::sidecar`
//! over `kobold_loader::x509::key_description`): `cargo xtask build` writes
//! the lines next to the keyring, kernel/build.rs embeds both, the lines
//! are split when the kernel is compiled ([`KEYRING_LINES`]) and the boot
//! prints them. The log is the same line
//! for line; the boot no longer runs (so QEMU no longer translates) the DER
//! decoder, about 10 ms of a 70 ms QEMU run (docs/BENCHMARKS.md).

use core::sync::atomic::{AtomicBool, Ordering};

use kobold_loader::pkcs7::{self, VerifyError};
use kobold_loader::signature::{self, SigError};

use crate::errno::Errno;

/// The certificates the kernel trusts (concatenated DER), embedded at build
/// time by kernel/build.rs.
pub static KEYRING: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/keyring.der"));

/// The heap the verifier may need for one module (its message is at most
/// `kobold_loader::pkcs7::MAX_PKCS7_LEN`, 16 KiB; decoding, the keyring's
/// certificates and RSA-4096 arithmetic take a few times that): reserved
/// fallibly before it runs.
pub const HEAP_BUDGET: usize = 128 * 1024;

static SIG_ENFORCE: AtomicBool = AtomicBool::new(false);

/// Sets `module.sig_enforce` (at boot, from the command line).
pub fn set_enforce(on: bool) {
    SIG_ENFORCE.store(on, Ordering::Relaxed);
}

/// Whether `module.sig_enforce` is on (Linux's `is_module_sig_enforced`).
pub fn enforced() -> bool {
    SIG_ENFORCE.load(Ordering::Relaxed)
}

/// What [`check`] decided about a module file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked<'a> {
    /// The ELF bytes (the trailer taken off).
    pub elf: &'a [u8],
    /// Linux's `info->sig_ok`: `false` taints the module `E`.
    pub sig_ok: bool,
}

/// Why [`check`] refused a module: the errno and Linux's message (without
/// the module name where Linux prints none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub errno: Errno,
    /// `Loading of REASON is rejected` under enforcement, else the
    /// verifier's reason.
    pub reason: &'static str,
    /// Whether Linux logs `reason` (the enforcement notice) or not.
    pub logged: bool,
}

/// `module_sig_check(info, flags)` for the file `bytes`, against `keyring`
/// with `enforce`; `forced` is `insmod -f` (see the module docs).
pub fn check<'a>(
    bytes: &'a [u8],
    keyring: &[u8],
    enforce: bool,
    forced: bool,
) -> Result<Checked<'a>, Refusal> {
    let fatal = |errno: Errno, reason: &'static str| Refusal {
        errno,
        reason,
        logged: false,
    };
    // A forced ("mangled") module is not looked at: unsigned.
    let (elf, verdict) = match signature::split(bytes) {
        _ if forced => (bytes, Err(VerifyError::NoData)),
        Ok((elf, None)) => (elf, Err(VerifyError::NoData)),
        Ok((elf, Some(sig))) => (elf, pkcs7::verify(elf, sig.pkcs7, keyring)),
        // A trailer that is not PKCS#7: the file is loaded as it is
        // (trailing bytes the ELF checks ignore), as unsupported crypto.
        Err(SigError::NotPkcs7 { .. }) => (bytes, Err(VerifyError::Unsupported)),
        Err(SigError::Truncated | SigError::NonZeroParams) => {
            return Err(fatal(Errno::EBADMSG, "Bad message"));
        }
    };
    let reason = match verdict {
        Ok(()) => return Ok(Checked { elf, sig_ok: true }),
        Err(VerifyError::NoData) => "unsigned module",
        Err(VerifyError::Unsupported) => "module with unsupported crypto",
        Err(VerifyError::NoKey) => "module with unavailable key",
        Err(VerifyError::BadMessage) if enforce => {
            return Err(fatal(Errno::EBADMSG, "Bad message"));
        }
        Err(VerifyError::KeyRejected) if enforce => {
            return Err(fatal(Errno::EKEYREJECTED, "Key was rejected by service"));
        }
        Err(VerifyError::BadMessage | VerifyError::KeyRejected) => "module with a bad signature",
    };
    if enforce {
        return Err(Refusal {
            errno: Errno::EKEYREJECTED,
            reason,
            logged: true,
        });
    }
    Ok(Checked { elf, sig_ok: false })
}

/// The sidecar of the built-in keyring, as `cargo xtask build` recorded it
/// next to the keyring (`kobold_loader::keyring::sidecar`), embedded by
/// kernel/build.rs with it; empty when the keyring is.
const KEYRING_SIDECAR: &str = include_str!(concat!(env!("OUT_DIR"), "/keyring.lines"));

/// The built-in keyring's boot lines, `(is_error, text)`, split out of the
/// sidecar when the kernel is compiled (`kobold_loader::keyring::sidecar_lines`
/// is a `const fn`): the boot only walks this list.
pub static KEYRING_LINES: &[(bool, &str)] = &kobold_loader::keyring::sidecar_lines::<
    { kobold_loader::keyring::sidecar_count(KEYRING_SIDECAR) },
>(KEYRING_SIDECAR);

/// Linux's `load_system_certificate_list` (a `late_initcall`, after the
/// timer and the initramfs): each boot line recorded in `lines` (see the
/// module docs), in order, handed to `log` with whether it is a `KERN_ERR`
/// line (else `KERN_NOTICE`). Nothing is decoded or parsed here.
pub fn load_system_certificate_list<'a>(
    lines: &[(bool, &'a str)],
    mut log: impl FnMut(bool, &'a str),
) {
    for &(is_error, text) in lines {
        log(is_error, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const CERT_A: &[u8] = include_bytes!("../../../loader/testdata/sig/a.der");
    const CERT_B: &[u8] = include_bytes!("../../../loader/testdata/sig/b.der");
    const BLOB: &[u8] = include_bytes!("../../../loader/testdata/sig/blob.elf");
    const SIG: &[u8] = include_bytes!("../../../loader/testdata/sig/blob.noattr.sig");

    fn signed(elf: &[u8], sig: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(elf);
        v.extend_from_slice(sig);
        v.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&(sig.len() as u32).to_be_bytes());
        v.extend_from_slice(signature::MODULE_SIG_STRING);
        v
    }

    #[test]
    fn a_good_signature_loads_with_or_without_enforcement() {
        let f = signed(BLOB, SIG);
        for enforce in [false, true] {
            assert_eq!(
                check(&f, CERT_A, enforce, false),
                Ok(Checked {
                    elf: BLOB,
                    sig_ok: true
                })
            );
        }
    }

    #[test]
    fn unsigned_or_unknown_key_taints_unless_enforced() {
        let f = signed(BLOB, SIG);
        for (file, ring, reason) in [
            (BLOB, CERT_A, "unsigned module"),
            (&f[..], CERT_B, "module with unavailable key"),
        ] {
            let c = check(file, ring, false, false).unwrap();
            assert!(!c.sig_ok);
            assert_eq!(c.elf, BLOB);
            let r = check(file, ring, true, false).unwrap_err();
            assert_eq!(
                r,
                Refusal {
                    errno: Errno::EKEYREJECTED,
                    reason,
                    logged: true
                }
            );
        }
    }

    #[test]
    fn a_bad_signature_or_message_is_refused_when_enforced_else_taints() {
        let mut f = signed(BLOB, SIG);
        f[100] ^= 1; // the ELF
        let r = check(&f, CERT_A, true, false).unwrap_err();
        assert_eq!(r.errno, Errno::EKEYREJECTED);
        assert!(!check(&f, CERT_A, false, false).unwrap().sig_ok);
        let mut f = signed(BLOB, SIG);
        let at = BLOB.len() + SIG.len() - 10; // the RSA signature value
        f[at] ^= 1;
        let r = check(&f, CERT_A, true, false).unwrap_err();
        assert_eq!(r.errno, Errno::EKEYREJECTED);
        assert!(!check(&f, CERT_A, false, false).unwrap().sig_ok);
        let mut f = signed(BLOB, SIG);
        f[BLOB.len()] ^= 0x20; // the message's outer SEQUENCE tag
        let r = check(&f, CERT_A, true, false).unwrap_err();
        assert_eq!(r.errno, Errno::EBADMSG);
        assert!(!check(&f, CERT_A, false, false).unwrap().sig_ok);
        // The trailer: sig_len one too large.
        let mut f = signed(BLOB, SIG);
        let at = f.len() - signature::MODULE_SIG_STRING.len() - 1;
        f[at] ^= 1;
        assert!(check(&f, CERT_A, true, false).is_err());
        // Truncated trailer: the marker and part of module_signature.
        let f = signed(BLOB, SIG);
        let cut = [&f[..f.len() - 34], signature::MODULE_SIG_STRING].concat();
        assert!(check(&cut, CERT_A, true, false).is_err());
    }

    /// Linux's mangled module: the signature is not looked at, whatever
    /// it is, and the file stays whole.
    #[test]
    fn forced_loads_are_unsigned() {
        let good = signed(BLOB, SIG);
        let mut flipped = signed(BLOB, SIG);
        flipped[100] ^= 1;
        let truncated = [&good[..good.len() - 34], signature::MODULE_SIG_STRING].concat();
        for f in [&good[..], &flipped, &truncated, BLOB] {
            assert_eq!(
                check(f, CERT_A, false, true),
                Ok(Checked {
                    elf: f,
                    sig_ok: false
                })
            );
            assert_eq!(
                check(f, CERT_A, true, true),
                Err(Refusal {
                    errno: Errno::EKEYREJECTED,
                    reason: "unsigned module",
                    logged: true
                })
            );
        }
    }

    /// The boot hands on every recorded line, in order, with its level;
    /// what the lines say is `kobold_loader::keyring`'s (tested there).
    #[test]
    fn keyring_boot_lines_are_the_recorded_ones() {
        use alloc::string::{String, ToString};
        let bad = [CERT_A, b"\x30\x03\x02\x01\x00", &CERT_B[..40]].concat();
        let side = kobold_loader::keyring::sidecar(&bad);
        let lines = kobold_loader::keyring::sidecar_lines::<4>(&side);
        let mut got: Vec<(bool, String)> = Vec::new();
        load_system_certificate_list(&lines, |e, l| got.push((e, l.to_string())));
        let want: Vec<(bool, String)> = kobold_loader::keyring::read_sidecar(&side)
            .map(|(e, l)| (e, l.to_string()))
            .collect();
        assert_eq!(got, want);
        // Both levels occur: a KERN_NOTICE line and the KERN_ERR ones.
        assert_eq!(got.iter().filter(|(e, _)| *e).count(), 2, "{got:?}");
        assert_eq!(got.len(), 4);
        let mut n = 0;
        load_system_certificate_list(&[], |_, _| n += 1);
        assert_eq!(n, 0);
    }

    /// The embedded lines, split at compile time, are the embedded
    /// sidecar's as `read_sidecar` reads it at run time.
    #[test]
    fn the_embedded_lines_are_the_embedded_sidecars() {
        let want: Vec<(bool, &str)> =
            kobold_loader::keyring::read_sidecar(KEYRING_SIDECAR).collect();
        assert_eq!(KEYRING_LINES, &want[..]);
    }
}
