//! `cargo xtask modinfo FILE.ko`: what a module is, as the kernel's loader
//! sees it — the `.modinfo` keys (printed like modinfo(8), by the same
//! formatter as the kernel shell's `modinfo`), then the sections,
//! exported and undefined symbols, and the relocations by type. It runs the
//! same validation as `insmod`, so a malformed file gets the same error.

use anyhow::{Context, Result, anyhow, bail};
use kobold_loader::{relocate, validate};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// Resolves every undefined symbol to one kernel address: enough to link
/// a module and read its tables.
struct AnyKernel;

impl kobold_loader::link::Resolver for AnyKernel {
    fn resolve(&self, _: &str) -> Option<kobold_loader::relocate::Target> {
        Some(kobold_loader::relocate::Target {
            value: 0xc000_8000,
            is_func: true,
        })
    }
}

/// The exports as the kernel reads them: link at the module window's
/// start and read `__ksymtab` / `__ksymtab_gpl` (sorted by name); GPL-only
/// ones marked. Falls back to the `__ksymtab_NAME` symbols C's
/// EXPORT_SYMBOL leaves if the module does not link.
fn exports(m: &kobold_loader::Module<'_>, l: &kobold_loader::layout::ModuleLayout) -> Vec<String> {
    let base = kobold_layout::MODULES_VADDR;
    // The layout bounded both regions by the module window, so these
    // buffers are at most 16 MB each and the init base cannot overflow.
    let mut core = vec![0u8; l.core_size as usize];
    let mut init = vec![0u8; l.init_size as usize];
    let read = base.checked_add(l.core_size).and_then(|init_base| {
        kobold_loader::link::link(m, l, &mut core, base, &mut init, init_base, &AnyKernel).ok()?;
        let e = kobold_loader::ksymtab::exports(m, l, &core, base).ok()?;
        e.iter()
            .map(|e| {
                let name = e.name(&core)?;
                Some(if e.gpl_only {
                    format!("{name}(GPL)")
                } else {
                    name.to_string()
                })
            })
            .collect::<Option<Vec<String>>>()
    });
    match read {
        Some(e) => e,
        None => m
            .symbols
            .iter()
            .filter_map(|s| s.name.strip_prefix("__ksymtab_"))
            .map(str::to_string)
            .collect(),
    }
}

/// What kmod's `modinfo` reports of a module's signature: read from the
/// PKCS#7 (CMS SignedData) message of the trailer, as kmod's
/// libkmod-signature.c reads it with OpenSSL — the first signer's issuer
/// common name (`signer`), its certificate's serial number (`sig_key`,
/// colon-separated hex) and its digest algorithm (`sig_hashalgo`).
#[derive(Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub id_type: &'static str,
    pub signer: String,
    pub key_id: Vec<u8>,
    pub hash_algo: String,
}

/// Linux's `hash_algo_name` for a digest algorithm's OID.
fn hash_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.2.5" => "md5",
        "1.3.14.3.2.26" => "sha1",
        "2.16.840.1.101.3.4.2.4" => "sha224",
        "2.16.840.1.101.3.4.2.1" => "sha256",
        "2.16.840.1.101.3.4.2.2" => "sha384",
        "2.16.840.1.101.3.4.2.3" => "sha512",
        "2.16.840.1.101.3.4.2.8" => "sha3-256",
        "2.16.840.1.101.3.4.2.9" => "sha3-384",
        "2.16.840.1.101.3.4.2.10" => "sha3-512",
        other => return other.to_string(),
    }
    .to_string()
}

/// Parses a module signature's PKCS#7 message (`sig.pkcs7`).
pub fn sig_info(sig: &kobold_loader::signature::Signature<'_>) -> Result<SigInfo> {
    use cms::content_info::ContentInfo;
    use cms::signed_data::{SignedData, SignerIdentifier};
    use der::{Decode, Tag, Tagged};
    const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
    const CN: &str = "2.5.4.3";
    let ci = ContentInfo::from_der(sig.pkcs7).context("the signature is not a PKCS#7 message")?;
    if ci.content_type.to_string() != ID_SIGNED_DATA {
        bail!("the PKCS#7 message is not SignedData ({})", ci.content_type);
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .context("the PKCS#7 SignedData does not decode")?;
    let si = sd
        .signer_infos
        .0
        .iter()
        .next()
        .context("the PKCS#7 message has no signer")?;
    let (signer, key_id) = match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            let cn = isn
                .issuer
                .0
                .iter()
                .flat_map(|rdn| rdn.0.iter())
                .find(|atv| atv.oid.to_string() == CN)
                .filter(|atv| {
                    matches!(
                        atv.value.tag(),
                        Tag::Utf8String
                            | Tag::PrintableString
                            | Tag::Ia5String
                            | Tag::TeletexString
                    )
                })
                .map(|atv| String::from_utf8_lossy(atv.value.value()).into_owned())
                .unwrap_or_default();
            // The INTEGER's magnitude (without DER's sign byte), as
            // OpenSSL's ASN1_INTEGER holds it.
            let mut serial = isn.serial_number.as_bytes();
            while serial.len() > 1 && serial[0] == 0 {
                serial = &serial[1..];
            }
            (cn, serial.to_vec())
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => (String::new(), ski.0.as_bytes().to_vec()),
    };
    Ok(SigInfo {
        id_type: sig.id_type_name(),
        signer,
        key_id,
        hash_algo: hash_name(&si.digest_alg.oid.to_string()),
    })
}

