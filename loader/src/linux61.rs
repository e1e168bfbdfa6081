//! The Linux 6.1 ABI personality, on the loader's side: which ABI a module
//! was built for ([`detect`], from `vermagic` and `struct module`'s size),
//! the 6.1 `struct module` in `.gnu.linkonce.this_module` ([`this_module`]:
//! its offsets, in one place), `__versions` ([`versions`]) and ftrace's
//! `__mcount_loc` call sites ([`patch_mcount`]).
//!
//! ## vermagic (Linux's `check_modinfo` → `same_magic`)
//!
//! Kobold's own modules are built against Linux 3.18's API and carry no
//! `vermagic` (modules/include never defined one): a module without
//! `vermagic`, or whose `vermagic` starts with `3.18.`, is [`Abi::Kobold`].
//! (Linux refuses a module without `vermagic` unless forced; Kobold's
//! samples, test fixtures and the files `cargo xtask new-module` makes
//! predate this check, so for them the absence means "ours".)
//!
//! A module whose `vermagic` is 6.1's is [`Abi::Linux61`]. As Linux with
//! `CONFIG_MODVERSIONS` (`same_magic` skips the release, the part before
//! the first space, because `module_layout`'s CRC vouches for the layout),
//! the release must start `6.1.` and the rest must equal Debian's
//! ([`LINUX61_VERMAGIC`]: `SMP mod_unload modversions ARMv7 p2v8`); and
//! `.gnu.linkonce.this_module` must be exactly 6.1's `struct module`
//! ([`this_module::SIZE`], 576 bytes), which stands in for the CRC of
//! `module_layout` that Kobold does not compare: a different size is
//! Linux's `disagrees about version of symbol module_layout`, a refusal
//! that forcing does not lift (the loader writes into that struct).
//!
//! Anything else is `version magic '...' should be '...'` and `-ENOEXEC`,
//! unless forced (`insmod -f`, Linux's `MODULE_INIT_IGNORE_VERMAGIC`, which
//! taints the kernel with `TAINT_FORCED_MODULE`, 'F'):
//! [`AbiError::forced_abi`] says which table a forced module resolves
//! against.
//!
//! ## ftrace's mcount (Linux's `ftrace_module_init` → `ftrace_make_nop`)
//!
//! Debian's kernel has `DYNAMIC_FTRACE`: every function starts
//! `push {lr}; bl __gnu_mcount_nc`, and `__mcount_loc` lists the address of
//! each such `bl` (ABS32 words, relocated at link time). Linux rewrites each
//! one, when the module is loaded, to its ftrace NOP
//! (arch/arm/kernel/ftrace.c): `pop {lr}` (ARM, `0xe8bd4000`) or, in a
//! Thumb-2 kernel, `ldr.w lr, [sp], #4` (`0xf85d 0xeb04`), which undoes the
//! `push`. [`patch_mcount`] does the same, after linking and before the
//! text is made read-only, checking first — as `ftrace_make_nop` compares
//! the old instruction with the `bl` it expects — that the site holds a
//! `bl` (ARM, or Thumb-2 `bl`/`blx`) whose destination is
//! `__gnu_mcount_nc` or a PLT veneer to it. A site that does not is
//! **skipped and counted**, not refused: Linux in that case reports
//! `ftrace_bug` and still loads the module, the site keeps the instruction
//! the compiler wrote (still a valid call, since the kernel exports
//! `__gnu_mcount_nc`), and a wrong entry can never make the loader write
//! over an instruction it did not recognise. The caller reports the counts
//! (`insmod -v`, and a warning when any site was skipped).

use crate::elf::Module;
use crate::layout::{Group, ModuleLayout, Region};
use core::fmt;

/// A module's ABI: which export table it resolves against and which
/// layouts of the kernel's structures it was compiled with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// Kobold's own: Linux 3.18's API (the seed articles').
    Kobold,
    /// Linux 6.1, as Debian's `linux-image-6.1.0-*-armmp` (armhf).
    Linux61,
}

