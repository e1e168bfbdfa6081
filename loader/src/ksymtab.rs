//! What a linked module exports (`EXPORT_SYMBOL` / `EXPORT_SYMBOL_GPL`) and
//! which parameters it declares (`module_param`), read from its relocated
//! core image, as Linux's `find_module_sections` + `find_symbol` and
//! `parse_args` see them.
//!
//! Exports are `__ksymtab` / `__ksymtab_gpl` arrays of ARM32 absolute
//! records, `{value, name}` (Linux up to 5.3) or `{value, name, namespace}`
//! (5.4 on; ARM32 has no PREL32 form), the names in `__ksymtab_strings`.
//! Nothing says which record size a file uses, so both are tried: the
//! right one is the one whose every `name` points into `__ksymtab_strings`.
//!
//! Parameters are the `__param` array of `struct kernel_param`
//! (`{name, ops, perm: u16, level: s8, flags: u8, arg}`, 16 bytes on
//! ARM32). `ops` is the address of one of the kernel's exported
//! `param_ops_*` objects: that is how the kernel knows the type.

use crate::elf::Module;
use crate::layout::{Layout, Placement, Region};
use crate::link::Linked;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// One exported symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    pub name: String,
    pub value: u32,
    /// From `__ksymtab_gpl`: only for GPL-compatible modules.
    pub gpl_only: bool,
}

/// One `module_param`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    /// Address of the kernel's `param_ops_*` object.
    pub ops: u32,
    /// Address of the variable.
    pub arg: u32,
}

/// A table that does not hold together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableError {
    pub section: &'static str,
    pub reason: &'static str,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "section {}: {}", self.section, self.reason)
    }
}

impl core::error::Error for TableError {}

/// The linked core image with its address, for reading what pointers in
/// it point to.
struct Image<'a> {
    core: &'a [u8],
    base: u32,
}

impl Image<'_> {
    fn word(&self, offset: u32) -> Option<u32> {
        let at = offset as usize;
        let b = self.core.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The NUL-terminated string at address `addr`, if it lies inside one
    /// of `within` (placements in the core region), or anywhere in the
    /// core image when `within` is `None`.
    fn c_str(&self, addr: u32, within: Option<&[Placement]>) -> Option<&str> {
        let off = addr.checked_sub(self.base)?;
        let (start, end) = match within {
            Some(ps) => ps
                .iter()
                .map(|p| (p.offset, p.offset + p.size))
                .find(|&(s, e)| off >= s && off < e)?,
            None => (0, self.core.len() as u32),
        };
        if off < start || off >= end {
            return None;
        }
        let bytes = self.core.get(off as usize..end as usize)?;
        let len = bytes.iter().position(|&b| b == 0)?;
        core::str::from_utf8(&bytes[..len]).ok()
    }
}

/// The core placements of every section called `name`: a module that was
/// not merged by `ld -r` (rustc's output) has one section per record.
fn core_placements(m: &Module<'_>, l: &Layout, name: &str) -> Vec<Placement> {
    m.sections
        .iter()
        .filter(|s| s.name == name)
        .filter_map(|s| l.placements[s.index as usize])
        .filter(|p| p.region == Region::Core)
        .collect()
}

/// The exports of a linked module.
pub fn exports(
    m: &Module<'_>,
    l: &Layout,
    linked: &Linked,
    core_base: u32,
) -> Result<Vec<Export>, TableError> {
    let img = Image {
        core: &linked.core,
        base: core_base,
    };
    let strings = core_placements(m, l, "__ksymtab_strings");
    let strings = Some(strings.as_slice());
    let mut out = Vec::new();
    let tables = [("__ksymtab", false), ("__ksymtab_gpl", true)]
        .into_iter()
        .flat_map(|(section, gpl_only)| {
            core_placements(m, l, section)
                .into_iter()
                .map(move |p| (section, gpl_only, p))
        });
    for (section, gpl_only, p) in tables {
        let entry = [8u32, 12]
            .into_iter()
            .find(|&size| {
                p.size % size == 0
                    && (0..p.size / size).all(|i| {
                        img.word(p.offset + i * size + 4)
                            .and_then(|a| img.c_str(a, strings))
                            .is_some()
                    })
            })
            .ok_or(TableError {
                section,
                reason: "entries are neither {value, name} nor {value, name, namespace} records naming strings in __ksymtab_strings",
            })?;
        for i in 0..p.size / entry {
            let at = p.offset + i * entry;
            let (Some(value), Some(name)) = (
                img.word(at),
                img.word(at + 4).and_then(|a| img.c_str(a, strings)),
            ) else {
                continue; // checked above
            };
            out.push(Export {
                name: name.to_string(),
                value,
                gpl_only,
            });
        }
    }
    Ok(out)
}

/// Size of `struct kernel_param` on ARM32.
pub const KERNEL_PARAM_SIZE: u32 = 16;

