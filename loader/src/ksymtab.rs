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
//! Each table is read once per record size, decoding as it checks.
//!
//! Parameters are the `__param` array of `struct kernel_param`
//! (`{name, ops, perm: u16, level: s8, flags: u8, arg}`, 16 bytes on
//! ARM32 in 3.18, Kobold's own ABI; 6.1's adds `struct module *mod` after
//! the name, 20 bytes: [`params_abi`] reads either). `ops` is the address of one of the kernel's `param_ops_*`
//! objects: only the kernel can say which, so the caller passes a
//! classifier; an `ops` it does not know refuses the module. `arg` is where
//! `insmod`'s value is stored, so it must lie in the module's writable data
//! (a core or init `Data` group, `.bss` included) for the whole width of
//! the type: a parameter aimed at text, rodata, ro-after-init data or
//! outside the module would let a command line patch what W^X protects.
//!
//! Names are not copied: an [`Export`] or [`Param`] holds an [`ImageStr`],
//! the offset and length of its name in the core image — where, as in
//! Linux, the name stays (in `__ksymtab_strings` or `.rodata`) for as long
//! as the module is loaded. Each name is shorter than
//! [`KSYM_NAME_LEN`](crate::KSYM_NAME_LEN) and is found with a scan of at
//! most that many bytes, so 30,000 records naming one 512 KB string cost
//! 30,000 short scans and a refusal, not 30,000 long ones. The results are
//! sorted by name, for [`find_export`] / [`find_param`] to binary-search,
//! and a module exporting one name twice is refused (Linux: "exports
//! duplicate symbol %s (owned by %s)"). Every allocation is fallible
//! ([`TableError::NoMemory`]) and sized by the tables in the file.

use crate::elf::Module;
use crate::layout::{ModuleLayout, Region};
use crate::{NameError, c_name, try_vec};
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;

/// A string in a linked image: `len` bytes of UTF-8 at `offset`, followed
/// by a NUL; checked when it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageStr {
    pub offset: u32,
    pub len: u32,
}

impl ImageStr {
    /// The string, read from `image` (the linked core image, or the
    /// module's core memory once it is there).
    pub fn get(self, image: &[u8]) -> Option<&str> {
        let at = self.offset as usize;
        let bytes = image.get(at..at.checked_add(self.len as usize)?)?;
        core::str::from_utf8(bytes).ok()
    }

    /// The string's bytes in `image`, not checked again as UTF-8: what
    /// [`ImageStr::get`] answers, as bytes, for a string found in this
    /// image (checked then). Comparing two of them orders them as their
    /// `str`s (`str`'s order is its bytes'), without a `from_utf8` each.
    pub fn bytes(self, image: &[u8]) -> Option<&[u8]> {
        let at = self.offset as usize;
        image.get(at..at.checked_add(self.len as usize)?)
    }
}

/// One symbol a module exports (an entry of its `__ksymtab` or
/// `__ksymtab_gpl`). The kernel's own export table has its own type,
/// `KernelExport`, in the kernel's module wing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Export {
    /// The name, in the core image (`__ksymtab_strings`).
    pub name: ImageStr,
    pub value: u32,
    /// From `__ksymtab_gpl`: only for GPL-compatible modules.
    pub gpl_only: bool,
}

impl Export {
    /// The name, given the core image.
    pub fn name<'c>(&self, core: &'c [u8]) -> Option<&'c str> {
        self.name.get(core)
    }
}

/// One `module_param`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// The name, in the core image.
    pub name: ImageStr,
    /// The type, as the classifier said for `ops`.
    pub ty: ParamType,
    /// Address of the kernel's `param_ops_*` object.
    pub ops: u32,
    /// Address of the variable: `ty.width()` writable bytes...
    pub arg: u32,
    /// ...in this region, at this offset from its base.
    pub region: Region,
    pub offset: u32,
    /// Offset of the `struct kernel_param` in the core image (table order
    /// breaks ties between parameters of one name, as Linux's first match).
    pub record: u32,
}

impl Param {
    /// The name, given the core image.
    pub fn name<'c>(&self, core: &'c [u8]) -> Option<&'c str> {
        self.name.get(core)
    }
}

