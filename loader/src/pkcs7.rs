//! Module signature verification: Linux's `mod_verify_sig()` →
//! `verify_pkcs7_signature()` (kernel/module/signing.c,
//! certs/system_keyring.c, crypto/asymmetric_keys/pkcs7_*.c in 6.1).
//!
//! The trailer [`crate::signature::split`] takes off a signed module holds a
//! PKCS#7 message (CMS SignedData, RFC 5652, DER) in the form
//! `scripts/sign-file` writes and Debian's kernels carry: *detached* (the
//! signed content is the module's ELF bytes, everything before the
//! message), no certificates, one signer identified by issuer and serial
//! number (or, with `sign-file -k`, by subject key identifier), SHA-256,
//! `rsaEncryption`, normally without authenticated attributes
//! (`CMS_NOATTR`). [`verify`] checks it against a *keyring*: the
//! concatenated DER X.509 certificates the kernel was built with (Linux's
//! `system_certificates`, the `.builtin_trusted_keys`):
//!
//! 1. decode the message (`pkcs7_parse_message`: anything that does not
//!    decode, is not SignedData, or carries its content is `-EBADMSG`; a
//!    digest or public-key algorithm other than SHA-256 / RSA is `-ENOPKG`);
//! 2. with authenticated attributes, digest the module (`pkcs7_digest`):
//!    the `messageDigest` attribute must equal it (else `-EKEYREJECTED`,
//!    "Sig: Message digest doesn't match") and the signature covers the
//!    attributes' DER re-tagged as a SET, as RFC 5652 §5.4 says;
//! 3. find the signer's certificate in the keyring by issuer + serial (or
//!    subject key id) — `pkcs7_validate_trust_one` → `find_asymmetric_key`:
//!    none is `-ENOKEY`;
//! 4. without attributes, digest the module now (Linux digests it in step
//!    2 in every case, but nothing about it can fail there, so the outcome
//!    is the same; see [`verify`]), then verify the RSASSA-PKCS1-v1_5
//!    signature with that certificate's public key
//!    (`public_key_verify_signature`): a mismatch is `-EKEYREJECTED`.
//!
//! All the cryptography and all DER decoding are crates': the DER decoders
//! and the module digest are RustCrypto's (`cms`, `der`, `x509-cert`,
//! `spki`, `pkcs1` for the `RSAPublicKey`, `sha2` for the `messageDigest`
//! check), the RSA check is `ring`'s; this file only decides what is
//! checked, in Linux's order, and which errno each failure is.
//!
//! **Hostile input.** The message comes from the module file. These crates
//! allocate infallibly while decoding (`Vec`s inside `SetOfVec`, `Any`,
//! `OctetString`), so the message is bounded *before* it is handed over:
//! [`MAX_PKCS7_LEN`] (16 KiB; a sign-file message with an RSA-4096 key is
//! under 1 KiB, Debian's are 681 bytes). The decoders never allocate more
//! than a small multiple of their input, so a hostile message costs at most
//! tens of KiB of heap, which the kernel always has before it reads a
//! module. The RSA key comes from the (trusted, built-in) keyring; moduli
//! above 4096 bits are refused (as `rsa` 0.9, which did this before, and
//! Linux's `rsa_check_key_length`), so one verification is one public-key
//! operation with a modulus of at most 4096 bits, and ring checks the
//! signature's length against the modulus before any arithmetic. Nothing
//! here panics on input.
//!
//! **The arithmetic: `ring`.** RSASSA-PKCS1-v1_5 verification (RSAVP1, then
//! the EMSA-PKCS1-v1_5 comparison, RFC 8017 §8.2.2) is
//! `ring::signature::RsaPublicKeyComponents::verify`, which also hashes
//! what was signed (the module, or the authenticated attributes) with
//! SHA-256. Why ring and not RustCrypto's `rsa`, which did it before: an
//! RSA-4096 check with `rsa` 0.9 cost 12.4 million guest instructions
//! (more than Linux's whole insmod+rmmod of a module), because
//! `num-bigint-dig`'s `modpow` runs a fixed 4-bit window over all 32 bits
//! of the exponent's digit: 53 Montgomery multiplications where e = 65537
//! needs 17. ring squares and multiplies along the exponent's bits (16
//! squarings and 2 multiplications for 65537, `elem_exp_vartime`) with
//! OpenSSL's ARM Montgomery multiplication (`armv4-mont`) and SHA-256
//! (`sha256-armv4`), and costs 6.1 million. `rsa` 0.10 (over
//! `crypto-bigint`) was slower still (13.1 million), other opt-levels and
//! 64-bit digits too; the figures are in docs/BENCHMARKS.md ("Where the
//! RSA-4096 check's instructions go"). ring's build leaves its ARM assembly
//! out for a target without an OS, so `cargo xtask build` assembles those
//! two files from ring's package (xtask/src/ring_asm.rs). The verification
//! parameters are `RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY`: the
//! "legacy" is ring's name for accepting 1024- to 2047-bit moduli, which
//! `rsa` 0.9 and Linux 6.1 accept too; a key ring refuses (even modulus,
//! exponent below 3 or even) fails the check with `-EKEYREJECTED`.