impl Abi {
    /// How the ABI is shown (`/sys/module/NAME/abi`, `modinfo`).
    pub fn name(self) -> &'static str {
        match self {
            Abi::Kobold => "kobold-3.18",
            Abi::Linux61 => "linux-6.1",
        }
    }
}

impl fmt::Display for Abi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `vermagic` of Debian's 6.1 armmp kernel (its `UTS_RELEASE` and
/// `VERMAGIC_STRING` flags): what a 6.1 module must match after the
/// release.
pub const LINUX61_VERMAGIC: &str = "6.1.0-57-armmp SMP mod_unload modversions ARMv7 p2v8 ";

/// The section holding the module's `struct module`.
pub const THIS_MODULE_SECTION: &str = ".gnu.linkonce.this_module";

/// Linux 6.1's `struct module` on ARM32 (Debian's armmp config), as
/// `.gnu.linkonce.this_module` holds it: the offsets the loader uses,
/// checked against Debian's files (their relocations against that section
/// patch `init` and `exit`; `name` is the module's name as kbuild wrote it).
pub mod this_module {
    /// `sizeof(struct module)`.
    pub const SIZE: u32 = 576;
    /// `enum module_state state` (a 4-byte enum).
    pub const STATE: u32 = 0;
    /// `char name[MODULE_NAME_LEN]`.
    pub const NAME: u32 = 0xc;
    /// `MODULE_NAME_LEN` on 32-bit.
    pub const NAME_LEN: u32 = 56;
    /// `int (*init)(void)`, relocated by the module (`init_module`).
    pub const INIT: u32 = 0xcc;
    /// `void (*exit)(void)`, relocated by the module (`cleanup_module`).
    pub const EXIT: u32 = 0x230;

    /// `MODULE_STATE_LIVE`: normal state.
    pub const MODULE_STATE_LIVE: u32 = 0;
    /// `MODULE_STATE_COMING`: fully formed, running `init`.
    pub const MODULE_STATE_COMING: u32 = 1;
    /// `MODULE_STATE_GOING`: going away.
    pub const MODULE_STATE_GOING: u32 = 2;
}

/// Why a module's ABI is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiError<'a> {
    /// Linux: "%s: version magic '%s' should be '%s'". Forcing lifts it.
    VersionMagic { found: &'a str },
    /// Linux: "%s: disagrees about version of symbol module_layout": a 6.1
    /// module whose `struct module` is not 6.1's size. Not forceable.
    ModuleLayout { size: u32 },
    /// Linux: "%s: No module found in object": a 6.1 module without
    /// `.gnu.linkonce.this_module`. Not forceable.
    NoModule,
}

impl AbiError<'_> {
    /// The ABI a module refused with this error is loaded with when the
    /// user forces it (`insmod -f`), or `None` if forcing does not help.
    pub fn forced_abi(&self) -> Option<Abi> {
        match self {
            AbiError::VersionMagic { found } if release_is_61(found) => Some(Abi::Linux61),
            AbiError::VersionMagic { .. } => Some(Abi::Kobold),
            AbiError::ModuleLayout { .. } | AbiError::NoModule => None,
        }
    }
}

impl fmt::Display for AbiError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbiError::VersionMagic { found } => write!(
                f,
                "version magic '{}' should be '{LINUX61_VERMAGIC}'",
                found.escape_debug()
            ),
            AbiError::ModuleLayout { .. } => {
                write!(f, "disagrees about version of symbol module_layout")
            }
            AbiError::NoModule => write!(f, "No module found in object"),
        }
    }
}

impl core::error::Error for AbiError<'_> {}

fn release_is_61(vermagic: &str) -> bool {
    vermagic.starts_with("6.1.")
}

/// The part of a vermagic after the release (`same_magic` with
/// modversions compares only that): what follows the first space, or
/// nothing. The space is looked for a byte at a time in line (a space is
/// one byte in UTF-8 and no other character's), not with `split_once`'s
/// `memchr` machinery.
fn flags(vermagic: &str) -> &str {
    match vermagic.bytes().position(|b| b == b' ') {
        Some(i) => vermagic.get(i + 1..).unwrap_or(""),
        None => "",
    }
}

