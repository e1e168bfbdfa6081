//! Validating an ELF32 ARM relocatable and exposing what was checked.
//!
//! The header and the section table are read through the `object` crate's
//! bounds-checked `pod` views (`object::elf`'s `FileHeader32`,
//! `SectionHeader32`); the per-entry loops over section headers, symbols
//! (`Elf32_Sym`) and relocations (`Elf32_Rel`) read each record as its
//! little-endian words (`Records`: aligned loads when the table is
//! word-aligned, as in the kernel, which forbids unaligned ones). The
//! checks are ours, in this order:
//!
//! 1. header: length, magic, ELFCLASS32 + ELFDATA2LSB, ET_REL, EM_ARM,
//!    `e_shentsize` 40, the section table inside the file;
//! 2. sections: section 0 null; the name table valid and NUL-bounded; every
//!    name inside it; every non-NOBITS section inside the file (with
//!    overflow checks); no SHF_WRITE|SHF_EXECINSTR; no SHT_RELA;
//! 3. exactly one SHT_SYMTAB with 16-byte entries and a valid string table;
//!    every symbol name inside it; every symbol section index in range (not
//!    reserved, not SHN_COMMON);
//! 4. every SHT_REL section: 8-byte entries, linked to the symbol table,
//!    its target in range and not itself; every relocation's symbol index
//!    below the symbol count (Linux's `>` check admitted `== nsyms`) and its
//!    4 patched bytes inside the target (no `size - 4` wrap-around);
//! 5. `.modinfo` sections NUL-terminated.
//!
//! Every name (section or symbol) is a `&str` into its string table, found
//! by a scan of at most [`KSYM_NAME_LEN`](crate::KSYM_NAME_LEN) bytes: a
//! longer one is refused ([`LoadError::NameTooLong`]), so a file whose 2,000
//! symbols all name one 64 KB string costs neither 2,000 copies nor 2,000
//! scans of 64 KB. Each table the [`Module`] holds is reserved, fallibly,
//! for the number of entries in the file ([`LoadError::NoMemory`]).

use crate::error::LoadError;
use crate::{NameError, StrTable, try_vec};
use alloc::vec::Vec;
use object::LittleEndian as LE;
use object::elf;
use object::pod;

// object 0.40 wraps ELF constants in newtypes; the loader works on the raw
// numbers, as they appear in the file.
const SHF_ALLOC: u32 = elf::SHF_ALLOC.0 as u32;
const SHF_WRITE: u32 = elf::SHF_WRITE.0 as u32;
const SHF_EXECINSTR: u32 = elf::SHF_EXECINSTR.0 as u32;
const SHT_NULL: u32 = elf::SHT_NULL.0;
const SHT_STRTAB: u32 = elf::SHT_STRTAB.0;
pub(crate) const SHT_SYMTAB: u32 = elf::SHT_SYMTAB.0;
pub(crate) const SHT_NOBITS: u32 = elf::SHT_NOBITS.0;
const SHT_REL: u32 = elf::SHT_REL.0;
const SHT_RELA: u32 = elf::SHT_RELA.0;
const SHN_UNDEF: u16 = elf::SHN_UNDEF.0;
pub(crate) const SHN_ABS: u16 = elf::SHN_ABS.0;
const SHN_COMMON: u16 = elf::SHN_COMMON.0;
const SHN_LORESERVE: u16 = elf::SHN_LORESERVE;
// Symbol bindings (`st_info >> 4`) and types (`st_info & 0xf`) the loader
// tells apart, for the stages that follow validation.
pub(crate) const STB_LOCAL: u8 = elf::STB_LOCAL.0;
pub(crate) const STB_WEAK: u8 = elf::STB_WEAK.0;
pub(crate) const STT_FUNC: u8 = elf::STT_FUNC.0;
pub(crate) const STT_SECTION: u8 = elf::STT_SECTION.0;
pub(crate) const STT_FILE: u8 = elf::STT_FILE.0;

/// A validated section.
#[derive(Clone, Copy, Debug)]
pub struct Section<'a> {
    pub index: u32,
    pub name: &'a str,
    pub sh_type: u32,
    pub flags: u32,
    pub size: u32,
    pub align: u32,
    pub link: u32,
    pub info: u32,
    /// The bytes in the file; `None` for SHT_NOBITS.
    pub data: Option<&'a [u8]>,
}

impl Section<'_> {
    pub fn is_alloc(&self) -> bool {
        self.flags & SHF_ALLOC != 0
    }
}

/// A validated symbol.
#[derive(Clone, Copy, Debug)]
pub struct Symbol<'a> {
    pub name: &'a str,
    pub value: u32,
    pub size: u32,
    pub info: u8,
    pub shndx: u16,
}