use core::fmt;

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode, Reader, SliceReader};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

/// The largest PKCS#7 message handed to the decoders (see the module docs).
pub const MAX_PKCS7_LEN: usize = 16 * 1024;

/// The largest RSA modulus accepted, in bytes (4096 bits).
const MAX_MODULUS_BYTES: usize = 512;

/// The largest built-in keyring parsed (it is build-time data, but the
/// bound keeps [`certificates`] total).
pub const MAX_KEYRING_LEN: usize = 256 * 1024;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");

/// Why a signature was not accepted, as Linux's errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// `-ENODATA`: the module is not signed ([`verify`] never returns it;
    /// the caller does, for a file without a trailer).
    NoData,
    /// `-EBADMSG`: the message does not decode, or is not a detached
    /// SignedData with one signer.
    BadMessage,
    /// `-ENOPKG`: a digest or signature algorithm other than SHA-256 with
    /// RSA.
    Unsupported,
    /// `-ENOKEY`: no certificate of the keyring matches the signer.
    NoKey,
    /// `-EKEYREJECTED`: the signature (or the signed `messageDigest`) does
    /// not match.
    KeyRejected,
}

impl VerifyError {
    /// Linux's errno for it (positive).
    pub fn errno(self) -> i32 {
        match self {
            VerifyError::NoData => 61,       // ENODATA
            VerifyError::BadMessage => 74,   // EBADMSG
            VerifyError::Unsupported => 65,  // ENOPKG
            VerifyError::NoKey => 126,       // ENOKEY
            VerifyError::KeyRejected => 129, // EKEYREJECTED
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerifyError::NoData => "No data available",
            VerifyError::BadMessage => "Bad message",
            VerifyError::Unsupported => "Package not installed",
            VerifyError::NoKey => "Required key not available",
            VerifyError::KeyRejected => "Key was rejected by service",
        })
    }
}

impl core::error::Error for VerifyError {}

/// Iterates over the DER certificates concatenated in `keyring` (Linux's
/// `load_certificate_list`): each item is one certificate's bytes, or
/// `Err` where the list stops decoding (the rest is skipped, as Linux
/// logs "Problem parsing in-kernel X.509 certificate list" and stops).
pub fn certificates(keyring: &[u8]) -> impl Iterator<Item = Result<&[u8], der::Error>> {
    let mut rest = keyring
        .get(..MAX_KEYRING_LEN.min(keyring.len()))
        .unwrap_or(&[]);
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let r = (|| {
            let reader = SliceReader::new(rest)?;
            let header = reader.peek_header()?;
            let len = (header.encoded_len()? + header.length)?;
            let len = usize::try_from(len)?;
            let (one, tail) = rest
                .split_at_checked(len)
                .ok_or(der::ErrorKind::Incomplete {
                    expected_len: len.try_into()?,
                    actual_len: rest.len().try_into()?,
                })?;
            Ok((one, tail))
        })();
        match r {
            Ok((one, tail)) => {
                rest = tail;
                Some(Ok(one))
            }
            Err(e) => {
                rest = &[];
                Some(Err(e))
            }
        }
    })
}