/// [`flags`] of [`LINUX61_VERMAGIC`], worked out when the crate is built.
const LINUX61_FLAGS: &str = {
    let v = LINUX61_VERMAGIC.as_bytes();
    let mut i = 0;
    while i < v.len() && v[i] != b' ' {
        i += 1;
    }
    LINUX61_VERMAGIC
        .split_at(if i < v.len() { i + 1 } else { v.len() })
        .1
};

/// The ABI `m` was built for, from its `vermagic` and its `struct module`
/// (see the module doc for the policy).
pub fn detect<'a>(m: &Module<'a>) -> Result<Abi, AbiError<'a>> {
    detect_vermagic(m, m.modinfo_get("vermagic"))
}

/// [`detect`] with `m`'s `vermagic` already read (`Module::modinfo_get`
/// or `modinfo_get_many`): insmod reads it with the other keys it needs,
/// in one pass over `.modinfo`.
pub fn detect_vermagic<'a>(m: &Module<'a>, vermagic: Option<&'a str>) -> Result<Abi, AbiError<'a>> {
    let Some(vermagic) = vermagic else {
        return Ok(Abi::Kobold);
    };
    if vermagic.starts_with("3.18.") {
        return Ok(Abi::Kobold);
    }
    if release_is_61(vermagic) {
        let size = m.section_by_name(THIS_MODULE_SECTION).map(|s| s.size);
        match size {
            None => return Err(AbiError::NoModule),
            Some(this_module::SIZE) => {}
            Some(size) => return Err(AbiError::ModuleLayout { size }),
        }
        if crate::name_is(flags(vermagic), LINUX61_FLAGS) {
            return Ok(Abi::Linux61);
        }
    }
    Err(AbiError::VersionMagic { found: vermagic })
}

/// Where `.gnu.linkonce.this_module` was placed: the offset of the
/// `struct module` in the core image, if the module has one of 6.1's size
/// in writable core data (where Linux's `layout_sections` puts it: it is
/// `SHF_WRITE | SHF_ALLOC`), 4-byte aligned.
pub fn this_module_offset(m: &Module<'_>, l: &ModuleLayout) -> Option<u32> {
    let s = m.section_by_name(THIS_MODULE_SECTION)?;
    let p = l.placements.get(s.index as usize).copied().flatten()?;
    (p.region == Region::Core
        && p.group == Group::Data
        && p.size == this_module::SIZE
        && p.offset.is_multiple_of(4))
    .then_some(p.offset)
}

fn put(image: &mut [u8], at: u32, bytes: &[u8]) -> Option<()> {
    let at = at as usize;
    image
        .get_mut(at..at.checked_add(bytes.len())?)?
        .copy_from_slice(bytes);
    Some(())
}

fn get32(image: &[u8], at: u32) -> Option<u32> {
    let at = at as usize;
    let b = image.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Fills the `struct module` at `offset` of `core` as the live module's:
/// its `state` and its `name` (NUL-padded; names are shorter than
/// `MODULE_NAME_LEN`). `None` if it does not fit in the image.
///
/// The name is written in place, its padding cleared after it: building
/// the field on the stack first (cleared, filled, then copied in) cost
/// two more passes over its 56 bytes, unaligned.
pub fn fill_this_module(core: &mut [u8], offset: u32, name: &str, state: u32) -> Option<()> {
    let at = offset.checked_add(this_module::NAME)? as usize;
    let field = core.get_mut(at..at.checked_add(this_module::NAME_LEN as usize)?)?;
    let n = name.len().min(field.len() - 1);
    let (head, pad) = field.split_at_mut(n);
    head.copy_from_slice(name.as_bytes().get(..n)?);
    pad.fill(0);
    put(
        core,
        offset.checked_add(this_module::STATE)?,
        &state.to_le_bytes(),
    )
}

/// The `init` and `exit` pointers of the linked `struct module` at
/// `offset` of `core` (0 when the module has none).
pub fn this_module_entry_points(core: &[u8], offset: u32) -> Option<(u32, u32)> {
    Some((
        get32(core, offset.checked_add(this_module::INIT)?)?,
        get32(core, offset.checked_add(this_module::EXIT)?)?,
    ))
}

/// Size of one `__versions` entry: `struct modversion_info` on 32-bit,
/// `{unsigned long crc; char name[64 - sizeof(unsigned long)]}`.
pub const MODVERSION_ENTRY_SIZE: usize = 64;

/// One `__versions` entry: the CRC of an imported symbol's prototype as
/// the module was built against it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version<'a> {
    pub crc: u32,
    pub name: &'a str,
}