impl Symbol<'_> {
    pub fn is_undefined(&self) -> bool {
        self.shndx == SHN_UNDEF
    }
    /// A `-fcommon` tentative definition: `value` is its alignment.
    pub fn is_common(&self) -> bool {
        self.shndx == SHN_COMMON
    }
    pub fn binding(&self) -> u8 {
        self.info >> 4
    }
    pub fn kind(&self) -> u8 {
        self.info & 0xf
    }
    /// `STB_LOCAL`: visible only inside the module (`nm`'s lower-case
    /// letters).
    pub fn is_local(&self) -> bool {
        self.binding() == STB_LOCAL
    }
    /// `STT_FUNC`.
    pub fn is_func(&self) -> bool {
        self.kind() == STT_FUNC
    }
    /// `STT_SECTION` or `STT_FILE`: a symbol naming a section or the source
    /// file, not a function or object.
    pub fn is_section_or_file(&self) -> bool {
        self.kind() == STT_SECTION || self.kind() == STT_FILE
    }
}

/// One relocation of an SHT_REL section (checked against its target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rel {
    pub offset: u32,
    pub r_type: u32,
    pub symbol: u32,
}

/// A module whose structure has been checked.
#[derive(Debug)]
pub struct Module<'a> {
    pub sections: Vec<Section<'a>>,
    pub symbols: Vec<Symbol<'a>>,
    /// (relocation section index, target section index, relocations).
    pub relocations: Vec<(u32, u32, Vec<Rel>)>,
    /// The contents of every `.modinfo` section (usually one).
    pub modinfo: Vec<&'a [u8]>,
}

impl<'a> Module<'a> {
    /// The first value of a `.modinfo` key.
    pub fn modinfo_get(&self, key: &str) -> Option<&'a str> {
        self.modinfo
            .iter()
            .find_map(|m| crate::modinfo::get(m, key))
    }
    /// The first value of each of `keys`: [`Module::modinfo_get`] of each,
    /// in one pass over each `.modinfo` section ([`crate::modinfo::get_many`]).
    pub fn modinfo_get_many<const N: usize>(&self, keys: [&str; N]) -> [Option<&'a str>; N] {
        let mut found = [None; N];
        for m in &self.modinfo {
            let here = crate::modinfo::get_many(m, keys);
            for (slot, v) in found.iter_mut().zip(here) {
                if slot.is_none() {
                    *slot = v;
                }
            }
            if found.iter().all(Option::is_some) {
                break;
            }
        }
        found
    }
    /// Every `.modinfo` (key, value), in file order.
    pub fn modinfo_entries(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.modinfo.iter().flat_map(|m| crate::modinfo::entries(m))
    }
    pub fn section_by_name(&self, name: &str) -> Option<&Section<'a>> {
        self.sections.iter().find(|s| crate::name_is(s.name, name))
    }
    pub fn symbol_by_name(&self, name: &str) -> Option<&Symbol<'a>> {
        self.symbols.iter().find(|s| crate::name_is(s.name, name))
    }
    /// The symbol string table (the section the `SHT_SYMTAB` links to),
    /// in which every symbol's name lies; empty if there is none.
    ///
    /// Looked for from the last section back: linkers put `.symtab` near
    /// the end (crc-itu-t's is 23rd of 26), and [`validate`] admits only
    /// one, so the answer is the forward search's.
    pub fn symbol_strtab(&self) -> &'a [u8] {
        self.sections
            .iter()
            .rev()
            .find(|s| s.sh_type == SHT_SYMTAB)
            .and_then(|s| self.sections.get(s.link as usize))
            .and_then(|s| s.data)
            .unwrap_or(&[])
    }
    /// Whether section `shndx` is `SHT_NOBITS` (`.bss`: no bytes in the
    /// file).
    pub fn is_nobits(&self, shndx: u16) -> bool {
        self.sections
            .get(shndx as usize)
            .is_some_and(|s| s.sh_type == SHT_NOBITS)
    }
}

/// A name of a string table, bounded by KSYM_NAME_LEN; `bad` makes the error
/// for a name outside the table (or not UTF-8).
///
/// Inlined, and the error made only on failure: the loader looks up every
/// section and symbol name through here.
#[inline(always)]
fn name_at<'a>(
    table: &StrTable<'a>,
    offset: u32,
    what: &'static str,
    index: u32,
    bad: impl FnOnce() -> LoadError<'a>,
) -> Result<&'a str, LoadError<'a>> {
    table.name(offset as usize).map_err(|e| match e {
        NameError::Bad => bad(),
        NameError::TooLong => LoadError::NameTooLong { what, index },
    })
}

fn bytes_at(data: &[u8], offset: u32, size: u32) -> Option<&[u8]> {
    let end = offset.checked_add(size)?;
    data.get(offset as usize..end as usize)
}