/// The decoded message's one signer.
fn signer_info(pkcs7: &[u8]) -> Result<SignerInfo, VerifyError> {
    if pkcs7.len() > MAX_PKCS7_LEN {
        return Err(VerifyError::BadMessage);
    }
    let ci = ContentInfo::from_der(pkcs7).map_err(|_| VerifyError::BadMessage)?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(VerifyError::BadMessage);
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|_| VerifyError::BadMessage)?;
    // Detached: the module is the content (`pkcs7_supply_detached_data`
    // refuses a message that already has some).
    if sd.encap_content_info.econtent_type != ID_DATA || sd.encap_content_info.econtent.is_some() {
        return Err(VerifyError::BadMessage);
    }
    // Linux's pkcs7_note_signeddata_version / signerinfo_version: PKCS#7
    // (v1, issuer + serial) or CMS (v3, subject key id); the digest
    // algorithm must be one the message announces.
    use cms::content_info::CmsVersion;
    if !matches!(sd.version, CmsVersion::V1 | CmsVersion::V3) {
        return Err(VerifyError::BadMessage);
    }
    let mut infos = sd.signer_infos.0.into_vec().into_iter();
    // sign-file writes one signer; Linux would need every signer to verify.
    match (infos.next(), infos.next()) {
        (Some(si), None) => {
            let version_ok = match si.sid {
                SignerIdentifier::IssuerAndSerialNumber(_) => si.version == CmsVersion::V1,
                SignerIdentifier::SubjectKeyIdentifier(_) => si.version == CmsVersion::V3,
            };
            if !version_ok || !sd.digest_algorithms.iter().any(|a| *a == si.digest_alg) {
                return Err(VerifyError::BadMessage);
            }
            Ok(si)
        }
        _ => Err(VerifyError::BadMessage),
    }
}

/// Whether `cert` is the certificate `sid` names (`asymmetric_key_id`
/// match: issuer + serial, or subject key identifier).
fn names(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    let tbs = &cert.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            tbs.issuer == isn.issuer && tbs.serial_number == isn.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(skid) => {
            matches!(tbs.get::<SubjectKeyIdentifier>(), Ok(Some((_, id))) if id == *skid)
        }
    }
}

/// A keyring certificate's serial number and issuer, decoded without the
/// rest of the certificate (its public key, extensions and signature are
/// skipped as DER, not decoded): what Linux's `asymmetric_key_id` for
/// issuer + serial is made of. Decoding the whole certificate for every
/// insmod only to compare these two fields cost more than the rest of the
/// loader.
fn issuer_and_serial(cert: &[u8]) -> der::Result<(SerialNumber, Name)> {
    fn skip_rest<'r, R: Reader<'r>>(r: &mut R) -> der::Result<()> {
        let rest = r.remaining_len();
        r.read_slice(rest).map(|_| ())
    }
    let mut reader = SliceReader::new(cert)?;
    reader.sequence(|c| {
        let ids = c.sequence(|tbs| {
            // version [0] EXPLICIT, absent for v1.
            if tbs.peek_tag()?.is_context_specific() {
                AnyRef::decode(tbs)?;
            }
            let serial = SerialNumber::decode(tbs)?;
            AnyRef::decode(tbs)?; // signature AlgorithmIdentifier
            let issuer = Name::decode(tbs)?;
            skip_rest(tbs)?;
            Ok((serial, issuer))
        })?;
        skip_rest(c)?;
        Ok(ids)
    })
}

/// The keyring certificate that `sid` names (Linux's
/// `find_asymmetric_key(keyring, auth_ids)`), decoded; `None` when there is
/// none (-ENOKEY). For issuer + serial only those two fields of each
/// certificate are decoded before one matches.
fn find_key(keyring: &[u8], sid: &SignerIdentifier) -> Option<Certificate> {
    for cert in certificates(keyring) {
        // A keyring that does not decode ends the search (build-time
        // data: xtask checks it before embedding it).
        let Ok(cert) = cert else { break };
        if let SignerIdentifier::IssuerAndSerialNumber(isn) = sid {
            let Ok((serial, issuer)) = issuer_and_serial(cert) else {
                break;
            };
            if serial != isn.serial_number || issuer != isn.issuer {
                continue;
            }
        }
        let Ok(cert) = Certificate::from_der(cert) else {
            break;
        };
        if names(&cert, sid) {
            return Some(cert);
        }
    }
    None
}