/// kmod's lines for a signature: `sig_id`, `signer`, `sig_key` (hex
/// bytes joined by `:`), `sig_hashalgo`.
pub fn write_sig_info(out: &mut String, s: &SigInfo) -> std::fmt::Result {
    let key: Vec<String> = s.key_id.iter().map(|b| format!("{b:02X}")).collect();
    writeln!(out, "{:<16}{}", "sig_id:", s.id_type)?;
    writeln!(out, "{:<16}{}", "signer:", s.signer)?;
    writeln!(out, "{:<16}{}", "sig_key:", key.join(":"))?;
    writeln!(out, "{:<16}{}", "sig_hashalgo:", s.hash_algo)
}

/// The report for the module bytes `data` named `file`.
pub fn report(file: &str, data: &[u8]) -> Result<String> {
    // A signed module's trailer comes off first, as insmod takes it off.
    let (data, sig) = kobold_loader::signature::split(data).map_err(|e| anyhow!("{file}: {e}"))?;
    let m = validate(data).map_err(|e| anyhow!("{file}: {e}"))?;
    // A module insmod would refuse at layout time (a region larger than
    // the module window...) gets the same error here.
    let l = kobold_loader::layout::layout(&m).map_err(|e| anyhow!("{file}: {e}"))?;
    let mut out = String::new();
    // The kernel shell's `modinfo` lines, then what only the host shows.
    kobold_loader::modinfo::write_modinfo(&mut out, file, &m)?;
    if let Some(sig) = &sig {
        write_sig_info(
            &mut out,
            &sig_info(sig).with_context(|| format!("{file}: signature"))?,
        )?;
    }
    writeln!(out, "sections:")?;
    for s in m.sections.iter().skip(1) {
        let flags: String = [(0x2, 'A'), (0x1, 'W'), (0x4, 'X')]
            .iter()
            .filter(|(bit, _)| s.flags & bit != 0)
            .map(|(_, c)| *c)
            .collect();
        writeln!(
            out,
            "  [{:2}] {:<24} {:>8} bytes  align {:<3} {flags}",
            s.index, s.name, s.size, s.align
        )?;
    }
    let exports = exports(&m, &l);
    let undefined: Vec<&str> = m
        .symbols
        .iter()
        .filter(|s| s.is_undefined() && !s.name.is_empty())
        .map(|s| s.name)
        .collect();
    writeln!(
        out,
        "exports:        {}",
        if exports.is_empty() {
            "(none)".into()
        } else {
            exports.join(" ")
        }
    )?;
    writeln!(
        out,
        "undefined:      {}",
        if undefined.is_empty() {
            "(none)".into()
        } else {
            undefined.join(" ")
        }
    )?;
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for (_, _, rels) in &m.relocations {
        for r in rels {
            *counts.entry(r.r_type).or_default() += 1;
        }
    }
    writeln!(out, "relocations:")?;
    for (t, n) in counts {
        let name = relocate::name(t).map_or_else(|| format!("unknown type {t}"), str::to_string);
        writeln!(out, "  {name:<24} {n}")?;
    }
    // What kmod does not print: the ABI insmod would pick, and __versions.
    let abi = match kobold_loader::linux61::detect(&m) {
        Ok(abi) => abi.to_string(),
        Err(e) => format!("refused: {e}"),
    };
    writeln!(out, "abi:            {abi}")?;
    match kobold_loader::linux61::versions(&m) {
        Ok(v) => writeln!(
            out,
            "__versions:     {} symbol CRCs (read, not enforced)",
            v.count()
        )?,
        Err(e) => writeln!(out, "__versions:     {e}")?,
    }
    Ok(out)
}

