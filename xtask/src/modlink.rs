//! `cargo xtask modlink FILE.ko --base ADDR --symbols FILE -o IMAGE`: the
//! kernel's module layout and relocation, run offline.
//!
//! `--symbols` takes `nm`/System.map lines (`ADDR TYPE NAME`). The init
//! region is placed right after the core region, and IMAGE is the flat
//! image of both; `IMAGE.map` lists one `SECTION ADDR SIZE` line per placed
//! section (plus `.plt` / `.init.plt` for branch veneers and `COMMON` for
//! `-fcommon` symbols when the module has them), so the result can be compared with what GNU ld produces for the
//! same addresses.
//!
//! `--explain` prints, on stdout, every step of the link as `insmod -v`
//! shows it in the kernel: each section placed, each undefined symbol
//! resolved, each relocation with S, A, P, the result and the instruction
//! word before and after (the loader's [`kobold_loader::trace`] events,
//! through the same [`kobold_loader::trace::WriteTrace`] formatting); `-o`
//! is then optional.

use anyhow::{Context, Result, anyhow, bail};
use kobold_loader::layout::{Region, layout};
use kobold_loader::link::{Resolver, link_traced};
use kobold_loader::relocate::Target;
use kobold_loader::trace::{NoTrace, Trace, WriteTrace};
use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

/// Symbols from `nm`/System.map text: address and whether the nm type
/// says code (T, t, W, w). Undefined symbols (`U`, and the weak undefined
/// `w`/`v`, which `nm` prints without an address) define nothing and are
/// skipped, so `nm vmlinux` output can be given as it is.
pub struct SymbolMap(HashMap<String, Target>);

/// `nm`'s types of symbols that have no definition.
fn is_undefined(kind: &str) -> bool {
    matches!(kind, "U" | "w" | "v")
}

impl SymbolMap {
    pub fn parse(text: &str) -> Result<SymbolMap> {
        let mut map = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [] => continue,
                [kind, _name] if is_undefined(kind) => continue,
                [_addr, kind, _name, ..] if is_undefined(kind) => continue,
                [addr, kind, name, ..] => {
                    let value = u32::from_str_radix(addr.trim_start_matches("0x"), 16)
                        .with_context(|| format!("symbols line {}: bad address {addr:?}", n + 1))?;
                    let is_func = matches!(*kind, "T" | "t" | "W" | "w");
                    map.insert((*name).to_string(), Target { value, is_func });
                }
                _ => bail!(
                    "symbols line {}: expected `ADDR TYPE NAME`, got {line:?}",
                    n + 1
                ),
            }
        }
        Ok(SymbolMap(map))
    }
}

impl Resolver for SymbolMap {
    fn resolve(&self, name: &str) -> Option<Target> {
        self.0.get(name).copied()
    }
}

/// Links `data` at `base`; returns the flat image and the map text.
pub fn modlink_bytes(
    file: &str,
    data: &[u8],
    base: u32,
    symbols: &SymbolMap,
) -> Result<(Vec<u8>, String)> {
    modlink_traced(file, data, base, symbols, &mut NoTrace)
}

/// [`modlink_bytes`] and the `--explain` text: one line per event.
pub fn explain(
    file: &str,
    data: &[u8],
    base: u32,
    symbols: &SymbolMap,
) -> Result<(Vec<u8>, String, String)> {
    let mut text = String::new();
    let mut sink = WriteTrace::new(&mut text);
    let (image, map) = modlink_traced(file, data, base, symbols, &mut sink)?;
    sink.result?;
    Ok((image, map, text))
}