/// Verifies the detached PKCS#7 signature `pkcs7` of `content` (the
/// module's ELF bytes) against the certificates of `keyring` (Linux's
/// `verify_pkcs7_signature(..., VERIFY_USE_SECONDARY_KEYRING,
/// VERIFYING_MODULE_SIGNATURE)`). See the module docs for each error.
///
/// The content's SHA-256 is computed only when it can change the outcome:
/// with authenticated attributes (whose `messageDigest` must match it,
/// `-EKEYREJECTED` otherwise, which Linux's `pkcs7_verify` decides before
/// it looks for the key), or once the signer's key is found. Linux computes
/// it first in any case (`pkcs7_digest` in `pkcs7_verify_one`), then fails
/// with `-ENOKEY` in `pkcs7_validate_trust_one` when the keyring lacks the
/// signer; without attributes nothing about the digest can fail, so a
/// module signed by an unknown key gets `-ENOKEY` here without hashing it,
/// exactly as in Linux (the hash of a 5 KB module is most of a verification
/// that runs no RSA).
pub fn verify(content: &[u8], pkcs7: &[u8], keyring: &[u8]) -> Result<(), VerifyError> {
    let si = signer_info(pkcs7)?;
    if si.digest_alg.oid != ID_SHA256 {
        return Err(VerifyError::Unsupported);
    }
    if si.signature_algorithm.oid != RSA_ENCRYPTION && si.signature_algorithm.oid != SHA256_WITH_RSA
    {
        return Err(VerifyError::Unsupported);
    }
    // RFC 8017 / RFC 5754: the parameters are NULL or absent.
    for alg in [&si.digest_alg, &si.signature_algorithm] {
        if alg.parameters.as_ref().is_some_and(|p| !p.is_null()) {
            return Err(VerifyError::BadMessage);
        }
    }
    // What the signature covers: the content, or the authenticated
    // attributes, which must name the content's digest.
    let mut buf = [0u8; 1024];
    let signed: &[u8] = match &si.signed_attrs {
        None => content,
        Some(attrs) => {
            let mut md = None;
            let mut ct = None;
            for a in attrs.iter() {
                let mut values = a.values.iter();
                let (Some(v), None) = (values.next(), values.next()) else {
                    return Err(VerifyError::BadMessage);
                };
                if a.oid == ID_MESSAGE_DIGEST {
                    md = Some(
                        v.decode_as::<OctetStringRef<'_>>()
                            .map_err(|_| VerifyError::BadMessage)?,
                    );
                } else if a.oid == ID_CONTENT_TYPE {
                    ct = Some(
                        v.decode_as::<ObjectIdentifier>()
                            .map_err(|_| VerifyError::BadMessage)?,
                    );
                }
            }
            // RFC 5652 §5.3: both are required when attributes are present.
            let (Some(md), Some(ct)) = (md, ct) else {
                return Err(VerifyError::BadMessage);
            };
            if ct != ID_DATA {
                return Err(VerifyError::BadMessage);
            }
            if md.as_bytes() != Sha256::digest(content).as_slice() {
                return Err(VerifyError::KeyRejected);
            }
            // The signature is over the attributes as an explicit SET OF.
            attrs
                .encode_to_slice(&mut buf)
                .map_err(|_| VerifyError::BadMessage)?
        }
    };
    let cert = find_key(keyring, &si.sid).ok_or(VerifyError::NoKey)?;
    let (n, e) = rsa_public_key(&cert)?;
    ring::signature::RsaPublicKeyComponents { n, e }
        .verify(
            &ring::signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            signed,
            si.signature.as_bytes(),
        )
        .map_err(|_| VerifyError::KeyRejected)
}

/// The modulus and public exponent of a certificate's RSA key (big-endian,
/// without leading zeros), with the checks `rsa` 0.9's `RsaPublicKey`
/// decoder made before: the algorithm is `rsaEncryption` with NULL parameters
/// (RFC 3279 §2.3.1), the key is a PKCS#1 `RSAPublicKey` (RFC 8017 §A.1.1),
/// the modulus has at most 4096 bits (Linux's `rsa_check_key_length`
/// allows no more). Anything else is `-ENOPKG`, as before.
fn rsa_public_key(cert: &Certificate) -> Result<(&[u8], &[u8]), VerifyError> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != RSA_ENCRYPTION
        || !spki
            .algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| p.is_null())
    {
        return Err(VerifyError::Unsupported);
    }
    let der = spki
        .subject_public_key
        .as_bytes()
        .ok_or(VerifyError::Unsupported)?;
    let key = pkcs1::RsaPublicKey::from_der(der).map_err(|_| VerifyError::Unsupported)?;
    let n = key.modulus.as_bytes();
    if n.len() > MAX_MODULUS_BYTES {
        return Err(VerifyError::Unsupported);
    }
    Ok((n, key.public_exponent.as_bytes()))
}

