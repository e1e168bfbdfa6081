//! Why a module was refused. Each variant names the part of the file at
//! fault; `Display` gives a message in Linux's style where Linux has one.
//!
//! Names are borrowed from the file (`&'a str`), so building an error never
//! allocates: an insmod that fails because memory ran out must be able to
//! say so without needing more memory.

use core::fmt;

/// A refused module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError<'a> {
    /// An allocation failed (the kernel's -ENOMEM).
    NoMemory,
    /// A section or symbol name of `KSYM_NAME_LEN` (512) bytes or more
    /// (Linux's kallsyms cannot hold it; `what` is "section" or "symbol").
    NameTooLong { what: &'static str, index: u32 },
    /// Shorter than an ELF header ("Module len N truncated").
    Truncated { len: usize },
    /// Not an ELF file.
    BadMagic,
    /// ELF, but not 32-bit little-endian.
    NotElf32Le,
    /// Not a relocatable object (`e_type` != ET_REL).
    NotRelocatable { e_type: u16 },
    /// Not for ARM (`e_machine` != EM_ARM, 40).
    WrongMachine { e_machine: u16 },
    /// `e_shentsize` is not 40.
    BadShentsize { size: u16 },
    /// The section header table lies outside the file.
    SectionTableOutsideFile { shoff: u32, shnum: u32 },
    /// Section 0 is not the null section.
    BadNullSection,
    /// `e_shstrndx` is 0, out of range or not a string table.
    BadShstrndx { index: u32 },
    /// A string table is empty or not NUL-terminated at both ends.
    BadStringTable { section: u32 },
    /// A section's name is outside the section-name table.
    BadSectionName { section: u32 },
    /// A section's contents lie outside the file.
    SectionOutsideFile {
        section: &'a str,
        offset: u32,
        size: u32,
    },
    /// A section both writable and executable (Linux: "section %s (index %d)
    /// has invalid WRITE|EXEC flags").
    WriteExec { section: &'a str, index: u32 },
    /// SHT_RELA: ARM modules use SHT_REL only.
    RelaNotSupported { section: &'a str },
    /// No symbol table ("module has no symbols (stripped?)").
    NoSymbols,
    /// More than one SHT_SYMTAB.
    TwoSymbolTables,
    /// `sh_entsize` or `sh_size` of a table is not a whole number of entries.
    BadTableShape { section: &'a str },
    /// A table's `sh_link` names no suitable section.
    BadLink { section: &'a str, link: u32 },
    /// A symbol's name is outside the string table.
    BadSymbolName { symbol: u32 },
    /// A symbol's section index is out of range or reserved.
    BadSymbolSection {
        symbol: &'a str,
        index: u32,
        shndx: u16,
    },
    /// An SHN_COMMON symbol whose alignment (its st_value) is not a power
    /// of two up to a page. (Linux refuses every common symbol, "please
    /// compile with -fno-common"; Kobold allocates them in .bss.)
    CommonSymbol { symbol: &'a str },
    /// A relocation section's target (`sh_info`) is out of range or itself.
    BadRelocTarget { section: &'a str, info: u32 },
    /// A relocation's symbol index is out of range.
    RelocSymbolOutOfRange {
        section: &'a str,
        index: usize,
        symbol: u32,
        nsyms: usize,
    },
    /// A relocation patches bytes outside its target section.
    RelocOutsideSection {
        section: &'a str,
        index: usize,
        offset: u32,
        size: u32,
    },
    /// `.modinfo` does not end with a NUL.
    ModinfoNotTerminated,
}

impl fmt::Display for LoadError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LoadError::*;
        match self {
            NoMemory => write!(f, "out of memory"),
            NameTooLong { what, index } => write!(
                f,
                "{what} {index}: name of {} bytes or more (KSYM_NAME_LEN)",
                crate::KSYM_NAME_LEN
            ),
            Truncated { len } => write!(f, "Module len {len} truncated"),
            BadMagic => write!(f, "not an ELF file (bad magic)"),
            NotElf32Le => write!(f, "not a 32-bit little-endian ELF file"),
            NotRelocatable { e_type } => write!(f, "not a relocatable object (e_type {e_type})"),
            WrongMachine { e_machine } => write!(f, "not an ARM object (e_machine {e_machine})"),
            BadShentsize { size } => write!(f, "section header size {size}, expected 40"),
            SectionTableOutsideFile { shoff, shnum } => {
                write!(
                    f,
                    "section header table ({shnum} entries at {shoff:#x}) is outside the file"
                )
            }
            BadNullSection => write!(f, "section 0 is not the null section"),
            BadShstrndx { index } => write!(f, "invalid section name table index {index}"),
            BadStringTable { section } => {
                write!(
                    f,
                    "string table (section {section}) is empty or not NUL-terminated"
                )
            }
            BadSectionName { section } => {
                write!(f, "section {section}'s name is outside the name table")
            }
            SectionOutsideFile {
                section,
                offset,
                size,
            } => write!(
                f,
                "section {section} ({size} bytes at {offset:#x}) is outside the file"
            ),
            WriteExec { section, index } => {
                write!(
                    f,
                    "section {section} (index {index}) has invalid WRITE|EXEC flags"
                )
            }
            RelaNotSupported { section } => {
                write!(
                    f,
                    "section {section}: SHT_RELA relocations are not used on ARM"
                )
            }
            NoSymbols => write!(f, "module has no symbols (stripped?)"),
            TwoSymbolTables => write!(f, "module has more than one symbol table"),
            BadTableShape { section } => {
                write!(
                    f,
                    "section {section}: size is not a whole number of entries"
                )
            }
            BadLink { section, link } => write!(f, "section {section}: invalid sh_link {link}"),
            BadSymbolName { symbol } => write!(f, "symbol {symbol}: name outside the string table"),
            BadSymbolSection {
                symbol,
                index,
                shndx,
            } => {
                if symbol.is_empty() {
                    write!(f, "symbol #{index}: invalid section index {shndx:#x}")
                } else {
                    write!(f, "symbol {symbol}: invalid section index {shndx:#x}")
                }
            }
            CommonSymbol { symbol } => {
                write!(
                    f,
                    "{symbol}: common symbol alignment is not a power of two up to 4096"
                )
            }
            BadRelocTarget { section, info } => {
                write!(
                    f,
                    "section {section}: invalid relocation target section {info}"
                )
            }
            RelocSymbolOutOfRange {
                section,
                index,
                symbol,
                nsyms,
            } => write!(
                f,
                "{section}: relocation {index}: symbol index {symbol} out of range ({nsyms} symbols)"
            ),
            RelocOutsideSection {
                section,
                index,
                offset,
                size,
            } => write!(
                f,
                "{section}: relocation {index} at offset {offset:#x} is outside its {size}-byte section"
            ),
            ModinfoNotTerminated => write!(f, ".modinfo is not NUL-terminated"),
        }
    }
}

impl core::error::Error for LoadError<'_> {}