/// [`modlink_bytes`], telling `trace` every step.
pub fn modlink_traced(
    file: &str,
    data: &[u8],
    base: u32,
    symbols: &SymbolMap,
    trace: &mut dyn Trace,
) -> Result<(Vec<u8>, String)> {
    let m = kobold_loader::validate(data).map_err(|e| anyhow!("{file}: {e}"))?;
    let l = layout(&m).map_err(|e| anyhow!("{file}: {e}"))?;
    let too_high = || anyhow!("{file}: the module does not fit below 4 GB at {base:#010x}");
    let init_base = base.checked_add(l.core_size).ok_or_else(too_high)?;
    init_base.checked_add(l.init_size).ok_or_else(too_high)?;
    // Both sizes are bounded by the module window (layout refuses more).
    let mut image = vec![0u8; l.core_size as usize + l.init_size as usize];
    let (core, init) = image.split_at_mut(l.core_size as usize);
    link_traced(&m, &l, core, base, init, init_base, symbols, trace)
        .map_err(|e| anyhow!("{file}: {e}"))?;
    let addr = |region_base: u32, offset: u32| {
        region_base
            .checked_add(offset)
            .ok_or_else(|| anyhow!("{file}: address past 4 GB"))
    };
    let mut map = String::new();
    for s in &m.sections {
        if let Some(p) = l.placements.get(s.index as usize).copied().flatten() {
            let region_base = if p.region == Region::Core {
                base
            } else {
                init_base
            };
            writeln!(
                map,
                "{} {:#010x} {:#x}",
                s.name,
                addr(region_base, p.offset)?,
                p.size
            )?;
        }
    }
    // The loader's own areas: PLT veneers and `-fcommon` symbols (GNU ld
    // calls the latter's input section COMMON).
    for (name, region_base, plt) in [
        (".plt", base, l.plt(Region::Core)),
        (".init.plt", init_base, l.plt(Region::Init)),
    ] {
        if plt.entries > 0 {
            let size = plt
                .entries
                .checked_mul(kobold_loader::layout::PLT_ENTRY_SIZE)
                .ok_or_else(|| anyhow!("{file}: PLT over 4 GB"))?;
            writeln!(
                map,
                "{name} {:#010x} {size:#x}",
                addr(region_base, plt.offset)?
            )?;
        }
    }
    // The COMMON area: from the first common symbol to the end of the one
    // placed last (commons are placed in symbol order, so the last).
    if let (Some(&(_, first)), Some(&(last_sym, last_off))) = (l.commons.first(), l.commons.last())
    {
        let end = m
            .symbols
            .get(last_sym as usize)
            .and_then(|s| last_off.checked_add(s.size))
            .and_then(|end| end.checked_sub(first))
            .ok_or_else(|| anyhow!("{file}: COMMON area out of range"))?;
        writeln!(map, "COMMON {:#010x} {end:#x}", addr(base, first)?)?;
    }
    Ok((image, map))
}