/// Linux's `hash_algo_name` for the digest algorithms a module signature
/// may name.
fn hash_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    const NAMES: [(&str, &str); 6] = [
        ("1.3.14.3.2.26", "sha1"),
        ("2.16.840.1.101.3.4.2.4", "sha224"),
        ("2.16.840.1.101.3.4.2.1", "sha256"),
        ("2.16.840.1.101.3.4.2.2", "sha384"),
        ("2.16.840.1.101.3.4.2.3", "sha512"),
        ("2.16.840.1.101.3.4.2.8", "sha3-256"),
    ];
    NAMES
        .iter()
        .find(|(o, _)| ObjectIdentifier::new(o).is_ok_and(|o| o == *oid))
        .map(|&(_, n)| n)
}

/// kmod's `modinfo` lines for a module's PKCS#7 signature message:
/// `signer:` (the issuer's common name), `sig_key:` (the serial number,
/// colon-separated hex, without DER's sign byte, as OpenSSL holds it, or
/// the subject key id) and `sig_hashalgo:`. Writes nothing when the message
/// does not decode (bounded by [`MAX_PKCS7_LEN`] first). Shared by the
/// kernel shell's `modinfo`.
pub fn write_sig_info(out: &mut dyn fmt::Write, pkcs7: &[u8]) -> fmt::Result {
    const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
    let Ok(si) = signer_info(pkcs7) else {
        return Ok(());
    };
    let (cn, key): (&[u8], &[u8]) = match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            let cn = isn
                .issuer
                .0
                .iter()
                .flat_map(|rdn| rdn.0.iter())
                .find(|atv| atv.oid == CN)
                .map(|atv| atv.value.value())
                .unwrap_or(&[]);
            let mut serial = isn.serial_number.as_bytes();
            while let [0, rest @ ..] = serial {
                if rest.is_empty() {
                    break;
                }
                serial = rest;
            }
            (cn, serial)
        }
        SignerIdentifier::SubjectKeyIdentifier(skid) => (&[], skid.0.as_bytes()),
    };
    out.write_str("signer:         ")?;
    for c in core::str::from_utf8(cn).unwrap_or("?").chars() {
        out.write_char(if c.is_control() { '?' } else { c })?;
    }
    out.write_str("\nsig_key:        ")?;
    for (i, b) in key.iter().enumerate() {
        if i > 0 {
            out.write_char(':')?;
        }
        write!(out, "{b:02X}")?;
    }
    writeln!(
        out,
        "\nsig_hashalgo:   {}",
        hash_name(&si.digest_alg.oid).unwrap_or("unknown")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const CERT_A: &[u8] = include_bytes!("../testdata/sig/a.der");
    const CERT_B: &[u8] = include_bytes!("../testdata/sig/b.der");
    const BLOB: &[u8] = include_bytes!("../testdata/sig/blob.elf");
    const SIG_NOATTR: &[u8] = include_bytes!("../testdata/sig/blob.noattr.sig");
    const SIG_ATTR: &[u8] = include_bytes!("../testdata/sig/blob.attr.sig");

    fn keyring(certs: &[&[u8]]) -> Vec<u8> {
        certs.concat()
    }

    #[test]
    fn own_key_is_accepted_with_and_without_attributes() {
        let ring = keyring(&[CERT_B, CERT_A]);
        assert_eq!(verify(BLOB, SIG_NOATTR, &ring), Ok(()));
        assert_eq!(verify(BLOB, SIG_ATTR, &ring), Ok(()));
    }

    #[test]
    fn sig_info_is_kmods() {
        let mut s = alloc::string::String::new();
        write_sig_info(&mut s, SIG_NOATTR).unwrap();
        let mut lines = s.lines();
        assert_eq!(
            lines.next(),
            Some("signer:         Kobold test signing key")
        );
        let key = lines.next().unwrap();
        assert!(
            key.starts_with("sig_key:        ") && key.len() > 16 + 20,
            "{key}"
        );
        assert_eq!(lines.next(), Some("sig_hashalgo:   sha256"));
        let mut s = alloc::string::String::new();
        write_sig_info(&mut s, b"junk").unwrap();
        assert_eq!(s, "");
    }

    #[test]
    fn keyring_lists_each_certificate() {
        let ring = keyring(&[CERT_A, CERT_B]);
        let certs: Vec<_> = certificates(&ring).collect();
        assert_eq!(certs, [Ok(CERT_A), Ok(CERT_B)]);
        let mut bad = ring.clone();
        bad.truncate(CERT_A.len() + 10);
        let certs: Vec<_> = certificates(&bad).collect();
        assert_eq!(certs.len(), 2);
        assert!(certs[1].is_err());
    }

    #[test]
    fn wrong_key_or_no_key_is_enokey() {
        assert_eq!(verify(BLOB, SIG_NOATTR, CERT_B), Err(VerifyError::NoKey));
        assert_eq!(verify(BLOB, SIG_NOATTR, &[]), Err(VerifyError::NoKey));
    }

    /// The partial decode of a keyring certificate names the same signer
    /// as the whole certificate does.
    #[test]
    fn issuer_and_serial_match_the_whole_certificate() {
        for der in [CERT_A, CERT_B] {
            let cert = Certificate::from_der(der).unwrap();
            let (serial, issuer) = issuer_and_serial(der).unwrap();
            assert_eq!(serial, cert.tbs_certificate.serial_number);
            assert_eq!(issuer, cert.tbs_certificate.issuer);
        }
        assert!(issuer_and_serial(&CERT_A[..CERT_A.len() - 1]).is_err());
    }

    /// Linux's order: `pkcs7_verify` checks the signed `messageDigest`
    /// before the keyring is searched, so a changed module signed with
    /// attributes is -EKEYREJECTED even by an unknown key; without
    /// attributes it is -ENOKEY (no digest is needed to say so).
    #[test]
    fn message_digest_is_checked_before_the_key_is_looked_up() {
        let mut m = BLOB.to_vec();
        m[0] ^= 1;
        assert_eq!(verify(&m, SIG_ATTR, CERT_B), Err(VerifyError::KeyRejected));
        assert_eq!(verify(&m, SIG_NOATTR, CERT_B), Err(VerifyError::NoKey));
        assert_eq!(verify(BLOB, SIG_ATTR, CERT_B), Err(VerifyError::NoKey));
    }

    #[test]
    fn a_flipped_content_byte_is_rejected() {
        let ring = keyring(&[CERT_A]);
        for at in [0, BLOB.len() / 2, BLOB.len() - 1] {
            let mut m = BLOB.to_vec();
            m[at] ^= 1;
            assert_eq!(verify(&m, SIG_NOATTR, &ring), Err(VerifyError::KeyRejected));
            assert_eq!(verify(&m, SIG_ATTR, &ring), Err(VerifyError::KeyRejected));
        }
        assert_eq!(
            verify(&BLOB[..BLOB.len() - 1], SIG_NOATTR, &ring),
            Err(VerifyError::KeyRejected)
        );
    }

    /// Every single-byte change of the message is refused, and none
    /// panics: a decoding error, an unknown key or a rejected signature.
    #[test]
    fn every_flipped_message_byte_is_refused() {
        let ring = keyring(&[CERT_A]);
        for sig in [SIG_NOATTR, SIG_ATTR] {
            // Every byte of the structure; a sample of the 512-byte RSA
            // signature value at the end (each costs a public-key op).
            let value = sig.len() - 512;
            for at in (0..value).chain((value..sig.len()).step_by(37)) {
                let mut s = sig.to_vec();
                s[at] ^= 0x01;
                let r = verify(BLOB, &s, &ring);
                assert!(r.is_err(), "byte {at} flipped still verifies");
            }
            for len in 0..sig.len() {
                assert!(verify(BLOB, &sig[..len], &ring).is_err());
            }
        }
    }

    #[test]
    fn oversized_and_garbage_messages_are_ebadmsg() {
        let ring = keyring(&[CERT_A]);
        let big = alloc::vec![0x30u8; MAX_PKCS7_LEN + 1];
        assert_eq!(verify(BLOB, &big, &ring), Err(VerifyError::BadMessage));
        assert_eq!(verify(BLOB, b"", &ring), Err(VerifyError::BadMessage));
        assert_eq!(
            verify(BLOB, b"\x30\x84\xff\xff\xff\xff", &ring),
            Err(VerifyError::BadMessage)
        );
        // A certificate is DER but not a PKCS#7 message.
        assert_eq!(verify(BLOB, CERT_A, &ring), Err(VerifyError::BadMessage));
    }
}