/// A `__versions` section that is not an array of `modversion_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadVersions {
    /// The entry at fault (or the entry count, for a ragged size).
    pub index: usize,
}

impl fmt::Display for BadVersions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "__versions: entry {} is not a {MODVERSION_ENTRY_SIZE}-byte {{crc, name}} record",
            self.index
        )
    }
}

impl core::error::Error for BadVersions {}

fn version_at(entry: &[u8]) -> Option<Version<'_>> {
    let crc = u32::from_le_bytes(entry.get(..4)?.try_into().ok()?);
    let name = entry.get(4..)?;
    let end = name.iter().position(|&b| b == 0)?;
    Some(Version {
        crc,
        name: core::str::from_utf8(name.get(..end)?).ok()?,
    })
}

/// The module's `__versions` entries (none if it has no such section),
/// checked once: the section is a whole number of 64-byte entries, each
/// name NUL-terminated UTF-8. Allocates nothing.
pub fn versions<'a>(m: &Module<'a>) -> Result<impl Iterator<Item = Version<'a>> + 'a, BadVersions> {
    let data: &'a [u8] = m
        .section_by_name("__versions")
        .and_then(|s| s.data)
        .unwrap_or(&[]);
    if !data.len().is_multiple_of(MODVERSION_ENTRY_SIZE) {
        return Err(BadVersions {
            index: data.len() / MODVERSION_ENTRY_SIZE,
        });
    }
    if let Some(index) = data
        .chunks_exact(MODVERSION_ENTRY_SIZE)
        .position(|e| version_at(e).is_none())
    {
        return Err(BadVersions { index });
    }
    Ok(data
        .chunks_exact(MODVERSION_ENTRY_SIZE)
        .filter_map(version_at))
}

/// Linux's ftrace NOP on ARM (`pop {lr}`, arch/arm/kernel/ftrace.c `NOP`).
pub const ARM_FTRACE_NOP: u32 = 0xe8bd_4000;
/// Linux's ftrace NOP in a Thumb-2 kernel (`ldr.w lr, [sp], #4`), as the
/// two halfwords in memory order.
pub const THUMB_FTRACE_NOP: [u16; 2] = [0xf85d, 0xeb04];

/// The symbol every `__mcount_loc` site calls.
pub const MCOUNT: &str = "__gnu_mcount_nc";

/// The address `__gnu_mcount_nc` resolved to when `m` was linked, if the
/// module imports it.
pub fn mcount_address(m: &Module<'_>, linked: &crate::link::Linked) -> Option<u32> {
    let i = m
        .symbols
        .iter()
        .position(|s| crate::name_is(s.name, MCOUNT) && s.is_undefined())?;
    linked.symbol_addrs.get(i).copied()
}

/// How [`patch_mcount`] went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct McountSites {
    /// Sites rewritten to the ftrace NOP.
    pub patched: u32,
    /// Sites left as they were: not in the module's text, or not a call
    /// to `__gnu_mcount_nc`.
    pub skipped: u32,
}

/// A `__mcount_loc` that is not an array of addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadMcountLoc;

impl fmt::Display for BadMcountLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "__mcount_loc: not a whole number of 4-byte addresses in core data"
        )
    }
}

impl core::error::Error for BadMcountLoc {}

/// The two regions of a linked module, for reading and patching by
/// address.
pub struct Images<'i> {
    pub core: &'i mut [u8],
    pub core_base: u32,
    pub init: &'i mut [u8],
    pub init_base: u32,
}