/// `cargo xtask modlink`.
pub fn modlink(
    file: &Path,
    base: &str,
    symbols: &Path,
    out: Option<&Path>,
    explain_steps: bool,
) -> Result<u8> {
    let base = u32::from_str_radix(base.trim_start_matches("0x"), 16)
        .with_context(|| format!("--base {base:?}: expected a hex address such as 0xbf000000"))?;
    let data = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let text = std::fs::read_to_string(symbols)
        .with_context(|| format!("reading {}", symbols.display()))?;
    if out.is_none() && !explain_steps {
        bail!("modlink: give -o IMAGE, --explain, or both");
    }
    let (image, map, steps) = explain(
        &file.display().to_string(),
        &data,
        base,
        &SymbolMap::parse(&text)?,
    )?;
    if explain_steps {
        print!("{steps}");
    }
    let Some(out) = out else {
        return Ok(0);
    };
    std::fs::write(out, &image).with_context(|| format!("writing {}", out.display()))?;
    let map_path = format!("{}.map", out.display());
    std::fs::write(&map_path, &map).with_context(|| format!("writing {map_path}"))?;
    eprintln!(
        "modlink: {} bytes at {base:#010x} -> {} and {map_path}",
        image.len(),
        out.display()
    );
    Ok(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use object::write::{Object, Relocation, StandardSection, Symbol, SymbolSection};
    use object::{
        Architecture, BinaryFormat, Endianness, RelocationFlags, SymbolFlags, SymbolKind,
        SymbolScope,
    };

    fn ko() -> Vec<u8> {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.section_id(StandardSection::Text);
        o.append_section_data(text, &0xebff_fffeu32.to_le_bytes(), 4); // bl printk
        let data = o.section_id(StandardSection::Data);
        o.append_section_data(data, &[0; 4], 4); // .word printk
        let printk = o.add_symbol(Symbol {
            name: b"printk".to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Undefined,
            flags: SymbolFlags::None,
        });
        let call = RelocationFlags::Elf {
            r_type: object::elf::R_ARM_CALL,
        };
        let abs = RelocationFlags::Elf {
            r_type: object::elf::R_ARM_ABS32,
        };
        o.add_relocation(
            text,
            Relocation {
                offset: 0,
                symbol: printk,
                addend: 0,
                flags: call,
            },
        )
        .unwrap();
        o.add_relocation(
            data,
            Relocation {
                offset: 0,
                symbol: printk,
                addend: 0,
                flags: abs,
            },
        )
        .unwrap();
        o.write().unwrap()
    }

    /// A small module whose one COMMON symbol is 0xfff00000 bytes.
    pub(crate) fn huge_common() -> Vec<u8> {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.section_id(StandardSection::Text);
        o.append_section_data(text, &[0; 4], 4);
        o.add_symbol(Symbol {
            name: b"huge".to_vec(),
            value: 4, // the alignment
            size: 0xfff0_0000,
            kind: SymbolKind::Data,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Common,
            flags: SymbolFlags::None,
        });
        o.write().unwrap()
    }

    #[test]
    fn a_region_over_the_module_window_is_an_error_not_an_image() {
        let huge = huge_common();
        assert!(huge.len() < 1024, "{} bytes", huge.len());
        let e = modlink_bytes(
            "huge.ko",
            &huge,
            0xbf00_0000,
            &SymbolMap::parse("").unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("huge.ko: module too large: core region of 4293922816 bytes"),
            "{e}"
        );
        // The top of the address space: no overflow either.
        let e = modlink_bytes(
            "t.ko",
            &ko(),
            0xffff_f000,
            &SymbolMap::parse("c0010000 T printk").unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "t.ko: the module does not fit below 4 GB at 0xfffff000");
    }

    #[test]
    fn links_with_a_system_map() {
        let syms = SymbolMap::parse("c0010000 T printk\n\nc0020000 D jiffies\n").unwrap();
        let (image, map) = modlink_bytes("t.ko", &ko(), 0xbf00_0000, &syms).unwrap();
        assert_eq!(
            map,
            ".text 0xbf000000 0x4\n.data 0xbf001000 0x4\n.plt 0xbf000008 0x8\n"
        );
        assert_eq!(image.len(), 0x2000);
        assert_eq!(
            &image[0x1000..0x1004],
            &0xc001_0000u32.to_le_bytes(),
            "ABS32"
        );
        let bl = u32::from_le_bytes(image[0..4].try_into().unwrap());
        assert_eq!(
            bl, 0xeb40_3ffe,
            "BL 0xc0010000 from 0xbf000000: (0x0100fff8 >> 2)"
        );
        assert!(SymbolMap::parse("zz T printk").is_err());
        // `nm` output: undefined and weak undefined symbols are skipped.
        let nm = SymbolMap::parse(
            "         U __aeabi_uidiv\n         w __gmon_start__\n         v weak_obj\n\
             00000000 w also_undefined\nc0010000 T printk\nc0020000 W weak_fn\n",
        )
        .unwrap();
        assert_eq!(nm.resolve("__aeabi_uidiv"), None);
        assert_eq!(nm.resolve("__gmon_start__"), None);
        assert_eq!(nm.resolve("also_undefined"), None);
        assert!(nm.resolve("printk").is_some_and(|t| t.is_func));
        assert!(
            nm.resolve("weak_fn")
                .is_some_and(|t| t.value == 0xc002_0000)
        );
        assert!(SymbolMap::parse("         T no_address").is_err());
        assert!(SymbolMap::parse("c0010000").is_err());
        let e =
            modlink_bytes("t.ko", &ko(), 0xbf00_0000, &SymbolMap::parse("").unwrap()).unwrap_err();
        assert_eq!(e.to_string(), "t.ko: Unknown symbol printk (err -2)");
    }

    #[test]
    fn explain_prints_every_step() {
        let syms = SymbolMap::parse("c0010000 T printk\n").unwrap();
        let (image, _, text) = explain("t.ko", &ko(), 0xbf00_0000, &syms).unwrap();
        let (plain, _) = modlink_bytes("t.ko", &ko(), 0xbf00_0000, &syms).unwrap();
        assert_eq!(image, plain, "tracing changes nothing");
        let lines: Vec<&str> = text.lines().collect();
        let has = |prefix: &str, parts: &[&str]| {
            lines
                .iter()
                .any(|l| l.starts_with(prefix) && parts.iter().all(|p| l.contains(p)))
        };
        assert!(
            has(
                "section .text",
                &["core", "text", "at 0xbf000000", "size 0x4", "align 4"]
            ),
            "{text}"
        );
        assert!(
            has("section .data", &["core", "data", "at 0xbf001000"]),
            "{text}"
        );
        assert!(has("symbol  printk -> 0xc0010000", &[]), "{text}");
        // BL at 0xbf000000 to 0xc0010000: A = -8, result = S + A - P.
        assert!(
            has(
                "reloc   .text+0x0 R_ARM_CALL printk:",
                &[
                    "S=0xc0010000",
                    "A=-0x8",
                    "P=0xbf000000",
                    "result=0x0100fff8",
                    "word ebfffffe -> eb403ffe"
                ]
            ),
            "{text}"
        );
        assert!(
            has(
                "reloc   .data+0x0 R_ARM_ABS32 printk:",
                &[
                    "A=0x0",
                    "P=0xbf001000",
                    "result=0xc0010000",
                    "word 00000000 -> c0010000"
                ]
            ),
            "{text}"
        );
        assert_eq!(lines.len(), 5, "{text}");
    }
}