/// `cargo xtask modinfo FILE`.
pub fn modinfo(path: &Path) -> Result<u8> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    print!("{}", report(&path.display().to_string(), &data)?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::write::{Object, Relocation, StandardSection, Symbol, SymbolSection};
    use object::{
        Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags,
        SymbolKind, SymbolScope,
    };

    fn ko() -> Vec<u8> {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.section_id(StandardSection::Text);
        o.append_section_data(text, &[0; 16], 4);
        let mi = o.add_section(vec![], b".modinfo".to_vec(), SectionKind::ReadOnlyData);
        o.append_section_data(
            mi,
            b"license=GPL\0parmtype=count:int\0author=Kobold\0parm=count:How many\0",
            1,
        );
        let sym = |name: &[u8], section| Symbol {
            name: name.to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section,
            flags: SymbolFlags::None,
        };
        // EXPORT_SYMBOL(hello_greet): a {value, name} record.
        let greet = o.add_symbol(sym(b"hello_greet", SymbolSection::Section(text)));
        let strings = o.add_section(
            vec![],
            b"__ksymtab_strings".to_vec(),
            SectionKind::ReadOnlyData,
        );
        o.append_section_data(strings, b"hello_greet\0", 1);
        let strings_sym = o.section_symbol(strings);
        let table = o.add_section(vec![], b"__ksymtab".to_vec(), SectionKind::ReadOnlyData);
        o.append_section_data(table, &[0; 8], 4);
        for (offset, symbol) in [(0, greet), (4, strings_sym)] {
            let flags = RelocationFlags::Elf {
                r_type: object::elf::R_ARM_ABS32,
            };
            o.add_relocation(
                table,
                Relocation {
                    offset,
                    symbol,
                    addend: 0,
                    flags,
                },
            )
            .unwrap();
        }
        let printk = o.add_symbol(sym(b"printk", SymbolSection::Undefined));
        for offset in [0, 8] {
            let flags = RelocationFlags::Elf {
                r_type: object::elf::R_ARM_CALL,
            };
            o.add_relocation(
                text,
                Relocation {
                    offset,
                    symbol: printk,
                    addend: 0,
                    flags,
                },
            )
            .unwrap();
        }
        o.write().unwrap()
    }

    #[test]
    fn reports_keys_sections_symbols_and_relocations() {
        let r = report("hello.ko", &ko()).unwrap();
        assert!(
            r.starts_with(
                "filename:       hello.ko\nlicense:        GPL\nauthor:         Kobold\n"
            ),
            "{r}"
        );
        // parm and parmtype merged, as the kernel shell prints them.
        assert!(
            r.contains("author:         Kobold\nparm:           count:How many (int)\nsections:\n"),
            "{r}"
        );
        assert!(r.contains(".text"), "{r}");
        assert!(r.contains("exports:        hello_greet\n"), "{r}");
        assert!(r.contains("undefined:      printk\n"), "{r}");
        assert!(r.contains("  R_ARM_CALL               2\n"), "{r}");
    }

    #[test]
    fn a_region_over_the_module_window_is_an_error() {
        let e = report("huge.ko", &crate::modlink::tests::huge_common())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("huge.ko: module too large: core region of 4293922816 bytes"),
            "{e}"
        );
    }

    #[test]
    fn malformed_files_get_the_loader_error() {
        let mut b = ko();
        b[18] = 3; // EM_386
        let e = report("bad.ko", &b).unwrap_err().to_string();
        assert_eq!(e, "bad.ko: not an ARM object (e_machine 3)");
    }

    #[test]
    fn a_signature_that_is_not_pkcs7_is_an_error() {
        let sig = kobold_loader::signature::Signature {
            algo: 0,
            hash: 0,
            id_type: 2,
            signer_len: 0,
            key_id_len: 0,
            sig_len: 3,
            pkcs7: b"abc",
        };
        assert!(sig_info(&sig).is_err());
        let mut out = String::new();
        write_sig_info(
            &mut out,
            &SigInfo {
                id_type: "PKCS#7",
                signer: "Kobold key".into(),
                key_id: vec![0x0a, 0xff],
                hash_algo: hash_name("2.16.840.1.101.3.4.2.1"),
            },
        )
        .unwrap();
        assert_eq!(
            out,
            "sig_id:         PKCS#7\nsigner:         Kobold key\nsig_key:        0A:FF\nsig_hashalgo:   sha256\n"
        );
    }

    /// A Debian module's signature, read by the crates, says what OpenSSL
    /// says of the same message (skipped without the package or openssl).
    #[test]
    fn debian_signature_matches_openssl() {
        let roots = [
            std::env::var_os("KOBOLD_DEBIAN_ROOT").map(std::path::PathBuf::from),
            Some(std::path::PathBuf::from("/work/debian/root")),
            Some(std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/linux-modules/root"
            ))),
        ];
        let Some(dir) = roots
            .into_iter()
            .flatten()
            .find_map(|r| crate::linux_modules::modules_dir(&r))
        else {
            eprintln!("skipped: Debian's linux-image-6.1 armhf package is not unpacked here");
            return;
        };
        let file = std::fs::read(dir.join("lib/crc7.ko")).unwrap();
        let (_, sig) = kobold_loader::signature::split(&file).unwrap();
        let sig = sig.unwrap();
        let info = sig_info(&sig).unwrap();
        assert_eq!(info.hash_algo, "sha256");
        let tmp = std::env::temp_dir().join(format!("kobold-sig-{}.der", std::process::id()));
        std::fs::write(&tmp, sig.pkcs7).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["pkcs7", "-inform", "DER", "-print", "-in"])
            .arg(&tmp)
            .output();
        let _ = std::fs::remove_file(&tmp);
        let Some(out) = out.ok().filter(|o| o.status.success()) else {
            eprintln!("skipped the OpenSSL comparison: no openssl");
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let key: String = info.key_id.iter().map(|b| format!("{b:02X}")).collect();
        assert!(
            text.contains(&format!("issuer: CN={}\n", info.signer)),
            "{text}"
        );
        assert!(text.contains(&format!("serial: 0x{key}\n")), "{text}");
        assert!(
            report("crc7.ko", &file)
                .unwrap()
                .contains("abi:            linux-6.1\n")
        );
    }
}
