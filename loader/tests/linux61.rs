//! The Linux 6.1 personality's loader side (issue 11): the signature
//! trailer, ABI detection from `vermagic`, 6.1's `struct kernel_param`,
//! `struct module` and `__versions`, and ftrace's `__mcount_loc` patching —
//! on generated files (`hostile::linux61_module`) and, when Debian's
//! package is unpacked on this machine, on Debian's own `.ko` files.

use kobold_loader::layout::{self, Region};
use kobold_loader::link::{self, Linked, Resolver};
use kobold_loader::linux61::{
    self, ARM_FTRACE_NOP, Abi, AbiError, Images, McountSites, THUMB_FTRACE_NOP, this_module,
};
use kobold_loader::relocate::Target;
use kobold_loader::{Module, ksymtab, signature, validate};
use std::path::PathBuf;

mod hostile;
use hostile::{L61, linux61_module};

const CORE: u32 = 0xbf00_0000;
const INIT: u32 = 0xbf80_0000;
const PARAM_OPS_INT: u32 = 0xc000_1000;

/// Resolves `__gnu_mcount_nc` to `mcount`, `param_ops_int`, and (for
/// Debian's files) every other name to a distinct kernel-text address.
struct Kernel {
    mcount: u32,
}

impl Resolver for Kernel {
    fn resolve(&self, name: &str) -> Option<Target> {
        let value = match name {
            linux61::MCOUNT => self.mcount,
            "param_ops_int" => PARAM_OPS_INT,
            _ => 0xc010_0000 + (name.len() as u32 * 64),
        };
        Some(Target {
            value,
            is_func: true,
        })
    }
}

struct LinkedModule {
    l: layout::ModuleLayout,
    core: Vec<u8>,
    init: Vec<u8>,
    linked: Linked,
}

fn link_at(m: &Module<'_>, mcount: u32) -> LinkedModule {
    let l = layout::layout(m).unwrap();
    let mut core = vec![0; l.core_size as usize];
    let mut init = vec![0; l.init_size as usize];
    let linked = link::link(m, &l, &mut core, CORE, &mut init, INIT, &Kernel { mcount }).unwrap();
    LinkedModule {
        l,
        core,
        init,
        linked,
    }
}

fn patch(m: &Module<'_>, x: &mut LinkedModule) -> McountSites {
    let mcount = linux61::mcount_address(m, &x.linked);
    let mut img = Images {
        core: &mut x.core,
        core_base: CORE,
        init: &mut x.init,
        init_base: INIT,
    };
    linux61::patch_mcount(m, &x.l, &mut img, mcount).unwrap()
}

fn text_offset(m: &Module<'_>, l: &layout::ModuleLayout) -> u32 {
    let s = m.section_by_name(".text").unwrap();
    let p = l.placements[s.index as usize].unwrap();
    assert_eq!(p.region, Region::Core);
    p.offset
}

fn word(b: &[u8], at: u32) -> u32 {
    u32::from_le_bytes(b[at as usize..at as usize + 4].try_into().unwrap())
}

#[test]
fn vermagic_selects_the_personality() {
    let file = |o: L61| linux61_module(o);
    let debian = file(L61::DEBIAN);
    assert_eq!(
        linux61::detect(&validate(&debian).unwrap()),
        Ok(Abi::Linux61)
    );
    let none = file(L61 {
        vermagic: None,
        ..L61::DEBIAN
    });
    assert_eq!(linux61::detect(&validate(&none).unwrap()), Ok(Abi::Kobold));
    let ours = file(L61 {
        vermagic: Some("3.18.0 mod_unload ARMv7 "),
        ..L61::DEBIAN
    });
    assert_eq!(linux61::detect(&validate(&ours).unwrap()), Ok(Abi::Kobold));
    // Another 6.1 build (PREEMPT, no modversions): refused, forceable as 6.1.
    let v = "6.1.0-99-rt-armmp SMP preempt mod_unload ARMv7 p2v8 ";
    let other = file(L61 {
        vermagic: Some(v),
        ..L61::DEBIAN
    });
    let e = linux61::detect(&validate(&other).unwrap()).unwrap_err();
    assert_eq!(e, AbiError::VersionMagic { found: v });
    assert_eq!(e.forced_abi(), Some(Abi::Linux61));
    assert_eq!(
        e.to_string(),
        format!(
            "version magic '{v}' should be '{}'",
            linux61::LINUX61_VERMAGIC
        )
    );
    // Another kernel: refused, forceable with Kobold's table.
    let old = file(L61 {
        vermagic: Some("5.10.0-30-armmp SMP mod_unload modversions ARMv7 p2v8 "),
        ..L61::DEBIAN
    });
    let e = linux61::detect(&validate(&old).unwrap()).unwrap_err();
    assert_eq!(e.forced_abi(), Some(Abi::Kobold));
    // 6.1's vermagic with another struct module: module_layout, not forceable.
    let small = file(L61 {
        this_module: 512,
        ..L61::DEBIAN
    });
    let e = linux61::detect(&validate(&small).unwrap()).unwrap_err();
    assert_eq!(e, AbiError::ModuleLayout { size: 512 });
    assert_eq!(e.forced_abi(), None);
    assert_eq!(
        e.to_string(),
        "disagrees about version of symbol module_layout"
    );
    let no_module = file(L61 {
        this_module: 0,
        ..L61::DEBIAN
    });
    let e = linux61::detect(&validate(&no_module).unwrap()).unwrap_err();
    assert_eq!((e, e.forced_abi()), (AbiError::NoModule, None));
}