/// A table that does not hold together, or what it says is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError<'c> {
    /// An allocation failed (the kernel's -ENOMEM).
    NoMemory,
    /// The table's shape or pointers are wrong.
    Malformed {
        section: &'static str,
        reason: &'static str,
    },
    /// Entry `index` of `section` names a string of KSYM_NAME_LEN bytes or
    /// more.
    NameTooLong { section: &'static str, index: u32 },
    /// Linux: "%s: exports duplicate symbol %s (owned by %s)".
    DuplicateExport { name: &'c str },
    /// A parameter whose `ops` is none of the kernel's `param_ops_*`.
    UnknownParamType { name: &'c str, ops: u32 },
    /// A parameter whose variable is not (entirely) in writable data.
    ParamNotWritable { name: &'c str, arg: u32, width: u32 },
}

impl fmt::Display for TableError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::NoMemory => write!(f, "out of memory"),
            TableError::Malformed { section, reason } => write!(f, "section {section}: {reason}"),
            TableError::NameTooLong { section, index } => write!(
                f,
                "section {section}: entry {index} names a string of {} bytes or more (KSYM_NAME_LEN)",
                crate::KSYM_NAME_LEN
            ),
            TableError::DuplicateExport { name } => {
                write!(f, "exports duplicate symbol {name} (owned by this module)")
            }
            TableError::UnknownParamType { name, ops } => {
                write!(f, "parameter '{name}' has an unknown type (ops {ops:#x})")
            }
            TableError::ParamNotWritable { name, arg, width } => write!(
                f,
                "parameter '{name}' ({width} bytes at {arg:#x}) is not in the module's writable data"
            ),
        }
    }
}

impl core::error::Error for TableError<'_> {}

fn word(core: &[u8], offset: u32) -> Option<u32> {
    let at = offset as usize;
    let b = core.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The name at address `addr`, inside `[start, end)` of the core image
/// (offsets) when given, else anywhere in it.
fn name_at(
    core: &[u8],
    base: u32,
    addr: u32,
    within: Option<&[(u32, u32)]>,
) -> Result<ImageStr, NameError> {
    let off = addr.checked_sub(base).ok_or(NameError::Bad)?;
    let end = match within {
        // Sorted, disjoint ranges: the last one starting at or before off.
        Some(ranges) => {
            let i = ranges.partition_point(|&(s, _)| s <= off);
            let &(_, e) = i
                .checked_sub(1)
                .and_then(|i| ranges.get(i))
                .ok_or(NameError::Bad)?;
            if off >= e {
                return Err(NameError::Bad);
            }
            e as usize
        }
        None => core.len(),
    };
    let bytes = core.get(..end).ok_or(NameError::Bad)?;
    let s = c_name(bytes, off as usize)?;
    Ok(ImageStr {
        offset: off,
        len: s.len() as u32,
    })
}

/// The core placements of every section called `name` that has contents
/// in the file (a NOBITS table holds nothing to read), as `(start, end)`
/// offsets sorted by start: a module that was not merged by `ld -r`
/// (rustc's output) has one section per record.
///
/// One pass over the sections finds them and keeps the first [`FEW`] on
/// the stack, so the vector is still reserved for exactly the sections
/// found; only a module with more than [`FEW`] sections of the name (an
/// unmerged one) takes a second pass. insmod asks for four names, and
/// counting each before collecting it walked a module's sections eight
/// times.
fn core_ranges(
    m: &Module<'_>,
    l: &ModuleLayout,
    name: &'static str,
) -> Result<Ranges, TableError<'static>> {
    let mut out = [Ranges::EMPTY];
    core_ranges_many(m, l, [name], &mut out)?;
    let [r] = out;
    Ok(r)
}

/// [`core_ranges`] of each of `names` (distinct), in one pass over the
/// sections: [`exports`] asks for three tables, and each pass looked at
/// every section's name. The answer, error included, is that of calling
/// [`core_ranges`] for each name in turn: the first name (in `names`'
/// order) with a NOBITS section is refused, and each vector is reserved
/// only after every name before it was found well-formed.
///
/// The ranges are written to `out` (the caller's), not returned: moving
/// them out cost more than the allocations their being in place saves.
fn core_ranges_many<const K: usize>(
    m: &Module<'_>,
    l: &ModuleLayout,
    names: [&'static str; K],
    out: &mut [Ranges; K],
) -> Result<(), TableError<'static>> {
    let which = |s: &crate::Section<'_>| names.iter().position(|n| crate::name_is(s.name, n));
    let core = |s: &crate::Section<'_>| {
        l.placements
            .get(s.index as usize)
            .copied()
            .flatten()
            .filter(|p| p.region == Region::Core)
    };
    let mut few = [[(0u32, 0u32); FEW]; K];
    let mut n = [0usize; K];
    let mut nobits = [false; K];
    for s in &m.sections {
        let Some(k) = which(s) else { continue };
        let Some(p) = core(s) else { continue };
        if s.data.is_none() {
            nobits[k] = true;
            continue;
        }
        if let Some(slot) = few[k].get_mut(n[k]) {
            *slot = (p.offset, p.offset.saturating_add(p.size));
        }
        n[k] += 1;
    }
    for (k, r) in out.iter_mut().enumerate() {
        if nobits[k] {
            return Err(TableError::Malformed {
                section: names[k],
                reason: "the table has no contents (SHT_NOBITS)",
            });
        }
        match few[k].get(..n[k]) {
            // Kept as they are, on the stack: no vector (a module
            // merged by `ld -r` has at most one section of each name).
            Some(_) => *r = Ranges::Few(few[k], n[k]),
            None => {
                let mut v = try_vec(n[k]).ok_or(TableError::NoMemory)?;
                for s in &m.sections {
                    if which(s) != Some(k) {
                        continue;
                    }
                    if let Some(p) = core(s)
                        && v.len() < v.capacity()
                    {
                        v.push((p.offset, p.offset.saturating_add(p.size)));
                    }
                }
                *r = Ranges::Many(v);
            }
        }
        r.sort_unstable();
    }
    Ok(())
}

