//! The description Linux gives a key made from an X.509 certificate
//! (crypto/asymmetric_keys/x509_public_key.c, `x509_key_preparse`), which
//! the boot log's `Loaded X.509 cert '...'` line shows for each built-in
//! certificate (`load_certificate_list`, certs/common.c in 6.1).
//!
//! The description is `SUBJECT: ID`:
//! - `SUBJECT` is the name `x509_fabricate_name` builds from the subject's
//!   last commonName, organizationName and emailAddress attributes: with
//!   both CN and O, the CN alone when it starts with the whole O or shares
//!   its first 7 bytes with it, else `O: CN`; with one of them, that one;
//!   else the email address; else empty. The values are the attributes'
//!   raw bytes, whatever their string type, as Linux copies them.
//! - `ID` is the subject key identifier extension's bytes in lower-case hex
//!   (`bin2hex`), or, without one, the serial number's DER content bytes
//!   (a leading 0x00 sign byte included, as `x509_note_serial` keeps it).
//!
//! The certificate is decoded with RustCrypto's `x509-cert`, as
//! [`crate::pkcs7::verify`] decodes the keyring; nothing is decided here
//! beyond the name and id Linux shows.

use core::fmt::{self, Write};

use der::Decode;
use der::asn1::{ObjectIdentifier, OctetStringRef};
use x509_cert::Certificate;

const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const EMAIL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
const SKID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

/// A decoded certificate, displayed as Linux's key description.
#[derive(Debug)]
pub struct KeyDescription {
    cert: Certificate,
}

/// Decodes the DER certificate `der` for its description; `Err` is the
/// errno Linux's `x509_cert_parse` gives a certificate that does not parse
/// (`-EBADMSG`, positive).
pub fn key_description(der: &[u8]) -> Result<KeyDescription, i32> {
    const EBADMSG: i32 = 74;
    Certificate::from_der(der)
        .map(|cert| KeyDescription { cert })
        .map_err(|_| EBADMSG)
}

impl KeyDescription {
    /// The last value of attribute `oid` in the subject (Linux's parser
    /// keeps the last one it meets).
    fn subject_attr(&self, oid: ObjectIdentifier) -> Option<&[u8]> {
        self.cert
            .tbs_certificate
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .filter(|atv| atv.oid == oid)
            .map(|atv| atv.value.value())
            .last()
    }

    /// The subject key identifier extension's bytes, else the serial
    /// number's.
    fn id(&self) -> &[u8] {
        let tbs = &self.cert.tbs_certificate;
        tbs.extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == SKID)
            .and_then(|e| OctetStringRef::from_der(e.extn_value.as_bytes()).ok())
            .map_or(tbs.serial_number.as_bytes(), |v| v.as_bytes())
    }
}

/// `x509_fabricate_name` from the subject's CN, O and email: an optional
/// first component (`O: `) and the name.
fn fabricate<'a>(
    cn: Option<&'a [u8]>,
    o: Option<&'a [u8]>,
    email: Option<&'a [u8]>,
) -> (Option<&'a [u8]>, &'a [u8]) {
    let cn = cn.filter(|v| !v.is_empty());
    let o = o.filter(|v| !v.is_empty());
    match (cn, o) {
        (Some(cn), Some(o)) => {
            let same7 = cn.len() >= 7 && o.len() >= 7 && cn.get(..7) == o.get(..7);
            if cn.starts_with(o) || same7 {
                (None, cn)
            } else {
                (Some(o), cn)
            }
        }
        (Some(one), None) | (None, Some(one)) => (None, one),
        (None, None) => (None, email.unwrap_or(&[])),
    }
}

/// Bytes as `%s` shows them, control characters as `?` (a console line
/// stays one line).
fn write_bytes(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            f.write_char(if c.is_control() { '?' } else { c })?;
        }
        if !chunk.invalid().is_empty() {
            f.write_str("?")?;
        }
    }
    Ok(())
}

impl fmt::Display for KeyDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (o, cn) = fabricate(
            self.subject_attr(CN),
            self.subject_attr(O),
            self.subject_attr(EMAIL),
        );
        if let Some(o) = o {
            write_bytes(f, o)?;
            f.write_str(": ")?;
        }
        write_bytes(f, cn)?;
        f.write_str(": ")?;
        for b in self.id() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const CERT_A: &[u8] = include_bytes!("../testdata/sig/a.der");

    #[test]
    fn description_is_cn_and_subject_key_id() {
        // O = Kobold, CN = Kobold test signing key: the CN starts with
        // the O, so the CN alone; the SKID (openssl x509 -ext
        // subjectKeyIdentifier) in lower-case hex.
        assert_eq!(
            key_description(CERT_A).unwrap().to_string(),
            "Kobold test signing key: 6f4a483ddfe9b784364f16bc028c7884f8b0e3bb"
        );
    }

    #[test]
    fn the_name_is_fabricated_as_linux_does() {
        let f = |cn: &'static str, o: &'static str, e: &'static str| {
            let some = |s: &'static str| (!s.is_empty()).then_some(s.as_bytes());
            fabricate(some(cn), some(o), some(e))
        };
        let name = |s: &'static str| s.as_bytes();
        // Debian's: CN not prefixed by the O, which is short: "O: CN".
        assert_eq!(
            f("Build time autogenerated kernel key", "Debian", ""),
            (
                Some(name("Debian")),
                name("Build time autogenerated kernel key")
            )
        );
        // CN starting with the O, or sharing its first 7 bytes: the CN.
        assert_eq!(f("Kobold key", "Kobold", ""), (None, name("Kobold key")));
        assert_eq!(
            f("Example Org CA", "Example Inc", ""),
            (None, name("Example Org CA"))
        );
        assert_eq!(f("", "Only O", "x@y"), (None, name("Only O")));
        assert_eq!(f("Only CN", "", "x@y"), (None, name("Only CN")));
        assert_eq!(f("", "", "x@y"), (None, name("x@y")));
        assert_eq!(f("", "", ""), (None, name("")));
    }

    #[test]
    fn garbage_is_ebadmsg() {
        assert_eq!(key_description(b"junk").err(), Some(74));
        assert_eq!(key_description(&CERT_A[..100]).err(), Some(74));
    }
}