/// The parameters a linked module declares.
pub fn params(
    m: &Module<'_>,
    l: &Layout,
    linked: &Linked,
    core_base: u32,
) -> Result<Vec<Param>, TableError> {
    let img = Image {
        core: &linked.core,
        base: core_base,
    };
    let bad = |reason| TableError {
        section: "__param",
        reason,
    };
    let mut out = Vec::new();
    for p in core_placements(m, l, "__param") {
        if p.size % KERNEL_PARAM_SIZE != 0 {
            return Err(bad("size is not a whole number of struct kernel_param"));
        }
        for i in 0..p.size / KERNEL_PARAM_SIZE {
            let at = p.offset + i * KERNEL_PARAM_SIZE;
            let name = img
                .word(at)
                .and_then(|a| img.c_str(a, None))
                .ok_or(bad("a parameter's name is not a string in the module"))?;
            let (Some(ops), Some(arg)) = (img.word(at + 4), img.word(at + 12)) else {
                return Err(bad("truncated entry"));
            };
            out.push(Param {
                name: name.to_string(),
                ops,
                arg,
            });
        }
    }
    Ok(out)
}

/// The types `module_param` offers (Linux's `param_ops_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    Byte,
    Short,
    Ushort,
    Int,
    Uint,
    Long,
    Ulong,
    Bool,
    Charp,
}

impl ParamType {
    pub const ALL: [ParamType; 9] = [
        ParamType::Byte,
        ParamType::Short,
        ParamType::Ushort,
        ParamType::Int,
        ParamType::Uint,
        ParamType::Long,
        ParamType::Ulong,
        ParamType::Bool,
        ParamType::Charp,
    ];

    /// The kernel object's name: `param_ops_int`...
    pub fn ops_symbol(self) -> &'static str {
        match self {
            ParamType::Byte => "param_ops_byte",
            ParamType::Short => "param_ops_short",
            ParamType::Ushort => "param_ops_ushort",
            ParamType::Int => "param_ops_int",
            ParamType::Uint => "param_ops_uint",
            ParamType::Long => "param_ops_long",
            ParamType::Ulong => "param_ops_ulong",
            ParamType::Bool => "param_ops_bool",
            ParamType::Charp => "param_ops_charp",
        }
    }

    /// Bytes of the variable.
    pub fn width(self) -> u32 {
        match self {
            ParamType::Byte | ParamType::Bool => 1,
            ParamType::Short | ParamType::Ushort => 2,
            _ => 4,
        }
    }

    /// Parses a value as Linux's `param_set_*` do (`kstrto*` with base 0:
    /// `0x` hex, leading `0` octal; bool takes y/Y/1/n/N/0 and on/off, and
    /// no value at all means true). Returns the bits to store, or `None`
    /// for an invalid value. Charp is the caller's business.
    pub fn parse(self, value: Option<&str>) -> Option<u32> {
        if self == ParamType::Bool {
            return match value {
                None => Some(1),
                Some("y" | "Y" | "1" | "on") => Some(1),
                Some("n" | "N" | "0" | "off") => Some(0),
                _ => None,
            };
        }
        let v = value?.strip_suffix('\n').unwrap_or(value?);
        let (neg, digits) = match v.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, v.strip_prefix('+').unwrap_or(v)),
        };
        let (radix, digits) = if let Some(h) = digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            (16, h)
        } else if digits.len() > 1 && digits.starts_with('0') {
            (8, &digits[1..])
        } else {
            (10, digits)
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        let mag = u64::from_str_radix(digits, radix).ok()?;
        let n: i64 = if neg {
            0i64.checked_sub_unsigned(mag)?
        } else {
            i64::try_from(mag).ok()?
        };
        let (lo, hi): (i64, i64) = match self {
            ParamType::Byte => (0, 0xff),
            ParamType::Short => (i16::MIN.into(), i16::MAX.into()),
            ParamType::Ushort => (0, 0xffff),
            ParamType::Int | ParamType::Long => (i32::MIN.into(), i32::MAX.into()),
            ParamType::Uint | ParamType::Ulong => (0, u32::MAX.into()),
            ParamType::Bool | ParamType::Charp => return None,
        };
        (lo..=hi).contains(&n).then_some(n as u32)
    }
}