/// The `(start, end)` ranges [`core_ranges`] found, sorted: up to [`FEW`]
/// held in place, more in a vector reserved for exactly them. Each table's
/// ranges were a vector of their own, an allocation and a free for one
/// range in every `insmod` (three or four a module).
#[derive(Clone, Debug)]
enum Ranges {
    Few([(u32, u32); FEW], usize),
    Many(Vec<(u32, u32)>),
}

impl Ranges {
    /// No range.
    const EMPTY: Ranges = Ranges::Few([(0, 0); FEW], 0);
}

impl core::ops::Deref for Ranges {
    type Target = [(u32, u32)];
    fn deref(&self) -> &[(u32, u32)] {
        match self {
            Ranges::Few(few, n) => few.get(..*n).unwrap_or(&[]),
            Ranges::Many(v) => v,
        }
    }
}

impl core::ops::DerefMut for Ranges {
    fn deref_mut(&mut self) -> &mut [(u32, u32)] {
        match self {
            Ranges::Few(few, n) => few.get_mut(..*n).unwrap_or(&mut []),
            Ranges::Many(v) => v,
        }
    }
}

/// Two sets of ranges are equal when their ranges are.
impl PartialEq for Ranges {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

/// How many sections of one table name [`core_ranges`] keeps on the stack
/// in its one pass (a module merged by `ld -r` has one of each).
const FEW: usize = 4;

/// The exports of a linked module, read from `core` (its linked core
/// image, to run at `core_base`), sorted by name; a name exported twice
/// is refused.
pub fn exports<'c>(
    m: &Module<'_>,
    l: &ModuleLayout,
    core: &'c [u8],
    core_base: u32,
) -> Result<Vec<Export>, TableError<'c>> {
    let mut ranges = [Ranges::EMPTY, Ranges::EMPTY, Ranges::EMPTY];
    core_ranges_many(
        m,
        l,
        ["__ksymtab_strings", "__ksymtab", "__ksymtab_gpl"],
        &mut ranges,
    )?;
    let [strings, ksymtab, gpl] = &ranges;
    let tables = [("__ksymtab", false, ksymtab), ("__ksymtab_gpl", true, gpl)];
    // At most one export per 8 bytes of table.
    let most: usize = tables
        .iter()
        .flat_map(|t| t.2.iter())
        .map(|&(s, e)| (e.saturating_sub(s) / 8) as usize)
        .sum();
    let mut out: Vec<Export> = try_vec(most).ok_or(TableError::NoMemory)?;
    for (section, gpl_only, ranges) in &tables {
        for &(start, end) in ranges.iter() {
            let size = end - start;
            let mut too_long = None;
            let mut found = false;
            for entry in [8u32, 12] {
                if size % entry != 0 {
                    continue;
                }
                let mark = out.len();
                let mut ok = true;
                for i in 0..size / entry {
                    let at = start + i * entry;
                    let name = word(core, at + 4)
                        .ok_or(NameError::Bad)
                        .and_then(|a| name_at(core, core_base, a, Some(strings)));
                    match (name, word(core, at)) {
                        (Ok(name), Some(value)) if out.len() < out.capacity() => {
                            out.push(Export {
                                name,
                                value,
                                gpl_only: *gpl_only,
                            });
                        }
                        (Err(NameError::TooLong), _) => {
                            too_long.get_or_insert(i);
                            ok = false;
                            break;
                        }
                        _ => {
                            ok = false;
                            break;
                        }
                    }
                }
                if ok {
                    found = true;
                    break;
                }
                out.truncate(mark);
            }
            if !found {
                return Err(match too_long {
                    Some(index) => TableError::NameTooLong { section, index },
                    None => TableError::Malformed {
                        section,
                        reason: "entries are neither {value, name} nor {value, name, namespace} records naming strings in __ksymtab_strings",
                    },
                });
            }
        }
    }
    // Sorted and compared as bytes: every name was checked as UTF-8 when
    // it was found (`name_at`), so this is the order of their `str`s.
    let bytes = |e: &Export| e.name.bytes(core).unwrap_or(&[]);
    out.sort_unstable_by(|a, b| bytes(a).cmp(bytes(b)));
    if let Some(w) = out.windows(2).find(|w| bytes(&w[0]) == bytes(&w[1])) {
        return Err(TableError::DuplicateExport {
            name: w[0].name.get(core).unwrap_or(""),
        });
    }
    Ok(out)
}

