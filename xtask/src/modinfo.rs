//! `cargo xtask modinfo FILE.ko`: what a module is, as the kernel's loader
//! sees it — the `.modinfo` keys (printed like modinfo(8), by the same
//! formatter as the kernel shell's `modinfo`), then the sections,
//! exported and undefined symbols, and the relocations by type. It runs the
//! same validation as `insmod`, so a malformed file gets the same error.

use anyhow::{Context, Result, anyhow};
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

/// The report for the module bytes `data` named `file`.
pub fn report(file: &str, data: &[u8]) -> Result<String> {
    let m = validate(data).map_err(|e| anyhow!("{file}: {e}"))?;
    // A module insmod would refuse at layout time (a region larger than
    // the module window...) gets the same error here.
    let l = kobold_loader::layout::layout(&m).map_err(|e| anyhow!("{file}: {e}"))?;
    let mut out = String::new();
    // The kernel shell's `modinfo` lines, then what only the host shows.
    kobold_loader::modinfo::write_modinfo(&mut out, file, &m)?;
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
}