/// Linux's `parse_args` message for a bad value (3.18 wording).
pub fn invalid_value_message(module: &str, value: &str, param: &str) -> String {
    alloc::format!("{module}: `{value}' invalid for parameter `{param}'")
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use object::write::{Object, Relocation, StandardSection, Symbol as WSymbol, SymbolSection};
    use object::{
        Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags,
        SymbolKind, SymbolScope, elf,
    };
    use std::vec;

    /// A module exporting `foo` and `bar` with records of `entry` bytes
    /// (8: {value, name}; 12: {value, name, namespace = NULL}), split into
    /// `tables` __ksymtab sections (rustc emits one per record).
    fn exporting(entry: usize, tables: usize) -> std::vec::Vec<u8> {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.section_id(StandardSection::Text);
        o.append_section_data(text, &[0x1e, 0xff, 0x2f, 0xe1, 0x1e, 0xff, 0x2f, 0xe1], 4);
        let strings = o.add_section(
            vec![],
            b"__ksymtab_strings".to_vec(),
            SectionKind::ReadOnlyData,
        );
        o.append_section_data(strings, b"foo\0bar\0", 1);
        let strings_sym = o.section_symbol(strings);
        let mut tabs = vec![];
        for _ in 0..tables {
            tabs.push(o.add_section(vec![], b"__ksymtab".to_vec(), SectionKind::ReadOnlyData));
        }
        for (i, name) in ["foo", "bar"].into_iter().enumerate() {
            let sym = o.add_symbol(WSymbol {
                name: name.as_bytes().to_vec(),
                value: 4 * i as u64,
                size: 4,
                kind: SymbolKind::Text,
                scope: SymbolScope::Dynamic,
                weak: false,
                section: SymbolSection::Section(text),
                flags: SymbolFlags::None,
            });
            let mut rec = vec![0u8; entry];
            rec[4..8].copy_from_slice(&(4 * i as u32).to_le_bytes()); // implicit addend
            let tab = tabs[i % tables];
            let at = o.append_section_data(tab, &rec, 4);
            for (off, target) in [(0, sym), (4, strings_sym)] {
                o.add_relocation(
                    tab,
                    Relocation {
                        offset: at + off,
                        symbol: target,
                        addend: 0,
                        flags: RelocationFlags::Elf {
                            r_type: elf::R_ARM_ABS32,
                        },
                    },
                )
                .unwrap();
            }
        }
        o.write().unwrap()
    }

    fn exports_of(bytes: &[u8]) -> Result<Vec<Export>, TableError> {
        let m = crate::validate(bytes).unwrap();
        let l = crate::layout::layout(&m).unwrap();
        let linked = crate::link::link(
            &m,
            &l,
            0xbf00_0000,
            0xbf80_0000,
            &crate::elf::tests_support::NoResolver,
        )
        .unwrap();
        exports(&m, &l, &linked, 0xbf00_0000)
    }

    #[test]
    fn both_record_sizes_and_split_tables() {
        for (entry, tables) in [(8, 1), (12, 1), (8, 2), (12, 2)] {
            let e = exports_of(&exporting(entry, tables)).unwrap();
            let mut names: Vec<(&str, u32)> =
                e.iter().map(|x| (x.name.as_str(), x.value)).collect();
            names.sort();
            assert_eq!(
                names,
                [("bar", 0xbf00_0004), ("foo", 0xbf00_0000)],
                "{entry}-byte records in {tables} tables"
            );
            assert!(e.iter().all(|x| !x.gpl_only));
        }
    }

    #[test]
    fn a_table_naming_no_strings_is_refused() {
        let mut bytes = exporting(8, 1);
        // Rename the strings section, so that no name points into a
        // __ksymtab_strings any more.
        let at = bytes
            .windows(17)
            .position(|w| w == b"__ksymtab_strings")
            .unwrap();
        bytes[at + 10] = b'X';
        let e = exports_of(&bytes).unwrap_err();
        assert_eq!(e.section, "__ksymtab");
        assert!(
            e.to_string()
                .starts_with("section __ksymtab: entries are neither")
        );
    }

    #[test]
    fn values_parse_as_kstrto() {
        use ParamType::*;
        assert_eq!(Int.parse(Some("42")), Some(42));
        assert_eq!(Int.parse(Some("-1")), Some(u32::MAX));
        assert_eq!(Int.parse(Some("0x10")), Some(16));
        assert_eq!(Int.parse(Some("010")), Some(8));
        assert_eq!(Int.parse(Some("+7\n")), Some(7));
        assert_eq!(Int.parse(Some("2147483648")), None);
        assert_eq!(Int.parse(Some("-2147483648")), Some(0x8000_0000));
        assert_eq!(Uint.parse(Some("-1")), None);
        assert_eq!(Uint.parse(Some("4294967295")), Some(u32::MAX));
        assert_eq!(Short.parse(Some("-32769")), None);
        assert_eq!(Ushort.parse(Some("65535")), Some(65535));
        assert_eq!(Byte.parse(Some("256")), None);
        assert_eq!(Int.parse(Some("12abc")), None);
        assert_eq!(Int.parse(Some("")), None);
        assert_eq!(Int.parse(None), None);
        assert_eq!(Int.parse(Some("089")), None);
        assert_eq!(Bool.parse(None), Some(1));
        assert_eq!(Bool.parse(Some("N")), Some(0));
        assert_eq!(Bool.parse(Some("maybe")), None);
        assert_eq!(
            invalid_value_message("hello", "abc", "count"),
            "hello: `abc' invalid for parameter `count'"
        );
    }
}