/// The export called `name` among `exports` (as [`exports`] returns them:
/// sorted), given the core image its names are in: a binary search.
pub fn find_export<'e>(exports: &'e [Export], core: &[u8], name: &str) -> Option<&'e Export> {
    let i = exports
        .binary_search_by(|e| e.name(core).unwrap_or("").cmp(name))
        .ok()?;
    exports.get(i)
}

/// Size of `struct kernel_param` on ARM32 in Linux 3.18 (Kobold's own
/// ABI): `{name, ops, perm/level/flags, arg}`.
pub const KERNEL_PARAM_SIZE: u32 = 16;

/// Size of `struct kernel_param` on ARM32 in Linux 6.1 (since 3.19):
/// `{name, mod, ops, perm/level/flags, arg}`: `struct module *mod` was
/// added after the name.
pub const KERNEL_PARAM_SIZE_61: u32 = 20;

/// Where the fields of a `struct kernel_param` are, for an ABI:
/// `(record size, offset of ops, offset of arg)`.
fn param_shape(abi: crate::linux61::Abi) -> (u32, u32, u32) {
    match abi {
        crate::linux61::Abi::Kobold => (KERNEL_PARAM_SIZE, 4, 12),
        crate::linux61::Abi::Linux61 => (KERNEL_PARAM_SIZE_61, 8, 16),
    }
}

/// Parameter names compare as Linux's `parameq`: `-` and `_` are the same.
fn param_cmp(a: &str, b: &str) -> Ordering {
    let norm = |c: u8| if c == b'-' { b'_' } else { c };
    a.bytes().map(norm).cmp(b.bytes().map(norm))
}

/// The parameters a linked module declares, read from `core` (its linked
/// core image at `core_base`; the init region is at `init_base`), each
/// typed by `classify(ops)` and checked to point at writable data; sorted
/// by name (`-` and `_` alike), then table order.
pub fn params<'c>(
    m: &Module<'_>,
    l: &ModuleLayout,
    core: &'c [u8],
    core_base: u32,
    init_base: u32,
    classify: &dyn Fn(u32) -> Option<ParamType>,
) -> Result<Vec<Param>, TableError<'c>> {
    params_abi(
        m,
        l,
        core,
        core_base,
        init_base,
        crate::linux61::Abi::Kobold,
        classify,
    )
}

/// [`params`] for a module built for `abi`: 3.18's 16-byte `struct
/// kernel_param` (Kobold's own modules) or 6.1's 20-byte one.
pub fn params_abi<'c>(
    m: &Module<'_>,
    l: &ModuleLayout,
    core: &'c [u8],
    core_base: u32,
    init_base: u32,
    abi: crate::linux61::Abi,
    classify: &dyn Fn(u32) -> Option<ParamType>,
) -> Result<Vec<Param>, TableError<'c>> {
    let (record, ops_at, arg_at) = param_shape(abi);
    let malformed = |reason| TableError::Malformed {
        section: "__param",
        reason,
    };
    let ranges = core_ranges(m, l, "__param")?;
    let most: usize = ranges
        .iter()
        .map(|&(s, e)| (e.saturating_sub(s) / record) as usize)
        .sum();
    let mut out: Vec<Param> = try_vec(most).ok_or(TableError::NoMemory)?;
    let mut index = 0u32;
    for &(start, end) in ranges.iter() {
        if (end - start) % record != 0 {
            return Err(malformed(
                "size is not a whole number of struct kernel_param",
            ));
        }
        for i in 0..(end - start) / record {
            let at = start + i * record;
            let name = match word(core, at)
                .ok_or(NameError::Bad)
                .and_then(|a| name_at(core, core_base, a, None))
            {
                Ok(n) => n,
                Err(NameError::TooLong) => {
                    return Err(TableError::NameTooLong {
                        section: "__param",
                        index,
                    });
                }
                Err(NameError::Bad) => {
                    return Err(malformed(
                        "a parameter's name is not a string in the module",
                    ));
                }
            };
            let text = name.get(core).unwrap_or("");
            let (Some(ops), Some(arg)) = (word(core, at + ops_at), word(core, at + arg_at)) else {
                return Err(malformed("truncated entry"));
            };
            let ty = classify(ops).ok_or(TableError::UnknownParamType { name: text, ops })?;
            let (region, offset) = l.writable(arg, ty.width(), core_base, init_base).ok_or(
                TableError::ParamNotWritable {
                    name: text,
                    arg,
                    width: ty.width(),
                },
            )?;
            if out.len() < out.capacity() {
                out.push(Param {
                    name,
                    ty,
                    ops,
                    arg,
                    region,
                    offset,
                    record: at,
                });
            }
            index += 1;
        }
    }
    out.sort_unstable_by(|a, b| {
        param_cmp(a.name(core).unwrap_or(""), b.name(core).unwrap_or(""))
            .then(a.record.cmp(&b.record))
    });
    Ok(out)
}