impl Images<'_> {
    /// `(region, offset)` of `len` bytes at `addr`, inside one `Text`
    /// group of `l`.
    fn text(&self, l: &ModuleLayout, addr: u32, len: u32) -> Option<(Region, u32)> {
        l.groups
            .iter()
            .filter(|g| g.1 == Group::Text)
            .find_map(|&(region, _, start, end)| {
                let base = match region {
                    Region::Core => self.core_base,
                    Region::Init => self.init_base,
                };
                let off = addr.checked_sub(base)?;
                (off >= start && off.checked_add(len)? <= end).then_some((region, off))
            })
    }

    fn image(&self, r: Region) -> &[u8] {
        match r {
            Region::Core => self.core,
            Region::Init => self.init,
        }
    }

    fn word(&self, l: &ModuleLayout, addr: u32) -> Option<u32> {
        let (r, off) = self.text(l, addr, 4)?;
        get32(self.image(r), off)
    }

    /// Whether a branch from a site lands on `mcount`, directly or through
    /// one of the module's PLT veneers to it (`ldr pc, [pc, #-4]` in ARM,
    /// `ldr.w pc, [pc, #0]` in Thumb-2, then the address).
    fn reaches(&self, l: &ModuleLayout, dest: u32, mcount: u32) -> bool {
        if dest & !1 == mcount & !1 {
            return true;
        }
        let veneer = dest & !1;
        let literal = self.word(l, veneer.wrapping_add(4));
        let first = self.word(l, veneer);
        match (first, literal) {
            (Some(0xe51f_f004), Some(lit)) => lit & !1 == mcount & !1,
            (Some(0xf000_f8df), Some(lit)) => lit & !1 == mcount & !1,
            _ => false,
        }
    }
}

fn sign_extend(v: u32, bit: u32) -> i32 {
    let shift = 31 - bit;
    ((v << shift) as i32) >> shift
}

/// Rewrites every `__mcount_loc` site of a linked module to the ftrace NOP
/// (see the module doc), given the resolved address of `__gnu_mcount_nc`
/// (`None` when the module does not import it: then no site can be a call
/// to it, and all are skipped).
pub fn patch_mcount(
    m: &Module<'_>,
    l: &ModuleLayout,
    img: &mut Images<'_>,
    mcount: Option<u32>,
) -> Result<McountSites, BadMcountLoc> {
    let mut out = McountSites::default();
    for s in m
        .sections
        .iter()
        .filter(|s| crate::name_is(s.name, "__mcount_loc"))
    {
        let Some(p) = l.placements.get(s.index as usize).copied().flatten() else {
            continue;
        };
        if p.region != Region::Core || !p.size.is_multiple_of(4) || s.data.is_none() {
            return Err(BadMcountLoc);
        }
        for i in 0..p.size / 4 {
            let at = p.offset.checked_add(i * 4).ok_or(BadMcountLoc)?;
            let site = get32(img.core, at).ok_or(BadMcountLoc)?;
            match mcount.and_then(|mc| nop_for(img, l, site, mc)) {
                Some((region, off, nop)) => {
                    let image = match region {
                        Region::Core => &mut *img.core,
                        Region::Init => &mut *img.init,
                    };
                    match put(image, off, &nop) {
                        Some(()) => out.patched += 1,
                        None => out.skipped += 1,
                    }
                }
                None => out.skipped += 1,
            }
        }
    }
    Ok(out)
}