/// The records of an ELF table (section headers, symbols, relocations) as
/// arrays of their `N` little-endian words. When the table is 4-byte
/// aligned in memory (it is in a file the kernel holds: the ELF tables are
/// word-aligned in the file and the file's buffer is too), each word is one
/// aligned load, through `object`'s checked `pod` view of `[u32; N]`;
/// otherwise (a host buffer at an odd address) each is assembled from its
/// bytes. The armv7a target forbids unaligned loads, so reading a field
/// through `object`'s unaligned types costs four byte loads and three ORs:
/// most of what validating a module's headers and symbols cost.
enum Records<'a, const N: usize> {
    Words(core::slice::Iter<'a, [u32; N]>),
    Bytes(core::slice::ChunksExact<'a, u8>),
}

impl<'a, const N: usize> Records<'a, N> {
    /// The first `count` records of `bytes` (which must hold them).
    fn new(bytes: &'a [u8], count: usize) -> Self {
        match pod::slice_from_bytes::<[u32; N]>(bytes, count) {
            Ok((words, _)) => Records::Words(words.iter()),
            Err(()) => {
                let len = count.saturating_mul(4 * N).min(bytes.len());
                Records::Bytes(bytes.get(..len).unwrap_or(&[]).chunks_exact(4 * N))
            }
        }
    }
}

impl<const N: usize> Iterator for Records<'_, N> {
    type Item = [u32; N];
    fn next(&mut self) -> Option<[u32; N]> {
        match self {
            Records::Words(it) => it.next().map(|w| w.map(u32::from_le)),
            Records::Bytes(it) => it.next().map(|c| {
                core::array::from_fn(|i| {
                    let b = c.get(4 * i..4 * i + 4).unwrap_or(&[0; 4]);
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
                })
            }),
        }
    }
}

fn string_table<'a>(
    data: &'a [u8],
    sh: &elf::SectionHeader32<LE>,
    index: u32,
) -> Result<&'a [u8], LoadError<'a>> {
    let table = bytes_at(data, sh.sh_offset.get(LE), sh.sh_size.get(LE))
        .filter(|t| t.first() == Some(&0) && t.last() == Some(&0))
        .ok_or(LoadError::BadStringTable { section: index })?;
    if sh.sh_type.get(LE).0 != SHT_STRTAB {
        return Err(LoadError::BadStringTable { section: index });
    }
    Ok(table)
}