#[test]
fn kernel_param_is_20_bytes_for_61() {
    let f = linux61_module(L61::DEBIAN);
    let m = validate(&f).unwrap();
    let x = link_at(&m, 0xc000_8000);
    let classify = |ops: u32| (ops == PARAM_OPS_INT).then_some(ksymtab::ParamType::Int);
    let p = ksymtab::params_abi(&m, &x.l, &x.core, CORE, INIT, Abi::Linux61, &classify).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].name(&x.core), Some("count"));
    assert_eq!(p[0].ty, ksymtab::ParamType::Int);
    assert_eq!(word(&x.core, p[0].offset), 7, "arg points at .data's 7");
    // Read as 3.18's 16-byte records, the same table does not hold together.
    assert!(ksymtab::params(&m, &x.l, &x.core, CORE, INIT, &classify).is_err());
}

#[test]
fn versions_are_read() {
    let f = linux61_module(L61::DEBIAN);
    let m = validate(&f).unwrap();
    let v: Vec<_> = linux61::versions(&m).unwrap().collect();
    assert_eq!(v.len(), 2);
    assert_eq!((v[0].crc, v[0].name), (0x1234_5678, "module_layout"));
    assert_eq!((v[1].crc, v[1].name), (0xdead_beef, "__gnu_mcount_nc"));
}

#[test]
fn this_module_is_filled_and_carries_the_entry_points() {
    let f = linux61_module(L61::DEBIAN);
    let m = validate(&f).unwrap();
    let mut x = link_at(&m, 0xc000_8000);
    let at = linux61::this_module_offset(&m, &x.l).expect("struct module in core data");
    linux61::fill_this_module(&mut x.core, at, "l61", this_module::MODULE_STATE_COMING).unwrap();
    assert_eq!(word(&x.core, at + this_module::STATE), 1);
    assert_eq!(&x.core[(at + 0xc) as usize..(at + 0x10) as usize], b"l61\0");
    let e = link::entry_points(&m, &x.l, &x.linked).unwrap();
    let (init, exit) = linux61::this_module_entry_points(&x.core, at).unwrap();
    assert_eq!((Some(init), Some(exit)), (e.init, e.exit));
    // A struct too small for the image is refused, not written past.
    assert_eq!(
        linux61::fill_this_module(&mut x.core, u32::MAX - 4, "l61", 0),
        None
    );
}

#[test]
fn mcount_sites_become_ftrace_nops() {
    for thumb in [false, true] {
        // Near (direct bl/blx) and far (through a PLT veneer).
        for mcount in [0xc000_8000u32, 0x1000_0000] {
            let f = linux61_module(L61 {
                thumb,
                ..L61::DEBIAN
            });
            let m = validate(&f).unwrap();
            let mut x = link_at(&m, mcount);
            let text = text_offset(&m, &x.l);
            let got = patch(&m, &mut x);
            assert_eq!(
                got,
                McountSites {
                    patched: 2,
                    skipped: 1
                },
                "thumb {thumb}, mcount {mcount:#x}"
            );
            if thumb {
                let nop = THUMB_FTRACE_NOP[0] as u32 | (THUMB_FTRACE_NOP[1] as u32) << 16;
                assert_eq!(word(&x.core, text + 2), nop);
                assert_eq!(word(&x.core, text + 0xc), nop);
                assert_eq!(
                    word(&x.core, text + 0x14),
                    0xbf00_bf00,
                    "no call: untouched"
                );
            } else {
                assert_eq!(word(&x.core, text + 4), ARM_FTRACE_NOP);
                assert_eq!(word(&x.core, text + 0x14), ARM_FTRACE_NOP);
                assert_eq!(
                    word(&x.core, text + 0x1c),
                    0xe1a0_0000,
                    "no call: untouched"
                );
            }
            // Patching again finds no call left.
            assert_eq!(
                patch(&m, &mut x),
                McountSites {
                    patched: 0,
                    skipped: 3
                }
            );
        }
    }
}

#[test]
fn a_call_elsewhere_is_not_patched() {
    // The sites call `__gnu_mcount_nc`, but the patcher is told another
    // address: nothing matches, nothing is written.
    let f = linux61_module(L61::DEBIAN);
    let m = validate(&f).unwrap();
    let mut x = link_at(&m, 0xc000_8000);
    let before = x.core.clone();
    let mut img = Images {
        core: &mut x.core,
        core_base: CORE,
        init: &mut x.init,
        init_base: INIT,
    };
    let got = linux61::patch_mcount(&m, &x.l, &mut img, Some(0xc000_9000)).unwrap();
    assert_eq!(got.patched, 0);
    assert_eq!(got.skipped, 3);
    let got = linux61::patch_mcount(&m, &x.l, &mut img, None).unwrap();
    assert_eq!(got.patched, 0);
    assert_eq!(x.core, before);
}