/// The NOP for the call at `site`, if it is a call to `mcount`: `(region,
/// offset, the 4 bytes to write)`.
fn nop_for(
    img: &Images<'_>,
    l: &ModuleLayout,
    site: u32,
    mcount: u32,
) -> Option<(Region, u32, [u8; 4])> {
    let (region, off) = img.text(l, site, 4)?;
    let w = get32(img.image(region), off)?;
    // ARM `bl<al>`: cond 0b1110, 0b1011, imm24; lands at site + 8 + imm.
    if site & 3 == 0 && w & 0xff00_0000 == 0xeb00_0000 {
        let dest = site
            .wrapping_add(8)
            .wrapping_add(sign_extend((w & 0x00ff_ffff) << 2, 25) as u32);
        if img.reaches(l, dest, mcount) {
            return Some((region, off, ARM_FTRACE_NOP.to_le_bytes()));
        }
    }
    // Thumb-2 `bl` (hw2 0b11x1) or `blx` (0b11x0) to mcount.
    let (hw1, hw2) = (w & 0xffff, w >> 16);
    if site & 1 == 0 && hw1 & 0xf800 == 0xf000 && hw2 & 0xc000 == 0xc000 {
        let sign = (hw1 >> 10) & 1;
        let (j1, j2) = ((hw2 >> 13) & 1, (hw2 >> 11) & 1);
        let enc = (sign << 24)
            | ((!(j1 ^ sign) & 1) << 23)
            | ((!(j2 ^ sign) & 1) << 22)
            | ((hw1 & 0x03ff) << 12)
            | ((hw2 & 0x07ff) << 1);
        let imm = sign_extend(enc, 24) as u32;
        let dest = if hw2 & 0x1000 != 0 {
            site.wrapping_add(4).wrapping_add(imm)
        } else {
            (site.wrapping_add(4) & !3).wrapping_add(imm)
        };
        if img.reaches(l, dest, mcount) {
            let [a, b] = THUMB_FTRACE_NOP;
            let [a0, a1] = a.to_le_bytes();
            let [b0, b1] = b.to_le_bytes();
            return Some((region, off, [a0, a1, b0, b1]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    /// `fill_this_module` as it was: the field built on the stack, then
    /// copied in.
    fn fill_this_module_old(core: &mut [u8], offset: u32, name: &str, state: u32) -> Option<()> {
        let mut field = [0u8; this_module::NAME_LEN as usize];
        let n = name.len().min(field.len() - 1);
        field
            .get_mut(..n)?
            .copy_from_slice(name.as_bytes().get(..n)?);
        put(core, offset.checked_add(this_module::NAME)?, &field)?;
        put(
            core,
            offset.checked_add(this_module::STATE)?,
            &state.to_le_bytes(),
        )
    }

    /// Writing the name in place answers and writes what building it on
    /// the stack did: names empty, short, of 55, 56 and 60 bytes, over
    /// garbage, at offsets where the struct fits, where only the name
    /// fits, where neither does, and where the offset overflows.
    #[test]
    fn this_module_filled_in_place_as_before() {
        let long = |n: usize| "x".repeat(n);
        let names = [
            String::new(),
            String::from("l61"),
            String::from("crc_itu_t"),
            long(55),
            long(56),
            long(60),
        ];
        let len = 200usize;
        let mut cases = 0;
        for name in &names {
            for offset in [
                0u32,
                4,
                100,
                128,
                132,
                133,
                140,
                144,
                196,
                200,
                u32::MAX - 4,
            ] {
                let fresh: std::vec::Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let (mut a, mut b) = (fresh.clone(), fresh.clone());
                let ra = fill_this_module(&mut a, offset, name, 0x1234_5678);
                let rb = fill_this_module_old(&mut b, offset, name, 0x1234_5678);
                assert_eq!(ra, rb, "{name:?} at {offset}");
                assert_eq!(a, b, "{name:?} at {offset}");
                cases += usize::from(ra.is_some());
            }
        }
        // Some fit and some did not.
        assert!(cases > 0 && cases < names.len() * 11, "{cases}");
    }

    /// `flags` answers `split_once(' ')`'s rest (or nothing): no space,
    /// spaces first and last, several, multi-byte characters around them.
    #[test]
    fn flags_are_what_follows_the_first_space() {
        for v in [
            "",
            " ",
            "6.1.0",
            "6.1.0 ",
            " SMP",
            "6.1.0-57-armmp SMP mod_unload modversions ARMv7 p2v8 ",
            "6.1.0  two",
            "caf\u{e9} \u{e9}t\u{e9} x",
            "\u{1f980} ",
            "\u{a0}nbsp not a space",
        ] {
            let old = v.split_once(' ').map_or("", |(_, rest)| rest);
            assert_eq!(flags(v), old, "{v:?}");
        }
        assert_eq!(
            flags(LINUX61_VERMAGIC),
            "SMP mod_unload modversions ARMv7 p2v8 "
        );
    }
}