/// Checks `data` and returns what it describes.
pub fn validate<'a>(data: &'a [u8]) -> Result<Module<'a>, LoadError<'a>> {
    // 1. The header.
    let (hdr, _) = pod::from_bytes::<elf::FileHeader32<LE>>(data)
        .map_err(|_| LoadError::Truncated { len: data.len() })?;
    if hdr.e_ident.magic != elf::ELFMAG {
        return Err(LoadError::BadMagic);
    }
    if hdr.e_ident.class != elf::ELFCLASS32 || hdr.e_ident.data != elf::ELFDATA2LSB {
        return Err(LoadError::NotElf32Le);
    }
    let e_type = hdr.e_type.get(LE).0;
    if e_type != elf::ET_REL.0 {
        return Err(LoadError::NotRelocatable { e_type });
    }
    let e_machine = hdr.e_machine.get(LE).0;
    if e_machine != elf::EM_ARM.0 {
        return Err(LoadError::WrongMachine { e_machine });
    }
    let shentsize = hdr.e_shentsize.get(LE);
    if shentsize != 40 {
        return Err(LoadError::BadShentsize { size: shentsize });
    }
    let (shoff, shnum) = (hdr.e_shoff.get(LE), hdr.e_shnum.get(LE) as u32);
    let table_err = LoadError::SectionTableOutsideFile { shoff, shnum };
    let shdrs = data
        .get(shoff as usize..)
        .and_then(|rest| {
            pod::slice_from_bytes::<elf::SectionHeader32<LE>>(rest, shnum as usize).ok()
        })
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty())
        .ok_or(table_err)?;

    // 2. Sections.
    let null = &shdrs[0];
    if null.sh_type.get(LE).0 != SHT_NULL || null.sh_size.get(LE) != 0 || null.sh_addr.get(LE) != 0
    {
        return Err(LoadError::BadNullSection);
    }
    let shstrndx = hdr.e_shstrndx.get(LE).0 as u32;
    if shstrndx == 0 || shstrndx >= shnum {
        return Err(LoadError::BadShstrndx { index: shstrndx });
    }
    let names = string_table(data, &shdrs[shstrndx as usize], shstrndx)
        .map_err(|_| LoadError::BadShstrndx { index: shstrndx })?;
    let names = StrTable::new(names);
    let mut sections = try_vec(shdrs.len()).ok_or(LoadError::NoMemory)?;
    let shdr_bytes = data.get(shoff as usize..).unwrap_or(&[]);
    // Counted on the way, for steps 3-5: the symbol tables (the first and
    // whether there is a second), the relocation and `.modinfo` sections.
    let (mut symtab_at, mut symtabs) = (0usize, 0usize);
    let (mut nrel, mut nmodinfo) = (0usize, 0usize);
    for (i, sh) in Records::<10>::new(shdr_bytes, shdrs.len()).enumerate() {
        // sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link,
        // sh_info, sh_addralign, sh_entsize.
        let [
            sh_name,
            sh_type,
            flags,
            _,
            offset,
            size,
            link,
            info,
            align,
            _,
        ] = sh;
        let index = i as u32;
        let name = name_at(&names, sh_name, "section", index, || {
            LoadError::BadSectionName { section: index }
        })?;
        let data = if sh_type == SHT_NOBITS || sh_type == SHT_NULL {
            None
        } else {
            Some(
                bytes_at(data, offset, size).ok_or(LoadError::SectionOutsideFile {
                    section: name,
                    offset,
                    size,
                })?,
            )
        };
        if flags & SHF_WRITE != 0 && flags & SHF_EXECINSTR != 0 {
            return Err(LoadError::WriteExec {
                section: name,
                index,
            });
        }
        if sh_type == SHT_RELA {
            return Err(LoadError::RelaNotSupported { section: name });
        }
        if sh_type == SHT_SYMTAB {
            if symtabs == 0 {
                symtab_at = i;
            }
            symtabs += 1;
        }
        nrel += usize::from(sh_type == SHT_REL);
        nmodinfo += usize::from(crate::name_is(name, ".modinfo"));
        sections.push(Section {
            index,
            name,
            sh_type,
            flags,
            size,
            align,
            link,
            info,
            data,
        });
    }
    let shape_err = |s: &Section<'a>| LoadError::BadTableShape { section: s.name };

    // 3. The symbol table.
    let symtab = match symtabs {
        0 => return Err(LoadError::NoSymbols),
        1 => *sections.get(symtab_at).ok_or(LoadError::NoSymbols)?,
        _ => return Err(LoadError::TwoSymbolTables),
    };
    let sym_bytes = symtab.data.unwrap_or(&[]);
    if shdrs[symtab.index as usize].sh_entsize.get(LE) != 16 || sym_bytes.len() % 16 != 0 {
        return Err(shape_err(&symtab));
    }
    if symtab.link == 0 || symtab.link >= shnum {
        return Err(LoadError::BadLink {
            section: symtab.name,
            link: symtab.link,
        });
    }
    let strtab = StrTable::new(string_table(
        data,
        &shdrs[symtab.link as usize],
        symtab.link,
    )?);
    let nsyms = sym_bytes.len() / 16;
    let mut symbols = try_vec(nsyms).ok_or(LoadError::NoMemory)?;
    for (i, s) in Records::<4>::new(sym_bytes, nsyms).enumerate() {
        // st_name, st_value, st_size, then st_info, st_other, st_shndx.
        let [st_name, value, size, last] = s;
        let (info, shndx) = (last as u8, (last >> 16) as u16);
        let name = name_at(&strtab, st_name, "symbol", i as u32, || {
            LoadError::BadSymbolName { symbol: i as u32 }
        })?;
        // SHN_COMMON (a `-fcommon` tentative definition): st_value is the
        // alignment, which the layout honours, so it must be sane.
        if shndx == SHN_COMMON && (!value.is_power_of_two() || value > 4096) {
            return Err(LoadError::CommonSymbol { symbol: name });
        }
        let reserved_ok = shndx == SHN_UNDEF || shndx == SHN_ABS || shndx == SHN_COMMON;
        if !reserved_ok && (shndx >= SHN_LORESERVE || shndx as u32 >= shnum) {
            return Err(LoadError::BadSymbolSection {
                symbol: name,
                index: i as u32,
                shndx,
            });
        }
        symbols.push(Symbol {
            name,
            value,
            size,
            info,
            shndx,
        });
    }

    // 4. Relocations.
    let mut relocations = try_vec(nrel).ok_or(LoadError::NoMemory)?;
    for s in sections.iter().filter(|s| s.sh_type == SHT_REL) {
        let bytes = s.data.unwrap_or(&[]);
        if shdrs[s.index as usize].sh_entsize.get(LE) != 8 || bytes.len() % 8 != 0 {
            return Err(shape_err(s));
        }
        if s.link != symtab.index {
            return Err(LoadError::BadLink {
                section: s.name,
                link: s.link,
            });
        }
        if s.info == 0 || s.info >= shnum || s.info == s.index {
            return Err(LoadError::BadRelocTarget {
                section: s.name,
                info: s.info,
            });
        }
        let target = sections[s.info as usize];
        let nrels = bytes.len() / 8;
        let mut checked = try_vec(nrels).ok_or(LoadError::NoMemory)?;
        for (i, [offset, r_info]) in Records::<2>::new(bytes, nrels).enumerate() {
            // ELF32_R_SYM and ELF32_R_TYPE.
            let (sym, r_type) = (r_info >> 8, r_info & 0xff);
            if sym as usize >= symbols.len() {
                return Err(LoadError::RelocSymbolOutOfRange {
                    section: s.name,
                    index: i,
                    symbol: sym,
                    nsyms: symbols.len(),
                });
            }
            // Every ARM relocation Kobold applies patches one 32-bit word
            // (or a Thumb-2 pair of halfwords): 4 bytes inside the target,
            // which must hold bytes (not NOBITS).
            let inside = target.data.is_some()
                && offset.checked_add(4).is_some_and(|end| end <= target.size);
            if !inside {
                return Err(LoadError::RelocOutsideSection {
                    section: s.name,
                    index: i,
                    offset,
                    size: target.size,
                });
            }
            checked.push(Rel {
                offset,
                r_type,
                symbol: sym,
            });
        }
        relocations.push((s.index, s.info, checked));
    }

    // 5. .modinfo: every section of that name (LLVM emits one per string
    // when nothing merged them with `ld -r`), each NUL-terminated.
    let mut modinfo = try_vec(nmodinfo).ok_or(LoadError::NoMemory)?;
    for s in sections
        .iter()
        .filter(|s| crate::name_is(s.name, ".modinfo"))
    {
        if let Some(m) = s.data {
            if !m.is_empty() && m.last() != Some(&0) {
                return Err(LoadError::ModinfoNotTerminated);
            }
            modinfo.push(m);
        }
    }
    Ok(Module {
        sections,
        symbols,
        relocations,
        modinfo,
    })
}

