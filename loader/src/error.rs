//! Why a module was refused. Each variant names the part of the file at
//! fault; `Display` gives a message in Linux's style where Linux has one.
//!
//! Where Linux's message is terse (`Module len 35 truncated`, `bad ELF
//! header`), [`LoadError::explain`] adds a second sentence in plain words,
//! computed from the file itself: what the file starts with when it is not
//! ELF at all, the `e_type` / `e_machine` by name, where a table ends and
//! how long the file is. The kernel logs it after Linux's line, so a student
//! who runs `insmod` on a text file reads "not an ELF file (starts with
//! "hello wo")", not only the errno.
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

/// The ELF header's size (`sizeof(Elf32_Ehdr)`).
const EHDR_SIZE: usize = 52;

impl<'a> LoadError<'a> {
    /// A plain explanation of this error for the file `data` it came from,
    /// if there is more to say than [`Display`](fmt::Display) does.
    pub fn explain<'e>(&'e self, data: &'e [u8]) -> Option<Explanation<'e, 'a>> {
        use LoadError::*;
        let not_elf = !data.starts_with(b"\x7fELF");
        match self {
            Truncated { .. } | BadMagic if not_elf => {}
            Truncated { .. }
            | NotElf32Le
            | NotRelocatable { .. }
            | WrongMachine { .. }
            | BadShentsize { .. }
            | SectionTableOutsideFile { .. } => {}
            SectionOutsideFile { offset, size, .. }
                if u64::from(*offset) + u64::from(*size) > data.len() as u64 => {}
            _ => return None,
        }
        Some(Explanation { err: self, data })
    }
}

/// [`LoadError::explain`]'s sentence.
pub struct Explanation<'e, 'a> {
    err: &'e LoadError<'a>,
    data: &'e [u8],
}

/// `e_type`'s name (elf.h).
fn e_type_name(e_type: u16) -> &'static str {
    match e_type {
        0 => "ET_NONE",
        1 => "ET_REL",
        2 => "ET_EXEC, an executable",
        3 => "ET_DYN, a shared library or PIE executable",
        4 => "ET_CORE, a core dump",
        _ => "unknown type",
    }
}

/// `e_machine`'s name, for the machines a student's files come from.
fn e_machine_name(e_machine: u16) -> &'static str {
    match e_machine {
        3 => "EM_386, x86",
        8 => "EM_MIPS",
        20 => "EM_PPC",
        21 => "EM_PPC64",
        40 => "EM_ARM",
        62 => "EM_X86_64, x86-64",
        183 => "EM_AARCH64, 64-bit ARM",
        243 => "EM_RISCV",
        _ => "another machine",
    }
}