#[test]
fn a_signed_generated_module_splits() {
    let elf = linux61_module(L61::DEBIAN);
    let mut f = elf.clone();
    f.extend_from_slice(b"\x30\x82PKCS7");
    f.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0]);
    f.extend_from_slice(&7u32.to_be_bytes());
    f.extend_from_slice(signature::MODULE_SIG_STRING);
    let (body, sig) = signature::split(&f).unwrap();
    assert_eq!(body, &elf[..]);
    assert_eq!(sig.unwrap().pkcs7, b"\x30\x82PKCS7");
    // Without splitting, the trailer is just bytes after the ELF's tables:
    // the body validates the same way.
    assert!(validate(body).is_ok());
}

// ---------------------------------------------------------------------------
// Debian's own files.

/// Where Debian's package is unpacked: `KOBOLD_DEBIAN_ROOT`, the lead's
/// copy, or `cargo xtask linux-modules`'s cache.
fn debian_modules() -> Option<PathBuf> {
    let roots = [
        std::env::var_os("KOBOLD_DEBIAN_ROOT").map(PathBuf::from),
        Some(PathBuf::from("/work/debian/root")),
        Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/linux-modules/root"
        ))),
    ];
    for root in roots.into_iter().flatten() {
        let Ok(dir) = std::fs::read_dir(root.join("lib/modules")) else {
            continue;
        };
        for e in dir.flatten() {
            let k = e.path().join("kernel");
            if k.is_dir() {
                return Some(k);
            }
        }
    }
    None
}

fn find(dir: &std::path::Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find(&p, name) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

#[test]
fn debian_modules_are_6_1_and_patch_cleanly() {
    let Some(dir) = debian_modules() else {
        eprintln!(
            "skipped: Debian's linux-image-6.1 armhf package is not unpacked here \
             (run `cargo xtask linux-modules` or set KOBOLD_DEBIAN_ROOT)"
        );
        return;
    };
    let mut with_entry_points = 0;
    for name in [
        "crc7.ko",
        "crc-itu-t.ko",
        "libarc4.ko",
        "crc8.ko",
        "xor-neon.ko",
        "nls_cp437.ko",
    ] {
        let path = find(&dir, name).unwrap_or_else(|| panic!("{name} in {}", dir.display()));
        let file = std::fs::read(&path).unwrap();
        let (elf, sig) = signature::split(&file).unwrap();
        let sig = sig.unwrap_or_else(|| panic!("{name}: Debian signs its modules"));
        assert_eq!(sig.id_type_name(), "PKCS#7");
        assert_eq!(sig.pkcs7.first(), Some(&0x30), "{name}: a DER SEQUENCE");
        let m = validate(elf).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(m.modinfo_get("vermagic").unwrap().starts_with("6.1."));
        assert_eq!(linux61::detect(&m), Ok(Abi::Linux61), "{name}");
        let tm = m.section_by_name(linux61::THIS_MODULE_SECTION).unwrap();
        assert_eq!(tm.size, this_module::SIZE);
        // The module's own relocations against its struct module patch
        // exactly `init` and `exit`.
        for (_, target, rels) in &m.relocations {
            if *target == tm.index {
                for r in rels {
                    let s = m.symbols[r.symbol as usize].name;
                    let want = match s {
                        "init_module" => this_module::INIT,
                        "cleanup_module" => this_module::EXIT,
                        _ => panic!("{name}: relocation against struct module for {s}"),
                    };
                    assert_eq!(r.offset, want, "{name}: {s}");
                    with_entry_points += 1;
                }
            }
        }
        let versions: Vec<_> = linux61::versions(&m).unwrap().collect();
        assert!(
            versions.iter().any(|v| v.name == "module_layout"),
            "{name}: __versions names module_layout"
        );
        let sites = m.section_by_name("__mcount_loc").map_or(0, |s| s.size / 4);
        let mut x = link_at(&m, 0xc000_8000);
        let got = patch(&m, &mut x);
        assert_eq!(
            got,
            McountSites {
                patched: sites,
                skipped: 0
            },
            "{name}: every __mcount_loc site is a bl __gnu_mcount_nc"
        );
        {
            let at = linux61::this_module_offset(&m, &x.l)
                .unwrap_or_else(|| panic!("{name}: struct module in aligned core data"));
            let e = link::entry_points(&m, &x.l, &x.linked).unwrap();
            let (init, exit) = linux61::this_module_entry_points(&x.core, at).unwrap();
            assert_eq!(init, e.init.unwrap_or(0), "{name}: init");
            assert_eq!(exit, e.exit.unwrap_or(0), "{name}: exit");
        }
    }
    assert!(with_entry_points >= 2, "nls_cp437 has init and exit");
}
