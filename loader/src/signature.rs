//! The module signature trailer: what `scripts/sign-file` appends to a
//! `.ko` and Linux's `module_sig_check()` / `mod_check_sig()` strip before
//! the ELF file is parsed (kernel/module/signing.c, kernel/module_signature.c).
//!
//! A signed module is `ELF bytes ‖ PKCS#7 (CMS SignedData, DER) ‖ struct
//! module_signature ‖ "~Module signature appended~\n"`. The 12-byte
//! `struct module_signature` is
//!
//! ```text
//! u8 algo, hash, id_type, signer_len, key_id_len, __pad[3]; __be32 sig_len;
//! ```
//!
//! and for PKCS#7 (`id_type == PKEY_ID_PKCS7`, 2) every field but `sig_len`
//! is zero: the signer, key id and hash algorithm are inside the PKCS#7
//! message. [`split`] mirrors `mod_check_sig` exactly: a file that does not
//! end with the marker is unsigned (the whole file is the ELF); a trailer
//! whose length does not fit is `-EBADMSG`; a non-PKCS#7 id type is
//! `-ENOPKG` ("Module is not signed with expected PKCS#7 message"); non-zero
//! parameter fields are `-EBADMSG`. Every length is checked against the
//! file before it is used, and nothing is allocated.
//!
//! Verifying the signature (the key ring, `verify_pkcs7_signature`) is not
//! done here: that is issue 12. The kernel strips the trailer so the ELF
//! checks see what Linux's do; `modinfo` reports the signer from the PKCS#7.

use core::fmt;

/// The marker `sign-file` ends a signed module with (Linux's
/// `MODULE_SIG_STRING`).
pub const MODULE_SIG_STRING: &[u8] = b"~Module signature appended~\n";

/// `sizeof(struct module_signature)`.
pub const MODULE_SIGNATURE_SIZE: usize = 12;

/// `PKEY_ID_PKCS7`: the only `id_type` Linux accepts.
pub const PKEY_ID_PKCS7: u8 = 2;

/// A module's signature trailer, as `mod_check_sig` accepted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature<'a> {
    pub algo: u8,
    pub hash: u8,
    pub id_type: u8,
    pub signer_len: u8,
    pub key_id_len: u8,
    /// `sig_len` (big-endian in the file): the PKCS#7 message's length.
    pub sig_len: u32,
    /// The PKCS#7 message (DER), `sig_len` bytes.
    pub pkcs7: &'a [u8],
}

impl Signature<'_> {
    /// kmod's `sig_id` for this trailer's `id_type`.
    pub fn id_type_name(&self) -> &'static str {
        match self.id_type {
            0 => "PGP",
            1 => "X509",
            PKEY_ID_PKCS7 => "PKCS#7",
            _ => "unknown",
        }
    }
}

/// Why a signature trailer was refused (Linux's errno in the comment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigError {
    /// `-EBADMSG`: the trailer or the message it announces does not fit in
    /// the file.
    Truncated,
    /// `-ENOPKG`: "Module is not signed with expected PKCS#7 message".
    NotPkcs7 { id_type: u8 },
    /// `-EBADMSG`: "PKCS#7 signature with non-zero param fields".
    NonZeroParams,
}

impl fmt::Display for SigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigError::Truncated => write!(f, "module signature trailer is truncated"),
            SigError::NotPkcs7 { .. } => {
                write!(f, "Module is not signed with expected PKCS#7 message")
            }
            SigError::NonZeroParams => write!(f, "PKCS#7 signature with non-zero param fields"),
        }
    }
}

impl core::error::Error for SigError {}

/// Splits a module file into its ELF bytes and, if it is signed, its
/// signature (Linux's `module_sig_check` + `mod_check_sig`).
pub fn split(file: &[u8]) -> Result<(&[u8], Option<Signature<'_>>), SigError> {
    let Some(body) = file.strip_suffix(MODULE_SIG_STRING) else {
        return Ok((file, None));
    };
    // mod_check_sig: `if (len <= sizeof(*ms)) return -EBADMSG`.
    if body.len() <= MODULE_SIGNATURE_SIZE {
        return Err(SigError::Truncated);
    }
    let (rest, ms) = body.split_at(body.len() - MODULE_SIGNATURE_SIZE);
    let &[
        algo,
        hash,
        id_type,
        signer_len,
        key_id_len,
        p0,
        p1,
        p2,
        l0,
        l1,
        l2,
        l3,
    ] = ms
    else {
        return Err(SigError::Truncated);
    };
    let sig_len = u32::from_be_bytes([l0, l1, l2, l3]);
    // `if (be32_to_cpu(ms->sig_len) >= file_len - sizeof(*ms))`: the
    // message must leave at least one byte of module.
    if sig_len as usize >= rest.len() {
        return Err(SigError::Truncated);
    }
    if id_type != PKEY_ID_PKCS7 {
        return Err(SigError::NotPkcs7 { id_type });
    }
    if algo != 0 || hash != 0 || signer_len != 0 || key_id_len != 0 || (p0 | p1 | p2) != 0 {
        return Err(SigError::NonZeroParams);
    }
    let (elf, pkcs7) = rest.split_at(rest.len() - sig_len as usize);
    Ok((
        elf,
        Some(Signature {
            algo,
            hash,
            id_type,
            signer_len,
            key_id_len,
            sig_len,
            pkcs7,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn signed(elf: &[u8], sig: &[u8], ms: [u8; 8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(elf);
        v.extend_from_slice(sig);
        v.extend_from_slice(&ms);
        v.extend_from_slice(&(sig.len() as u32).to_be_bytes());
        v.extend_from_slice(MODULE_SIG_STRING);
        v
    }

    #[test]
    fn unsigned_is_the_whole_file() {
        let f = b"\x7fELF....";
        assert_eq!(split(f), Ok((&f[..], None)));
        assert_eq!(split(b""), Ok((&b""[..], None)));
    }

    #[test]
    fn pkcs7_trailer_is_split() {
        let f = signed(b"\x7fELFbody", b"PKCS7", [0, 0, 2, 0, 0, 0, 0, 0]);
        let (elf, sig) = split(&f).unwrap();
        assert_eq!(elf, b"\x7fELFbody");
        let sig = sig.unwrap();
        assert_eq!(sig.pkcs7, b"PKCS7");
        assert_eq!(sig.sig_len, 5);
        assert_eq!(sig.id_type_name(), "PKCS#7");
    }

    #[test]
    fn bad_trailers_are_refused_as_mod_check_sig() {
        // Only the marker.
        assert_eq!(split(MODULE_SIG_STRING), Err(SigError::Truncated));
        // sig_len covering the whole rest (no module byte left).
        let f = signed(b"", b"PKCS7", [0, 0, 2, 0, 0, 0, 0, 0]);
        assert_eq!(split(&f), Err(SigError::Truncated));
        // sig_len far past the file.
        let mut f = signed(b"ELF", b"S", [0, 0, 2, 0, 0, 0, 0, 0]);
        let at = f.len() - MODULE_SIG_STRING.len() - 4;
        f[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(split(&f), Err(SigError::Truncated));
        let f = signed(b"ELF", b"S", [0, 0, 1, 0, 0, 0, 0, 0]);
        assert_eq!(split(&f), Err(SigError::NotPkcs7 { id_type: 1 }));
        for i in [0, 1, 3, 4, 5, 6, 7] {
            let mut ms = [0, 0, 2, 0, 0, 0, 0, 0];
            ms[i] = 1;
            let f = signed(b"ELF", b"S", ms);
            assert_eq!(split(&f), Err(SigError::NonZeroParams), "field {i}");
        }
    }
}