impl fmt::Display for Explanation<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LoadError::*;
        let len = self.data.len();
        if !self.data.starts_with(b"\x7fELF") {
            if self.data.is_empty() {
                return write!(f, "not an ELF file (the file is empty)");
            }
            // The first 8 bytes, as C would escape them.
            write!(f, "not an ELF file (starts with \"")?;
            for &b in self.data.iter().take(8) {
                match b {
                    b'"' | b'\\' => write!(f, "\\{}", b as char)?,
                    b'\n' => write!(f, "\\n")?,
                    b'\t' => write!(f, "\\t")?,
                    0x20..=0x7e => write!(f, "{}", b as char)?,
                    _ => write!(f, "\\x{b:02x}")?,
                }
            }
            return write!(f, "\")");
        }
        match *self.err {
            Truncated { len } => write!(
                f,
                "truncated: an ELF header is {EHDR_SIZE} bytes, the file is {len} bytes"
            ),
            NotElf32Le => {
                let class = self.data.get(4).copied().unwrap_or(0);
                let data = self.data.get(5).copied().unwrap_or(0);
                write!(
                    f,
                    "ELF file is not 32-bit little-endian ({}, {}); ARM modules are ELFCLASS32, ELFDATA2LSB",
                    match class {
                        1 => "ELFCLASS32",
                        2 => "ELFCLASS64, a 64-bit file",
                        _ => "invalid class",
                    },
                    match data {
                        1 => "ELFDATA2LSB",
                        2 => "ELFDATA2MSB, big-endian",
                        _ => "invalid byte order",
                    }
                )
            }
            NotRelocatable { e_type } => write!(
                f,
                "ELF file is not a relocatable module (e_type {e_type}: {}); a .ko is ET_REL, built with -c",
                e_type_name(e_type)
            ),
            WrongMachine { e_machine } => write!(
                f,
                "not for ARM (e_machine {e_machine}: {}); build it with an ARM compiler (arm-none-eabi-gcc)",
                e_machine_name(e_machine)
            ),
            BadShentsize { size } => write!(
                f,
                "section headers are {size} bytes each; a 32-bit ELF file's are 40"
            ),
            SectionTableOutsideFile { shoff, shnum } => write!(
                f,
                "truncated: section header table ends at {}, file is {len} bytes",
                u64::from(shoff) + u64::from(shnum) * 40
            ),
            SectionOutsideFile {
                section,
                offset,
                size,
            } => write!(
                f,
                "truncated: section {section} ends at {}, file is {len} bytes",
                u64::from(offset) + u64::from(size)
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn explained(e: &LoadError<'_>, data: &[u8]) -> Option<alloc::string::String> {
        e.explain(data).map(|x| x.to_string())
    }

    #[test]
    fn explanations_say_what_the_file_is() {
        let text = b"hello world\n";
        let e = LoadError::Truncated { len: text.len() };
        assert_eq!(e.to_string(), "Module len 12 truncated");
        assert_eq!(
            explained(&e, text).unwrap(),
            r#"not an ELF file (starts with "hello wo")"#
        );
        assert_eq!(
            explained(&LoadError::BadMagic, b"a\"b\\\n\t\x01\xffzz").unwrap(),
            r#"not an ELF file (starts with "a\"b\\\n\t\x01\xff")"#
        );
        assert_eq!(
            explained(&LoadError::Truncated { len: 0 }, b"").unwrap(),
            "not an ELF file (the file is empty)"
        );
        let mut elf = b"\x7fELF\x01\x01\x01".to_vec();
        assert_eq!(
            explained(&LoadError::Truncated { len: 7 }, &elf).unwrap(),
            "truncated: an ELF header is 52 bytes, the file is 7 bytes"
        );
        elf[4] = 2;
        assert_eq!(
            explained(&LoadError::NotElf32Le, &elf).unwrap(),
            "ELF file is not 32-bit little-endian (ELFCLASS64, a 64-bit file, ELFDATA2LSB); ARM modules are ELFCLASS32, ELFDATA2LSB"
        );
        assert_eq!(
            explained(&LoadError::NotRelocatable { e_type: 2 }, &elf).unwrap(),
            "ELF file is not a relocatable module (e_type 2: ET_EXEC, an executable); a .ko is ET_REL, built with -c"
        );
        let e = LoadError::WrongMachine { e_machine: 62 };
        assert_eq!(e.to_string(), "not an ARM object (e_machine 62)");
        assert_eq!(
            explained(&e, &elf).unwrap(),
            "not for ARM (e_machine 62: EM_X86_64, x86-64); build it with an ARM compiler (arm-none-eabi-gcc)"
        );
        elf.resize(100, 0);
        assert_eq!(
            explained(
                &LoadError::SectionTableOutsideFile {
                    shoff: 80,
                    shnum: 3
                },
                &elf
            )
            .unwrap(),
            "truncated: section header table ends at 200, file is 100 bytes"
        );
        let e = LoadError::SectionOutsideFile {
            section: ".text",
            offset: 90,
            size: 20,
        };
        assert_eq!(
            explained(&e, &elf).unwrap(),
            "truncated: section .text ends at 110, file is 100 bytes"
        );
        // Nothing to add where Display already says it all.
        let inside = LoadError::SectionOutsideFile {
            section: ".text",
            offset: 90,
            size: 5,
        };
        assert!(inside.explain(&elf).is_none());
        assert!(LoadError::NoSymbols.explain(&elf).is_none());
        assert!(LoadError::BadMagic.explain(b"\x7fELF").is_none());
    }
}
