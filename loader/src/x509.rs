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
//! The certificate's DER is read with RustCrypto's `der` (see
//! [`key_description`] for why not a whole `x509-cert` decode); nothing is
//! decided here beyond the name and id Linux shows.

use core::fmt::{self, Write};

use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Reader, SliceReader, Tag, TagNumber, Tagged};

const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const EMAIL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
const SKID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

/// What Linux's key description is made of, borrowed from the
/// certificate: the subject's last CN, O and email, and the key id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyDescription<'a> {
    cn: Option<&'a [u8]>,
    o: Option<&'a [u8]>,
    email: Option<&'a [u8]>,
    /// The subject key identifier, else the serial number's bytes.
    id: &'a [u8],
}

/// Reads the DER certificate `der` for its description; `Err` is the errno
/// Linux's `x509_cert_parse` gives a certificate that does not parse
/// (`-EBADMSG`, positive).
///
/// Like `x509_cert_parse`, it reads only what it needs — the fields of
/// `TBSCertificate` up to the extensions, each one a DER TLV checked by
/// `der` — and allocates nothing: a full `x509_cert::Certificate` decode
/// costs the boot several milliseconds of QEMU time for lines the kernel
/// only prints. The signature over the certificate is not checked (Linux
/// does not check a built-in one either: it is trusted by being built in).
pub fn key_description(der: &[u8]) -> Result<KeyDescription<'_>, i32> {
    const EBADMSG: i32 = 74;
    parse(der).map_err(|_| EBADMSG)
}

/// The value of a SEQUENCE (or SET) TLV, or an error.
fn contents<'a>(any: AnyRef<'a>, tag: Tag) -> der::Result<SliceReader<'a>> {
    if any.tag() != tag {
        return Err(any.tag().unexpected_error(Some(tag)));
    }
    SliceReader::new(any.value())
}

fn parse(der: &[u8]) -> der::Result<KeyDescription<'_>> {
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
    let mut cert = contents(AnyRef::from_der(der)?, Tag::Sequence)?;
    let mut tbs = contents(cert.decode()?, Tag::Sequence)?;
    // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber,
    //   signature, issuer, validity, subject, subjectPublicKeyInfo,
    //   [1] [2] OPTIONAL, [3] extensions OPTIONAL }
    let explicit = |n| Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::new(n),
    };
    let mut serial: AnyRef<'_> = tbs.decode()?;
    if serial.tag() == explicit(0) {
        serial = tbs.decode()?;
    }
    if serial.tag() != Tag::Integer {
        return Err(serial.tag().unexpected_error(Some(Tag::Integer)));
    }
    for _ in 0..3 {
        let _signature_issuer_validity: AnyRef<'_> = tbs.decode()?;
    }
    let mut d = KeyDescription {
        cn: None,
        o: None,
        email: None,
        id: serial.value(),
    };
    // Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }
    let mut rdns = contents(tbs.decode()?, Tag::Sequence)?;
    while !rdns.is_finished() {
        let mut set = contents(rdns.decode()?, Tag::Set)?;
        while !set.is_finished() {
            let mut atv = contents(set.decode()?, Tag::Sequence)?;
            let oid: ObjectIdentifier = atv.decode()?;
            let value: AnyRef<'_> = atv.decode()?;
            match oid {
                CN => d.cn = Some(value.value()),
                O => d.o = Some(value.value()),
                EMAIL => d.email = Some(value.value()),
                _ => {}
            }
        }
    }
    let _spki: AnyRef<'_> = tbs.decode()?;
    while !tbs.is_finished() {
        let field: AnyRef<'_> = tbs.decode()?;
        if field.tag() != explicit(3) {
            continue;
        }
        // Extensions ::= SEQUENCE OF SEQUENCE { extnID, critical BOOLEAN
        //   DEFAULT FALSE, extnValue OCTET STRING }; the SKID's extnValue
        // holds an OCTET STRING.
        let mut exts = contents(AnyRef::from_der(field.value())?, Tag::Sequence)?;
        while !exts.is_finished() {
            let mut ext = contents(exts.decode()?, Tag::Sequence)?;
            let oid: ObjectIdentifier = ext.decode()?;
            let mut value: AnyRef<'_> = ext.decode()?;
            if value.tag() == Tag::Boolean {
                value = ext.decode()?;
            }
            if oid == SKID {
                let v = OctetStringRef::from_der(value.value())?;
                d.id = v.as_bytes();
            }
        }
    }
    Ok(d)
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

impl fmt::Display for KeyDescription<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (o, cn) = fabricate(self.cn, self.o, self.email);
        if let Some(o) = o {
            write_bytes(f, o)?;
            f.write_str(": ")?;
        }
        write_bytes(f, cn)?;
        f.write_str(": ")?;
        for b in self.id {
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

    /// The key id and CN are what RustCrypto's full decode finds; no
    /// truncation parses and no flipped byte panics.
    #[test]
    fn agrees_with_x509_cert_and_never_panics() {
        use x509_cert::ext::pkix::SubjectKeyIdentifier;
        const CERT_B: &[u8] = include_bytes!("../testdata/sig/b.der");
        for der in [CERT_A, CERT_B] {
            let c = x509_cert::Certificate::from_der(der).unwrap();
            let (_, skid) = c
                .tbs_certificate
                .get::<SubjectKeyIdentifier>()
                .unwrap()
                .unwrap();
            let d = key_description(der).unwrap();
            assert_eq!(d.id, skid.0.as_bytes());
            let mut atvs = c.tbs_certificate.subject.0.iter().flat_map(|r| r.0.iter());
            let cn = atvs.rfind(|a| a.oid == CN).unwrap();
            assert_eq!(d.cn, Some(cn.value.value()));
        }
        for len in 0..CERT_A.len() {
            assert!(key_description(&CERT_A[..len]).is_err());
        }
        for at in 0..CERT_A.len() {
            let mut c = CERT_A.to_vec();
            c[at] ^= 0x80;
            let _ = key_description(&c);
        }
    }

    #[test]
    fn garbage_is_ebadmsg() {
        assert_eq!(key_description(b"junk").err(), Some(74));
        assert_eq!(key_description(&CERT_A[..100]).err(), Some(74));
    }
}