#[cfg(test)]
pub(crate) mod tests_support {
    pub(crate) fn module_bytes() -> alloc::vec::Vec<u8> {
        super::tests::module()
    }

    /// Links into freshly allocated images: (core, init, linked).
    pub(crate) fn link_vec<'a>(
        m: &crate::Module<'a>,
        l: &crate::layout::ModuleLayout,
        core_base: u32,
        init_base: u32,
        resolver: &dyn crate::link::Resolver,
    ) -> Result<
        (
            alloc::vec::Vec<u8>,
            alloc::vec::Vec<u8>,
            crate::link::Linked,
        ),
        crate::link::LinkError<'a>,
    > {
        let mut core = alloc::vec![0u8; l.core_size as usize];
        let mut init = alloc::vec![0u8; l.init_size as usize];
        let linked = crate::link::link(m, l, &mut core, core_base, &mut init, init_base, resolver)?;
        Ok((core, init, linked))
    }

    /// A kernel that exports nothing.
    pub(crate) struct NoResolver;

    impl crate::link::Resolver for NoResolver {
        fn resolve(&self, _: &str) -> Option<crate::relocate::Target> {
            None
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    extern crate std;
    use super::*;
    use object::write::{Object, Relocation, StandardSection, Symbol as WSymbol, SymbolSection};
    use object::{
        Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags,
        SymbolKind, SymbolScope,
    };
    use std::string::ToString;
    use std::vec;

    /// A small but complete module, built as a compiler would emit it:
    /// text calling an undefined `printk`, data, bss, .modinfo, an exported
    /// `init_module`.
    pub(crate) fn module() -> Vec<u8> {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.section_id(StandardSection::Text);
        // push {lr}; bl printk; mov r0, #0; pop {pc}
        o.append_section_data(
            text,
            &[
                0x04, 0xe0, 0x2d, 0xe5, 0xfe, 0xff, 0xff, 0xeb, 0x00, 0x00, 0xa0, 0xe3, 0x04, 0xf0,
                0x9d, 0xe4,
            ],
            4,
        );
        let data = o.section_id(StandardSection::Data);
        o.append_section_data(data, &[1, 2, 3, 4], 4);
        let bss = o.section_id(StandardSection::UninitializedData);
        o.append_section_bss(bss, 64, 4);
        let modinfo = o.add_section(vec![], b".modinfo".to_vec(), SectionKind::ReadOnlyData);
        o.append_section_data(modinfo, b"license=GPL\0name=hello\0", 1);
        o.add_symbol(WSymbol {
            name: b"init_module".to_vec(),
            value: 0,
            size: 16,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        });
        let printk = o.add_symbol(WSymbol {
            name: b"printk".to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Undefined,
            flags: SymbolFlags::None,
        });
        o.add_relocation(
            text,
            Relocation {
                offset: 4,
                symbol: printk,
                addend: 0,
                flags: RelocationFlags::Elf {
                    r_type: elf::R_ARM_CALL,
                },
            },
        )
        .unwrap();
        o.write().unwrap()
    }

    #[test]
    fn section_groups_and_merged_strings_load() {
        // A COMDAT group (SHT_GROUP, not allocated: ignored, as Linux does)
        // and a SHF_MERGE|SHF_STRINGS section (loaded as is: nothing to
        // merge within one module).
        use object::write::{Comdat, SectionId};
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.add_section(vec![], b".text.inline_fn".to_vec(), SectionKind::Text);
        o.append_section_data(text, &[0x1e, 0xff, 0x2f, 0xe1], 4);
        let sym = o.add_symbol(WSymbol {
            name: b"inline_fn".to_vec(),
            value: 0,
            size: 4,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: true,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        });
        o.add_comdat(Comdat {
            kind: object::ComdatKind::Any,
            symbol: sym,
            sections: vec![text],
        });
        let strs: SectionId = o.add_section(
            vec![],
            b".rodata.str1.1".to_vec(),
            SectionKind::ReadOnlyString,
        );
        o.append_section_data(strs, b"hello\0world\0", 1);
        let bytes = o.write().unwrap();
        let m = validate(&bytes).unwrap();
        let group = m
            .sections
            .iter()
            .find(|s| s.sh_type == elf::SHT_GROUP.0)
            .unwrap();
        assert!(!group.is_alloc());
        let l = crate::layout::layout(&m).unwrap();
        assert!(l.placements[group.index as usize].is_none());
        let s = m.section_by_name(".rodata.str1.1").unwrap();
        assert_eq!(s.flags & 0x30, 0x30, "SHF_MERGE|SHF_STRINGS");
        let p = l.placements[s.index as usize].unwrap();
        assert_eq!(p.group, crate::layout::Group::Rodata);
        let (core, _, _) = super::tests_support::link_vec(
            &m,
            &l,
            0xbf00_0000,
            0xbf80_0000,
            &super::tests_support::NoResolver,
        )
        .unwrap();
        assert_eq!(&core[p.offset as usize..][..12], b"hello\0world\0");
    }

    fn u16_at(b: &mut [u8], at: usize, v: u16) {
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn u32_at(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn get32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }
    /// Offset of field `field` of section header `index`.
    fn shdr(b: &[u8], index: u32, field: usize) -> usize {
        get32(b, 32) as usize + 40 * index as usize + field
    }
    fn index_of(b: &[u8], name: &str) -> u32 {
        validate(b).unwrap().section_by_name(name).unwrap().index
    }

    /// `symbol_strtab`, searching from the end, finds the table the
    /// forward search finds, in the fixtures and in a module with no
    /// symbol table left (then both are empty).
    #[test]
    fn symbol_strtab_is_the_forward_search() {
        fn forward<'a>(m: &Module<'a>) -> &'a [u8] {
            m.sections
                .iter()
                .find(|s| s.sh_type == SHT_SYMTAB)
                .and_then(|s| m.sections.get(s.link as usize))
                .and_then(|s| s.data)
                .unwrap_or(&[])
        }
        let a = module();
        let b = tests_support::module_bytes();
        for bytes in [&a[..], &b[..]] {
            let mut m = validate(bytes).unwrap();
            assert!(!m.symbol_strtab().is_empty());
            assert_eq!(m.symbol_strtab(), forward(&m));
            for s in &mut m.sections {
                if s.sh_type == SHT_SYMTAB {
                    s.sh_type = SHT_NULL;
                }
            }
            assert!(m.symbol_strtab().is_empty());
            assert_eq!(m.symbol_strtab(), forward(&m));
        }
    }

    #[test]
    fn accepts_a_well_formed_module() {
        let b = module();
        let m = validate(&b).unwrap();
        let text = m.section_by_name(".text").unwrap();
        assert!(text.is_alloc());
        assert_eq!(text.size, 16);
        assert_eq!(m.section_by_name(".bss").unwrap().data, None);
        assert!(m.symbol_by_name("printk").unwrap().is_undefined());
        assert_eq!(m.symbol_by_name("init_module").unwrap().size, 16);
        assert_eq!(m.relocations.len(), 1);
        let (_, target, rels) = &m.relocations[0];
        assert_eq!(*target, text.index);
        assert_eq!(rels[0].offset, 4);
        assert_eq!(rels[0].r_type, elf::R_ARM_CALL.0);
        assert_eq!(m.modinfo_get("license"), Some("GPL"));
    }

    /// The same file at an address that is not word-aligned (the tables
    /// read byte by byte) validates to the same module, and so does every
    /// truncation of it: both ways of reading records agree.
    #[test]
    fn unaligned_buffer_reads_the_same() {
        let good = module();
        let mut buf = vec![0u8; good.len() + 4];
        let base = buf.as_ptr().align_offset(4);
        for shift in 0..4 {
            let at = base + shift;
            buf[at..at + good.len()].copy_from_slice(&good);
            let b = &buf[at..at + good.len()];
            let (a, c) = (validate(&good).unwrap(), validate(b).unwrap());
            assert_eq!(
                std::format!("{a:?}"),
                std::format!("{c:?}"),
                "shift {shift}"
            );
            for n in 0..good.len() {
                assert_eq!(
                    validate(&good[..n]).map(|_| ()),
                    validate(&b[..n]).map(|_| ()),
                    "shift {shift}, cut at {n}"
                );
            }
        }
    }

    /// `modinfo_get_many` answers `modinfo_get` for each key when the
    /// keys are spread over several `.modinfo` sections (LLVM's output).
    #[test]
    fn modinfo_keys_over_sections() {
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        for info in [
            &b"license=GPL\0name=first\0"[..],
            b"name=second\0intree=Y\0",
            b"vermagic=6.1.0 SMP\0license=MIT\0",
        ] {
            let s = o.add_section(vec![], b".modinfo".to_vec(), SectionKind::ReadOnlyData);
            o.append_section_data(s, info, 1);
        }
        let bytes = o.write().unwrap();
        let m = validate(&bytes).unwrap();
        assert_eq!(m.modinfo.len(), 3);
        let keys = ["name", "license", "intree", "vermagic", "missing", "a=b"];
        let many = m.modinfo_get_many(keys);
        for (k, v) in keys.iter().zip(many) {
            assert_eq!(v, m.modinfo_get(k), "{k}");
        }
        assert_eq!(
            many,
            [
                Some("first"),
                Some("GPL"),
                Some("Y"),
                Some("6.1.0 SMP"),
                None,
                None
            ]
        );
    }

    #[test]
    fn header_errors() {
        let good = module();
        assert_eq!(
            validate(&good[..20]).unwrap_err(),
            LoadError::Truncated { len: 20 }
        );
        let mut b = good.clone();
        b[0] = 0;
        assert_eq!(validate(&b).unwrap_err(), LoadError::BadMagic);
        let mut b = good.clone();
        b[4] = 2; // ELFCLASS64
        assert_eq!(validate(&b).unwrap_err(), LoadError::NotElf32Le);
        let mut b = good.clone();
        u16_at(&mut b, 16, 2); // ET_EXEC
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::NotRelocatable { e_type: 2 }
        );
        let mut b = good.clone();
        u16_at(&mut b, 18, 3); // EM_386
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::WrongMachine { e_machine: 3 }
        );
        let mut b = good.clone();
        u16_at(&mut b, 46, 64);
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::BadShentsize { size: 64 }
        );
        let mut b = good.clone();
        u32_at(&mut b, 32, 0xffff_fff0);
        assert!(matches!(
            validate(&b).unwrap_err(),
            LoadError::SectionTableOutsideFile { .. }
        ));
        let mut b = good.clone();
        u16_at(&mut b, 50, 0);
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::BadShstrndx { index: 0 }
        );
        let mut b = good.clone();
        u16_at(&mut b, 50, 200);
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::BadShstrndx { index: 200 }
        );
    }

    #[test]
    fn every_truncation_is_refused() {
        let good = module();
        for n in 0..good.len() {
            assert!(validate(&good[..n]).is_err(), "accepted a file cut at {n}");
        }
    }

    #[test]
    fn section_errors() {
        let good = module();
        let text = index_of(&good, ".text");
        let mut b = good.clone();
        u32_at(&mut b, shdr(&good, text, 20), 0x10_0000); // sh_size past EOF
        assert!(
            matches!(validate(&b).unwrap_err(), LoadError::SectionOutsideFile { section, .. } if section == ".text")
        );
        let mut b = good.clone();
        u32_at(&mut b, shdr(&good, text, 16), 0xffff_fffc); // offset + size overflows
        assert!(matches!(
            validate(&b).unwrap_err(),
            LoadError::SectionOutsideFile { .. }
        ));
        let mut b = good.clone();
        let flags = get32(&good, shdr(&good, text, 8));
        u32_at(&mut b, shdr(&good, text, 8), flags | SHF_WRITE);
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::WriteExec {
                section: ".text",
                index: text
            }
        );
        let mut b = good.clone();
        u32_at(&mut b, shdr(&good, text, 0), 0xffff); // name outside the table
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::BadSectionName { section: text }
        );
        let mut b = good.clone();
        u32_at(&mut b, shdr(&good, 0, 4), elf::SHT_PROGBITS.0);
        assert_eq!(validate(&b).unwrap_err(), LoadError::BadNullSection);
        let rel = index_of(&good, ".rel.text");
        let mut b = good.clone();
        u32_at(&mut b, shdr(&good, rel, 4), SHT_RELA);
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::RelaNotSupported {
                section: ".rel.text"
            }
        );
        let symtab = index_of(&good, ".symtab");
        let mut b = good.clone();
        u32_at(&mut b, shdr(&good, symtab, 4), elf::SHT_PROGBITS.0);
        assert_eq!(validate(&b).unwrap_err(), LoadError::NoSymbols);
        // A second SHT_SYMTAB.
        for other in [".data", ".modinfo"] {
            let mut b = good.clone();
            u32_at(&mut b, shdr(&good, index_of(&good, other), 4), SHT_SYMTAB);
            assert_eq!(
                validate(&b).unwrap_err(),
                LoadError::TwoSymbolTables,
                "{other}"
            );
        }
    }

    #[test]
    fn symbol_and_relocation_errors() {
        let good = module();
        let m = validate(&good).unwrap();
        let symtab = *m.section_by_name(".symtab").unwrap();
        let sym_off = get32(&good, shdr(&good, symtab.index, 16)) as usize;
        let printk = m.symbols.iter().position(|s| s.name == "printk").unwrap();
        let init = m
            .symbols
            .iter()
            .position(|s| s.name == "init_module")
            .unwrap();
        // st_shndx out of range, and SHN_COMMON.
        let mut b = good.clone();
        u16_at(&mut b, sym_off + 16 * init + 14, 0x0fff);
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::BadSymbolSection {
                symbol: "init_module",
                index: init as u32,
                shndx: 0x0fff
            }
        );
        let mut b = good.clone();
        u16_at(&mut b, sym_off + 16 * printk + 14, SHN_COMMON);
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::CommonSymbol { symbol: "printk" }
        );
        let mut b = good.clone();
        u32_at(&mut b, sym_off + 16 * printk, 0xffff);
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::BadSymbolName {
                symbol: printk as u32
            }
        );
        // Relocation symbol == nsyms (one past the end), and offsets at the end.
        let rel = *m.section_by_name(".rel.text").unwrap();
        let rel_off = get32(&good, shdr(&good, rel.index, 16)) as usize;
        let nsyms = m.symbols.len() as u32;
        let mut b = good.clone();
        u32_at(&mut b, rel_off + 4, (nsyms << 8) | elf::R_ARM_CALL.0);
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::RelocSymbolOutOfRange {
                section: ".rel.text",
                index: 0,
                symbol: nsyms,
                nsyms: nsyms as usize
            }
        );
        for (offset, ok) in [
            (12u32, true),
            (13, false),
            (16, false),
            (0xffff_fffe, false),
        ] {
            let mut b = good.clone();
            u32_at(&mut b, rel_off, offset);
            assert_eq!(validate(&b).is_ok(), ok, "offset {offset:#x}");
        }
        let mut b = good.clone();
        u32_at(&mut b, shdr(&good, rel.index, 28), rel.index); // target = itself
        assert!(matches!(
            validate(&b).unwrap_err(),
            LoadError::BadRelocTarget { .. }
        ));
        let mut b = good.clone();
        u32_at(&mut b, shdr(&good, rel.index, 28), index_of(&good, ".bss")); // NOBITS target
        assert!(matches!(
            validate(&b).unwrap_err(),
            LoadError::RelocOutsideSection { .. }
        ));
        let mut b = good.clone();
        u32_at(&mut b, shdr(&good, rel.index, 36), 12); // entsize
        assert_eq!(
            validate(&b).unwrap_err(),
            LoadError::BadTableShape {
                section: ".rel.text"
            }
        );
    }

    #[test]
    fn modinfo_errors() {
        let good = module();
        let mi = index_of(&good, ".modinfo");
        let off = get32(&good, shdr(&good, mi, 16)) as usize;
        let size = get32(&good, shdr(&good, mi, 20)) as usize;
        let mut b = good.clone();
        b[off + size - 1] = b'x';
        assert_eq!(validate(&b).unwrap_err(), LoadError::ModinfoNotTerminated);
        // Every message is non-empty and names its subject.
        let e = LoadError::WriteExec {
            section: ".text",
            index: 1,
        };
        assert_eq!(
            e.to_string(),
            "section .text (index 1) has invalid WRITE|EXEC flags"
        );
        assert_eq!(
            LoadError::NoSymbols.to_string(),
            "module has no symbols (stripped?)"
        );
    }

    #[test]
    fn random_corruption_never_panics() {
        let good = module();
        let mut seed = 0x9e37_79b9u32;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let mut b = good.clone();
            let at = seed as usize % b.len();
            b[at] ^= (seed >> 24) as u8 | 1;
            let _ = validate(&b);
        }
    }
}