/// The parameter `name` (Linux's `parameq`: `-` matches `_`) among
/// `params` (as [`params`] returns them), given the core image: the first
/// in table order when several share the name, as Linux's `parse_one`.
pub fn find_param<'p>(params: &'p [Param], core: &[u8], name: &str) -> Option<&'p Param> {
    let i = params.partition_point(|p| param_cmp(p.name(core).unwrap_or(""), name).is_lt());
    params
        .get(i)
        .filter(|p| param_cmp(p.name(core).unwrap_or(""), name).is_eq())
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

    /// What a value must look like, in words (for the explanation after
    /// Linux's "`x' invalid for parameter `p'").
    pub fn expects(self) -> &'static str {
        match self {
            ParamType::Byte => "a byte: a number from 0 to 255",
            ParamType::Short => "a short: a number from -32768 to 32767",
            ParamType::Ushort => "an unsigned short: a number from 0 to 65535",
            ParamType::Int | ParamType::Long => {
                "an int: a number from -2147483648 to 2147483647 (0x... hex, 0... octal)"
            }
            ParamType::Uint | ParamType::Ulong => {
                "an unsigned int: a number from 0 to 4294967295 (0x... hex, 0... octal)"
            }
            ParamType::Bool => "a bool: y, n, Y, N, 1 or 0 (or no value: true)",
            ParamType::Charp => "a string: name=VALUE, with a value",
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

    /// Whether `insmod m.ko NAME` (no `=value`) is accepted: only for bool
    /// (Linux 3.18's `parse_one` refuses a missing value with -EINVAL for
    /// every other type, charp included).
    pub fn takes_no_value(self) -> bool {
        self == ParamType::Bool
    }

    /// Parses a value as Linux 3.18's `param_set_*` do: numbers as
    /// `kstrto*` with base 0 (`0x` hex, leading `0` octal, an optional
    /// trailing newline); bool as `strtobool`, which reads only the first
    /// character — `y`/`Y`/`1` true, `n`/`N`/`0` false (so "yes" and "no"
    /// work, "on"/"off" do not) — and no value at all means true. Returns
    /// the bits to store, or `None` for an invalid value (and for any
    /// non-bool without a value). Charp is the caller's business: `None`.
    pub fn parse(self, value: Option<&str>) -> Option<u32> {
        if self == ParamType::Bool {
            return match value.map(|v| v.bytes().next()) {
                None => Some(1),
                Some(Some(b'y' | b'Y' | b'1')) => Some(1),
                Some(Some(b'n' | b'N' | b'0')) => Some(0),
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

/// Linux's `parse_args` message for a bad value (3.18 wording), as a
/// `Display` that allocates nothing.
pub fn invalid_value_message<'a>(
    module: &'a str,
    value: &'a str,
    param: &'a str,
) -> InvalidValue<'a> {
    InvalidValue {
        module,
        value,
        param,
    }
}

/// See [`invalid_value_message`].
#[derive(Clone, Copy, Debug)]
pub struct InvalidValue<'a> {
    pub module: &'a str,
    pub value: &'a str,
    pub param: &'a str,
}

impl fmt::Display for InvalidValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: `{}' invalid for parameter `{}'",
            self.module, self.value, self.param
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    extern crate std;
    use object::write::{Object, Relocation, StandardSection, Symbol as WSymbol, SymbolSection};
    use object::{
        Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags,
        SymbolKind, SymbolScope, elf,
    };
    use std::string::ToString;
    use std::vec;

    /// An R_ARM_ABS32 relocation of the word at `offset` in `section`.
    fn abs32(
        o: &mut Object<'_>,
        section: object::write::SectionId,
        offset: u64,
        symbol: object::write::SymbolId,
    ) {
        o.add_relocation(
            section,
            Relocation {
                offset,
                symbol,
                addend: 0,
                flags: RelocationFlags::Elf {
                    r_type: elf::R_ARM_ABS32,
                },
            },
        )
        .unwrap();
    }

    /// A module exporting `foo` and `bar` with records of `entry` bytes
    /// (8: {value, name}; 12: {value, name, namespace = NULL}), split into
    /// `tables` __ksymtab sections (rustc emits one per record).
    fn exporting(entry: usize, tables: usize) -> std::vec::Vec<u8> {
        exporting_names(entry, tables, &["foo", "bar"])
    }

    /// [`exporting`] with the exports `names` (the i-th at text offset
    /// 4 * i), round-robin over `tables` __ksymtab sections.
    fn exporting_names(entry: usize, tables: usize, names: &[&str]) -> std::vec::Vec<u8> {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.section_id(StandardSection::Text);
        o.append_section_data(text, &[0x1e, 0xff, 0x2f, 0xe1].repeat(names.len()), 4);
        let strings = o.add_section(
            vec![],
            b"__ksymtab_strings".to_vec(),
            SectionKind::ReadOnlyData,
        );
        let mut string_bytes = vec![];
        let mut string_at = vec![];
        for name in names {
            string_at.push(string_bytes.len() as u32);
            string_bytes.extend_from_slice(name.as_bytes());
            string_bytes.push(0);
        }
        o.append_section_data(strings, &string_bytes, 1);
        let strings_sym = o.section_symbol(strings);
        let mut tabs = vec![];
        for _ in 0..tables {
            tabs.push(o.add_section(vec![], b"__ksymtab".to_vec(), SectionKind::ReadOnlyData));
        }
        for (i, name) in names.iter().enumerate() {
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
            rec[4..8].copy_from_slice(&string_at[i].to_le_bytes()); // implicit addend
            let tab = tabs[i % tables];
            let at = o.append_section_data(tab, &rec, 4);
            for (off, target) in [(0, sym), (4, strings_sym)] {
                abs32(&mut o, tab, at + off, target);
            }
        }
        o.write().unwrap()
    }

    /// Validates, lays out and links `bytes` at 0xbf000000 (every
    /// undefined symbol resolving to 0xc0001000) and hands the core image
    /// and layout to `f`.
    fn with_linked<R>(bytes: &[u8], f: impl FnOnce(&Module<'_>, &ModuleLayout, &[u8]) -> R) -> R {
        struct Any;
        impl crate::link::Resolver for Any {
            fn resolve(&self, _: &str) -> Option<crate::relocate::Target> {
                Some(crate::relocate::Target {
                    value: 0xc000_1000,
                    is_func: false,
                })
            }
        }
        let m = crate::validate(bytes).unwrap();
        let l = crate::layout::layout(&m).unwrap();
        let (core, _, _) =
            crate::elf::tests_support::link_vec(&m, &l, 0xbf00_0000, 0xbf80_0000, &Any).unwrap();
        f(&m, &l, &core)
    }

    fn export_names(bytes: &[u8]) -> std::vec::Vec<(std::string::String, u32)> {
        with_linked(bytes, |m, l, core| {
            exports(m, l, core, 0xbf00_0000)
                .unwrap()
                .iter()
                .map(|x| (x.name(core).unwrap().into(), x.value))
                .collect()
        })
    }

    #[test]
    fn both_record_sizes_and_split_tables() {
        for (entry, tables) in [(8, 1), (12, 1), (8, 2), (12, 2)] {
            // Sorted by name.
            assert_eq!(
                export_names(&exporting(entry, tables)),
                [("bar".into(), 0xbf00_0004), ("foo".into(), 0xbf00_0000)],
                "{entry}-byte records in {tables} tables"
            );
        }
        with_linked(&exporting(8, 1), |m, l, core| {
            let e = exports(m, l, core, 0xbf00_0000).unwrap();
            assert!(e.iter().all(|x| !x.gpl_only));
            assert_eq!(find_export(&e, core, "foo").unwrap().value, 0xbf00_0000);
            assert_eq!(find_export(&e, core, "bar").unwrap().value, 0xbf00_0004);
            assert!(find_export(&e, core, "baz").is_none());
            // The name is a slice of __ksymtab_strings in the image.
            let s = l.placements[m.section_by_name("__ksymtab_strings").unwrap().index as usize]
                .unwrap();
            assert_eq!(
                e[0].name,
                ImageStr {
                    offset: s.offset + 4,
                    len: 3
                }
            );
        });
    }

    /// More `__ksymtab` sections than `core_ranges` keeps on the stack
    /// (its second pass) read as one table does, at every count around
    /// the bound.
    #[test]
    fn many_split_tables() {
        let names = ["e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"];
        let want: std::vec::Vec<(std::string::String, u32)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| ((*n).into(), 0xbf00_0000 + 4 * i as u32))
            .collect();
        for tables in [1, FEW - 1, FEW, FEW + 1, names.len()] {
            for entry in [8, 12] {
                assert_eq!(
                    export_names(&exporting_names(entry, tables, &names)),
                    want,
                    "{entry}-byte records in {tables} tables"
                );
            }
        }
    }

    /// Exports sorted on their bytes come out in their `str`s' order
    /// (multi-byte names included), and `ImageStr::bytes` is `get`'s
    /// answer as bytes.
    #[test]
    fn exports_sort_as_strs() {
        let names = ["zeta", "\u{e9}t\u{e9}", "alpha", "\u{e4}", "b", "al"];
        let bytes = exporting_names(8, 2, &names);
        let mut want: std::vec::Vec<&str> = names.to_vec();
        want.sort();
        let got = export_names(&bytes);
        assert_eq!(
            got.iter()
                .map(|(n, _)| n.as_str())
                .collect::<std::vec::Vec<_>>(),
            want
        );
        with_linked(&bytes, |m, l, core| {
            for e in exports(m, l, core, 0xbf00_0000).unwrap() {
                assert_eq!(e.name.bytes(core), e.name(core).map(str::as_bytes));
            }
            let past = ImageStr {
                offset: core.len() as u32,
                len: 1,
            };
            assert_eq!(past.bytes(core), None);
            assert_eq!(past.get(core), None);
        });
    }

    /// `Ranges` held in place read as the vector they replace, and equal
    /// a vector of the same ranges; sorting works on either.
    #[test]
    fn ranges_in_place_are_a_vector() {
        let all = [(9u32, 12u32), (1, 4), (5, 8), (20, 24)];
        for n in 0..=FEW {
            let mut few = [(0, 0); FEW];
            few[..n].copy_from_slice(&all[..n]);
            let mut a = Ranges::Few(few, n);
            let mut b = Ranges::Many(all[..n].to_vec());
            assert_eq!(&*a, &all[..n]);
            assert_eq!(a, b);
            a.sort_unstable();
            b.sort_unstable();
            let mut want = all[..n].to_vec();
            want.sort_unstable();
            assert_eq!(&*a, &want[..]);
            assert_eq!(a, b);
        }
        assert_ne!(
            Ranges::Few([(0, 0); FEW], 1),
            Ranges::Many(std::vec::Vec::new())
        );
    }

    /// `core_ranges_many` answers `core_ranges` of each name in turn,
    /// errors included: over split tables (on both sides of `FEW`) and
    /// with each subset of the three tables made NOBITS.
    #[test]
    fn ranges_of_many_names_are_each_names_ranges() {
        const NAMES: [&str; 3] = ["__ksymtab_strings", "__ksymtab", "__ksymtab_gpl"];
        let names = ["e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"];
        let mut compared = 0;
        for tables in [1, FEW, FEW + 1, names.len()] {
            let base = exporting_names(8, tables, &names);
            for nobits in 0..8u32 {
                // The module as validated, those tables then made NOBITS.
                let mut m = crate::validate(&base).unwrap();
                for s in &mut m.sections {
                    if let Some(k) = NAMES.iter().position(|n| *n == s.name)
                        && nobits & (1 << k) != 0
                    {
                        s.data = None;
                        s.sh_type = crate::elf::SHT_NOBITS;
                    }
                }
                let l = crate::layout::layout(&m).unwrap();
                let each = (|| {
                    Ok::<_, TableError<'static>>([
                        core_ranges(&m, &l, NAMES[0])?,
                        core_ranges(&m, &l, NAMES[1])?,
                        core_ranges(&m, &l, NAMES[2])?,
                    ])
                })();
                let mut out = [Ranges::EMPTY, Ranges::EMPTY, Ranges::EMPTY];
                let many = core_ranges_many(&m, &l, NAMES, &mut out).map(|()| out);
                assert_eq!(many, each, "{tables} tables, NOBITS mask {nobits}");
                compared += usize::from(many.is_err());
            }
        }
        // Some of them were refused (a NOBITS table that is placed).
        assert!(compared > 0);
    }

    #[test]
    fn a_name_exported_twice_is_refused() {
        let mut bytes = exporting(8, 1);
        // "foo\0bar\0" -> "foo\0foo\0".
        let at = bytes.windows(8).position(|w| w == b"foo\0bar\0").unwrap();
        bytes[at + 4..at + 7].copy_from_slice(b"foo");
        with_linked(&bytes, |m, l, core| {
            let e = exports(m, l, core, 0xbf00_0000).unwrap_err();
            assert_eq!(e, TableError::DuplicateExport { name: "foo" });
            assert_eq!(
                e.to_string(),
                "exports duplicate symbol foo (owned by this module)"
            );
        });
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
        with_linked(&bytes, |m, l, core| {
            let e = exports(m, l, core, 0xbf00_0000).unwrap_err();
            assert!(matches!(
                e,
                TableError::Malformed {
                    section: "__ksymtab",
                    ..
                }
            ));
            assert!(
                e.to_string()
                    .starts_with("section __ksymtab: entries are neither")
            );
        });
    }

    pub(crate) const OPS_INT: u32 = 0xc000_1000;

    /// A module with `int count` (in `data_section`, 4-aligned) declared as
    /// parameters `count` and `other-count` (`struct kernel_param`s whose
    /// ops is the undefined `param_ops_int`, resolved to [`OPS_INT`]), plus
    /// `flag` (a bool at offset `flag_at` of the same section).
    pub(crate) fn with_params(
        data_section: &[u8],
        kind: SectionKind,
        flag_at: u64,
    ) -> std::vec::Vec<u8> {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let data = o.add_section(vec![], data_section.to_vec(), kind);
        o.append_section_data(data, &[0; 8], 4);
        let data_sym = o.section_symbol(data);
        let ro = o.section_id(StandardSection::ReadOnlyData);
        o.append_section_data(ro, b"other-count\0count\0flag\0", 1);
        let ro_sym = o.section_symbol(ro);
        let ops = o.add_symbol(WSymbol {
            name: b"param_ops_int".to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Data,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Undefined,
            flags: SymbolFlags::None,
        });
        let table = o.add_section(vec![], b"__param".to_vec(), SectionKind::ReadOnlyData);
        for (name_at, arg_at) in [(12u32, 0u32), (0, 0), (18, flag_at as u32)] {
            let mut rec = [0u8; 16];
            rec[0..4].copy_from_slice(&name_at.to_le_bytes());
            rec[12..16].copy_from_slice(&arg_at.to_le_bytes());
            let at = o.append_section_data(table, &rec, 4);
            for (off, target) in [(0, ro_sym), (4, ops), (12, data_sym)] {
                abs32(&mut o, table, at + off, target);
            }
        }
        o.write().unwrap()
    }

    pub(crate) fn classify(ops: u32) -> Option<ParamType> {
        // One ops object per type in this test's kernel: the flag, at the
        // same address as int, is told apart by its name below.
        (ops == OPS_INT).then_some(ParamType::Int)
    }

    #[test]
    fn parameters_are_typed_sorted_and_point_at_writable_data() {
        let bytes = with_params(b".data", SectionKind::Data, 4);
        with_linked(&bytes, |m, l, core| {
            let p = params(m, l, core, 0xbf00_0000, 0xbf80_0000, &classify).unwrap();
            let names: std::vec::Vec<&str> = p.iter().map(|x| x.name(core).unwrap()).collect();
            assert_eq!(names, ["count", "flag", "other-count"]);
            let data = l.placements[m.section_by_name(".data").unwrap().index as usize].unwrap();
            assert_eq!(p[0].ty, ParamType::Int);
            assert_eq!((p[0].region, p[0].offset), (Region::Core, data.offset));
            assert_eq!(p[0].arg, 0xbf00_0000 + data.offset);
            assert_eq!(p[1].offset, data.offset + 4);
            // parameq: '-' and '_' are one.
            let found = find_param(&p, core, "other_count").unwrap();
            assert_eq!(found.name(core), Some("other-count"));
            assert_eq!(find_param(&p, core, "count").unwrap().record, p[0].record);
            assert!(find_param(&p, core, "nosuch").is_none());
            // An ops the kernel does not know refuses the module.
            let e = params(m, l, core, 0xbf00_0000, 0xbf80_0000, &|_| None).unwrap_err();
            assert!(matches!(
                e,
                TableError::UnknownParamType { ops: OPS_INT, .. }
            ));
        });
        // Init data is writable too, and the parameter says so.
        let bytes = with_params(b".init.data", SectionKind::Data, 4);
        with_linked(&bytes, |m, l, core| {
            let p = params(m, l, core, 0xbf00_0000, 0xbf80_0000, &classify).unwrap();
            assert_eq!(
                (p[0].region, p[0].offset, p[0].arg),
                (Region::Init, 0, 0xbf80_0000)
            );
        });
    }

    #[test]
    fn parameters_outside_writable_data_are_refused() {
        // The int at offset 6 of 8 bytes: half of it past .data.
        let bytes = with_params(b".data", SectionKind::Data, 6);
        with_linked(&bytes, |m, l, core| {
            let e = params(m, l, core, 0xbf00_0000, 0xbf80_0000, &classify).unwrap_err();
            assert!(
                matches!(
                    e,
                    TableError::ParamNotWritable {
                        name: "flag",
                        width: 4,
                        ..
                    }
                ),
                "{e:?}"
            );
            assert!(
                e.to_string()
                    .starts_with("parameter 'flag' (4 bytes at 0xbf")
            );
        });
        // Text, rodata and ro-after-init are not writable.
        for (name, kind) in [
            (&b".text.params"[..], SectionKind::Text),
            (b".rodata.params", SectionKind::ReadOnlyData),
            (b".data..ro_after_init", SectionKind::Data),
        ] {
            let bytes = with_params(name, kind, 4);
            with_linked(&bytes, |m, l, core| {
                let e = params(m, l, core, 0xbf00_0000, 0xbf80_0000, &classify).unwrap_err();
                assert!(matches!(e, TableError::ParamNotWritable { .. }), "{e:?}");
            });
        }
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
        // Linux 3.18's strtobool: the first character decides.
        for (v, want) in [
            ("y", Some(1)),
            ("Y", Some(1)),
            ("1", Some(1)),
            ("yes", Some(1)),
            ("n", Some(0)),
            ("N", Some(0)),
            ("0", Some(0)),
            ("no", Some(0)),
            ("on", None),
            ("off", None),
            ("", None),
            ("true", None),
        ] {
            assert_eq!(Bool.parse(Some(v)), want, "{v:?}");
        }
        // Without a value: only bool.
        assert!(Bool.takes_no_value());
        for t in ParamType::ALL.into_iter().filter(|&t| t != Bool) {
            assert!(!t.takes_no_value());
            assert_eq!(t.parse(None), None);
        }
        assert_eq!(
            invalid_value_message("hello", "abc", "count").to_string(),
            "hello: `abc' invalid for parameter `count'"
        );
    }
}
