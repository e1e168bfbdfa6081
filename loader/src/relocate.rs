//! ARM relocations: their types (numbers and AAELF32 names, [`KNOWN`]) and
//! applying one — the arithmetic of Linux's arch/arm/kernel/module.c
//! `apply_relocate()`, on a 4-byte place.
//!
//! ARM modules use REL relocations: the addend is the value already encoded
//! in the instruction or word at the place (AAELF32 4.6.1.1), so each case
//! decodes it, adds the symbol value S (and subtracts the place address P
//! for PC-relative kinds), checks the range, and encodes the result back.
//!
//! Interworking (AAELF32 4.6.1.6): a function symbol's value has bit 0 set
//! when it is Thumb code. `R_ARM_CALL` (BL) to Thumb becomes BLX, and
//! `R_ARM_THM_CALL` (BL) to ARM becomes BLX as well — the instruction set
//! switch is free. `R_ARM_JUMP24`/`R_ARM_PC24` (B) and `R_ARM_THM_JUMP24`
//! (B.W) cannot switch state and are refused with Linux's message, except
//! that a Thumb B.W to a non-function symbol is allowed (Linux "ARM:
//! 6963/1").
//!
//! Ranges, as Linux checks them: ARM B/BL ±32 MB with the exact −32 MB
//! refused; Thumb-2 B.W/BL ±16 MB, exact −16 MB refused; PREL31 ±1 GB.
//! Branches out of range are errors here; the module loader routes them
//! through PLT veneers before they get this far.

use core::fmt;
use object::elf;

// ARM relocation types (ELF for the Arm Architecture, "AAELF32", table
// 5-6): the ones a kernel module uses, by number and name. They live here,
// beside the arithmetic that applies them, so a type is added in one place.
pub const R_ARM_NONE: u32 = elf::R_ARM_NONE.0;
pub const R_ARM_PC24: u32 = elf::R_ARM_PC24.0;
pub const R_ARM_ABS32: u32 = elf::R_ARM_ABS32.0;
pub const R_ARM_REL32: u32 = elf::R_ARM_REL32.0;
/// AAELF32 renamed `R_ARM_THM_PC22` to `R_ARM_THM_CALL`.
pub const R_ARM_THM_CALL: u32 = elf::R_ARM_THM_PC22.0;
pub const R_ARM_CALL: u32 = elf::R_ARM_CALL.0;
pub const R_ARM_JUMP24: u32 = elf::R_ARM_JUMP24.0;
pub const R_ARM_THM_JUMP24: u32 = elf::R_ARM_THM_JUMP24.0;
pub const R_ARM_TARGET1: u32 = elf::R_ARM_TARGET1.0;
pub const R_ARM_V4BX: u32 = elf::R_ARM_V4BX.0;
pub const R_ARM_PREL31: u32 = elf::R_ARM_PREL31.0;
pub const R_ARM_MOVW_ABS_NC: u32 = elf::R_ARM_MOVW_ABS_NC.0;
pub const R_ARM_MOVT_ABS: u32 = elf::R_ARM_MOVT_ABS.0;
pub const R_ARM_MOVW_PREL_NC: u32 = elf::R_ARM_MOVW_PREL_NC.0;
pub const R_ARM_MOVT_PREL: u32 = elf::R_ARM_MOVT_PREL.0;
pub const R_ARM_THM_MOVW_ABS_NC: u32 = elf::R_ARM_THM_MOVW_ABS_NC.0;
pub const R_ARM_THM_MOVT_ABS: u32 = elf::R_ARM_THM_MOVT_ABS.0;
pub const R_ARM_THM_MOVW_PREL_NC: u32 = elf::R_ARM_THM_MOVW_PREL_NC.0;
pub const R_ARM_THM_MOVT_PREL: u32 = elf::R_ARM_THM_MOVT_PREL.0;

/// `(number, name)` of every relocation type the loader knows.
pub const KNOWN: &[(u32, &str)] = &[
    (R_ARM_NONE, "R_ARM_NONE"),
    (R_ARM_PC24, "R_ARM_PC24"),
    (R_ARM_ABS32, "R_ARM_ABS32"),
    (R_ARM_REL32, "R_ARM_REL32"),
    (R_ARM_THM_CALL, "R_ARM_THM_CALL"),
    (R_ARM_CALL, "R_ARM_CALL"),
    (R_ARM_JUMP24, "R_ARM_JUMP24"),
    (R_ARM_THM_JUMP24, "R_ARM_THM_JUMP24"),
    (R_ARM_TARGET1, "R_ARM_TARGET1"),
    (R_ARM_V4BX, "R_ARM_V4BX"),
    (R_ARM_PREL31, "R_ARM_PREL31"),
    (R_ARM_MOVW_ABS_NC, "R_ARM_MOVW_ABS_NC"),
    (R_ARM_MOVT_ABS, "R_ARM_MOVT_ABS"),
    (R_ARM_MOVW_PREL_NC, "R_ARM_MOVW_PREL_NC"),
    (R_ARM_MOVT_PREL, "R_ARM_MOVT_PREL"),
    (R_ARM_THM_MOVW_ABS_NC, "R_ARM_THM_MOVW_ABS_NC"),
    (R_ARM_THM_MOVT_ABS, "R_ARM_THM_MOVT_ABS"),
    (R_ARM_THM_MOVW_PREL_NC, "R_ARM_THM_MOVW_PREL_NC"),
    (R_ARM_THM_MOVT_PREL, "R_ARM_THM_MOVT_PREL"),
];

/// The name of relocation type `r_type`, if the loader knows it.
pub fn name(r_type: u32) -> Option<&'static str> {
    KNOWN.iter().find(|(n, _)| *n == r_type).map(|(_, s)| *s)
}

/// What the relocated symbol is, as far as interworking cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// S: the symbol's address, bit 0 set for a Thumb function.
    pub value: u32,
    /// STT_FUNC.
    pub is_func: bool,
}

/// Why a relocation cannot be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelocError {
    /// A type the loader does not implement.
    Unsupported { r_type: u32 },
    /// Linux: "relocation %u out of range (%#lx -> %#x)".
    OutOfRange { r_type: u32, from: u32, to: u32 },
    /// A branch that cannot change instruction set to reach its target.
    Interworking { r_type: u32, arm_to_thumb: bool },
    /// The place is shorter than 4 bytes (the validator prevents this).
    ShortPlace,
}

impl core::error::Error for RelocError {}

impl fmt::Display for RelocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelocError::Unsupported { r_type } => match name(*r_type) {
                Some(n) => write!(f, "unsupported relocation type {r_type} ({n})"),
                None => write!(f, "unknown relocation type {r_type}"),
            },
            RelocError::OutOfRange { r_type, from, to } => {
                write!(f, "relocation {r_type} out of range ({from:#x} -> {to:#x})")
            }
            RelocError::Interworking { arm_to_thumb, .. } => write!(
                f,
                "unsupported interworking call ({})",
                if *arm_to_thumb {
                    "ARM -> Thumb"
                } else {
                    "Thumb -> ARM"
                }
            ),
            RelocError::ShortPlace => write!(f, "relocation place shorter than 4 bytes"),
        }
    }
}

const fn sign_extend(v: u32, bit: u32) -> i32 {
    let shift = 31 - bit;
    ((v << shift) as i32) >> shift
}

fn read32(loc: &[u8]) -> u32 {
    u32::from_le_bytes([loc[0], loc[1], loc[2], loc[3]])
}

fn write32(loc: &mut [u8], v: u32) {
    loc[..4].copy_from_slice(&v.to_le_bytes());
}

fn read16(loc: &[u8], at: usize) -> u32 {
    u16::from_le_bytes([loc[at], loc[at + 1]]) as u32
}

fn write16(loc: &mut [u8], at: usize, v: u32) {
    loc[at..at + 2].copy_from_slice(&(v as u16).to_le_bytes());
}

/// The implicit addend of a branch relocation (PC24/CALL/JUMP24 in ARM,
/// THM_CALL/THM_JUMP24 in Thumb-2), decoded from the instruction at
/// `loc`; `None` for any other type. The PLT is sized by distinct
/// (symbol, addend) pairs.
pub fn branch_addend(r_type: u32, loc: &[u8]) -> Option<i32> {
    if loc.len() < 4 {
        return None;
    }
    match r_type {
        R_ARM_PC24 | R_ARM_CALL | R_ARM_JUMP24 => {
            Some(sign_extend((read32(loc) & 0x00ff_ffff) << 2, 25))
        }
        R_ARM_THM_CALL | R_ARM_THM_JUMP24 => {
            let (upper, lower) = (read16(loc, 0), read16(loc, 2));
            let sign = (upper >> 10) & 1;
            let (j1, j2) = ((lower >> 13) & 1, (lower >> 11) & 1);
            let enc = (sign << 24)
                | ((!(j1 ^ sign) & 1) << 23)
                | ((!(j2 ^ sign) & 1) << 22)
                | ((upper & 0x03ff) << 12)
                | ((lower & 0x07ff) << 1);
            Some(sign_extend(enc, 24))
        }
        _ => None,
    }
}

/// Applies relocation `r_type` at `loc` (the place's bytes; address `p`)
/// against `s`.
pub fn apply(r_type: u32, loc: &mut [u8], p: u32, s: Target) -> Result<(), RelocError> {
    if loc.len() < 4 {
        return Err(RelocError::ShortPlace);
    }
    let out_of_range = RelocError::OutOfRange {
        r_type,
        from: p,
        to: s.value,
    };
    match r_type {
        R_ARM_NONE => {}
        // R_ARM_ABS32, R_ARM_TARGET1 (absolute on Linux): S + A.
        R_ARM_ABS32 | R_ARM_TARGET1 => write32(loc, read32(loc).wrapping_add(s.value)),
        // R_ARM_REL32: S + A - P.
        R_ARM_REL32 => write32(loc, read32(loc).wrapping_add(s.value).wrapping_sub(p)),
        // R_ARM_PC24, R_ARM_CALL, R_ARM_JUMP24: B/BL imm24.
        R_ARM_PC24 | R_ARM_CALL | R_ARM_JUMP24 => {
            let insn = read32(loc);
            let thumb = s.value & 1 != 0;
            let is_bl = insn & 0x0f00_0000 == 0x0b00_0000 && insn >> 28 == 0xe;
            // Linux refuses any target with low bits set ("ARM -> Thumb");
            // Kobold turns BL to Thumb into BLX and refuses the rest.
            if (thumb && !(r_type == R_ARM_CALL && is_bl)) || (!thumb && s.value & 2 != 0) {
                return Err(RelocError::Interworking {
                    r_type,
                    arm_to_thumb: true,
                });
            }
            let addend = branch_addend(r_type, loc).unwrap_or(0);
            let offset = (s.value & !1).wrapping_add(addend as u32).wrapping_sub(p) as i32;
            if offset <= -0x0200_0000 || offset >= 0x0200_0000 {
                return Err(out_of_range);
            }
            let imm24 = ((offset >> 2) as u32) & 0x00ff_ffff;
            let new = if thumb {
                // BLX (immediate): 1111 101H imm24, H = offset bit 1.
                0xfa00_0000 | (((offset as u32 >> 1) & 1) << 24) | imm24
            } else {
                (insn & 0xff00_0000) | imm24
            };
            write32(loc, new);
        }
        // R_ARM_V4BX: BX Rm -> MOV PC, Rm (keep cond and Rm).
        R_ARM_V4BX => write32(loc, (read32(loc) & 0xf000_000f) | 0x01a0_f000),
        // R_ARM_PREL31: 31-bit signed, bit 31 preserved.
        R_ARM_PREL31 => {
            let word = read32(loc);
            let addend = sign_extend(word, 30);
            let offset = (addend as u32).wrapping_add(s.value).wrapping_sub(p) as i32;
            if !(-0x4000_0000..0x4000_0000).contains(&offset) {
                return Err(out_of_range);
            }
            write32(loc, (word & 0x8000_0000) | (offset as u32 & 0x7fff_ffff));
        }
        // R_ARM_MOVW_ABS_NC, MOVT_ABS, MOVW_PREL_NC, MOVT_PREL.
        R_ARM_MOVW_ABS_NC | R_ARM_MOVT_ABS | R_ARM_MOVW_PREL_NC | R_ARM_MOVT_PREL => {
            let insn = read32(loc);
            let addend = sign_extend(((insn & 0xf_0000) >> 4) | (insn & 0xfff), 15);
            let mut v = s.value.wrapping_add(addend as u32);
            if r_type == R_ARM_MOVW_PREL_NC || r_type == R_ARM_MOVT_PREL {
                v = v.wrapping_sub(p);
            }
            if r_type == R_ARM_MOVT_ABS || r_type == R_ARM_MOVT_PREL {
                v >>= 16;
            }
            write32(
                loc,
                (insn & 0xfff0_f000) | ((v & 0xf000) << 4) | (v & 0x0fff),
            );
        }
        // R_ARM_THM_CALL, R_ARM_THM_JUMP24: Thumb-2 BL / B.W.
        R_ARM_THM_CALL | R_ARM_THM_JUMP24 => {
            let (upper, lower) = (read16(loc, 0), read16(loc, 2));
            let arm_target = s.value & 1 == 0;
            let to_blx = arm_target && s.is_func && r_type == R_ARM_THM_CALL;
            if arm_target && s.is_func && r_type == R_ARM_THM_JUMP24 {
                return Err(RelocError::Interworking {
                    r_type,
                    arm_to_thumb: false,
                });
            }
            let addend = branch_addend(r_type, loc).unwrap_or(0);
            // BLX computes from the word-aligned PC and lands on ARM code.
            let base = if to_blx { p & !3 } else { p };
            let dest = if to_blx { s.value & !3 } else { s.value & !1 };
            let offset = dest.wrapping_add(addend as u32).wrapping_sub(base) as i32;
            if offset <= -0x0100_0000 || offset >= 0x0100_0000 {
                return Err(out_of_range);
            }
            let o = offset as u32;
            let sign = (o >> 24) & 1;
            let j1 = sign ^ (!(o >> 23) & 1);
            let j2 = sign ^ (!(o >> 22) & 1);
            let upper = (upper & 0xf800) | (sign << 10) | ((o >> 12) & 0x03ff);
            let mut lower = (lower & 0xd000) | (j1 << 13) | (j2 << 11) | ((o >> 1) & 0x07ff);
            if to_blx {
                lower &= !0x1001; // BLX: bit 12 clear, H (bit 0) clear
            }
            write16(loc, 0, upper);
            write16(loc, 2, lower);
        }
        // R_ARM_THM_MOVW_ABS_NC, THM_MOVT_ABS, THM_MOVW_PREL_NC, THM_MOVT_PREL.
        R_ARM_THM_MOVW_ABS_NC
        | R_ARM_THM_MOVT_ABS
        | R_ARM_THM_MOVW_PREL_NC
        | R_ARM_THM_MOVT_PREL => {
            let (upper, lower) = (read16(loc, 0), read16(loc, 2));
            let imm = ((upper & 0x000f) << 12)
                | ((upper & 0x0400) << 1)
                | ((lower & 0x7000) >> 4)
                | (lower & 0x00ff);
            let mut v = s.value.wrapping_add(sign_extend(imm, 15) as u32);
            if r_type == R_ARM_THM_MOVW_PREL_NC || r_type == R_ARM_THM_MOVT_PREL {
                v = v.wrapping_sub(p);
            }
            if r_type == R_ARM_THM_MOVT_ABS || r_type == R_ARM_THM_MOVT_PREL {
                v >>= 16;
            }
            let upper = (upper & 0xfbf0) | ((v & 0xf000) >> 12) | ((v & 0x0800) >> 1);
            let lower = (lower & 0x8f00) | ((v & 0x0700) << 4) | (v & 0x00ff);
            write16(loc, 0, upper);
            write16(loc, 2, lower);
        }
        _ => return Err(RelocError::Unsupported { r_type }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn names_match_aaelf32() {
        assert_eq!(name(28), Some("R_ARM_CALL"));
        assert_eq!(name(50), Some("R_ARM_THM_MOVT_PREL"));
        assert_eq!(name(99), None);
        assert_eq!(R_ARM_CALL, 28);
        assert_eq!(R_ARM_THM_MOVT_PREL, 50);
        // Every known type is applied, none refused as unsupported.
        for &(t, _) in KNOWN {
            let mut place = [0u8; 4];
            let r = apply(
                t,
                &mut place,
                0,
                Target {
                    value: 0,
                    is_func: false,
                },
            );
            assert!(!matches!(r, Err(RelocError::Unsupported { .. })), "{t}");
        }
    }

    const P: u32 = 0xbf00_0010;
    const BL: u32 = 0xebff_fffe; // BL . (addend -8)
    const B: u32 = 0xeaff_fffe;

    fn arm(r_type: u32, insn: u32, p: u32, s: Target) -> Result<u32, RelocError> {
        let mut loc = insn.to_le_bytes();
        apply(r_type, &mut loc, p, s).map(|()| u32::from_le_bytes(loc))
    }

    fn func(value: u32) -> Target {
        Target {
            value,
            is_func: true,
        }
    }

    #[test]
    fn absolute_and_relative_words() {
        assert_eq!(arm(2, 4, P, func(0xc000_8000)), Ok(0xc000_8004));
        assert_eq!(
            arm(38, 0, P, func(0xc000_8001)),
            Ok(0xc000_8001),
            "TARGET1 keeps the Thumb bit"
        );
        assert_eq!(arm(3, 0, P, func(P + 0x100)), Ok(0x100));
        assert_eq!(arm(0, 0x1234_5678, P, func(0)), Ok(0x1234_5678), "NONE");
        assert_eq!(
            arm(40, 0x012f_ff1e, P, func(0)),
            Ok(0x01a0_f00e),
            "V4BX: bx lr -> mov pc, lr"
        );
    }

    #[test]
    fn arm_branch_range_boundaries() {
        // BL with addend -8: offset = S - P - 8 + 8 (PC bias in the addend).
        let s_for = |offset: i64| func((P as i64 + 8 + offset) as u32);
        for (offset, ok) in [
            (0x01ff_fffc, true),
            (0x0200_0000, false),
            (-0x01ff_fffc, true),
            (-0x0200_0000, false), // Linux refuses the exact minimum
        ] {
            let r = arm(28, BL, P, s_for(offset));
            assert_eq!(r.is_ok(), ok, "offset {offset:#x}");
            if let Ok(insn) = r {
                assert_eq!(insn & 0xff00_0000, 0xeb00_0000);
                let decoded = sign_extend((insn & 0xff_ffff) << 2, 25) as i64 + 8;
                assert_eq!(decoded, offset + 8, "offset {offset:#x} encodes back");
            }
        }
        assert_eq!(
            arm(29, B, P, s_for(0x0400_0000)),
            Err(RelocError::OutOfRange {
                r_type: 29,
                from: P,
                to: (P as i64 + 8 + 0x0400_0000) as u32
            })
        );
        assert_eq!(
            RelocError::OutOfRange {
                r_type: 28,
                from: 0xbf00_0010,
                to: 0xc100_0000
            }
            .to_string(),
            "relocation 28 out of range (0xbf000010 -> 0xc1000000)"
        );
    }

    #[test]
    fn arm_interworking() {
        // BL to a Thumb function becomes BLX with H set from bit 1.
        let insn = arm(28, BL, P, func((P + 0x102) | 1)).unwrap();
        assert_eq!(insn >> 25, 0x7d, "BLX immediate");
        assert_eq!((insn >> 24) & 1, 1, "H: halfword offset");
        // B (JUMP24/PC24) cannot switch state.
        assert_eq!(
            arm(29, B, P, func((P + 0x100) | 1)),
            Err(RelocError::Interworking {
                r_type: 29,
                arm_to_thumb: true
            })
        );
        assert_eq!(
            RelocError::Interworking {
                r_type: 29,
                arm_to_thumb: true
            }
            .to_string(),
            "unsupported interworking call (ARM -> Thumb)"
        );
    }

    #[test]
    fn prel31_sign_extension_and_range() {
        // A negative addend (0x7ffffff0 = -16) with bit 31 set must keep bit 31.
        let r = arm(42, 0xffff_fff0, P, func(P + 0x20)).unwrap();
        assert_eq!(r, 0x8000_0010);
        assert_eq!(
            arm(42, 0, P, func(P.wrapping_add(0x3fff_fffc))),
            Ok(0x3fff_fffc)
        );
        assert!(
            arm(42, 0, 0x1000, func(0x4000_1000)).is_err(),
            "2^30 is out of range"
        );
        assert!(
            arm(42, 0, 0x4000_1000, func(0x1000)).is_ok(),
            "-2^30 is in range"
        );
    }

    #[test]
    fn arm_movw_movt() {
        // movw r0, #0 / movt r0, #0 -> 0xc0123456
        let movw = arm(43, 0xe300_0000, P, func(0xc012_3456)).unwrap();
        let movt = arm(44, 0xe340_0000, P, func(0xc012_3456)).unwrap();
        assert_eq!(movw, 0xe303_0456, "movw r0, #0x3456");
        assert_eq!(movt, 0xe34c_0012, "movt r0, #0xc012");
        // PREL: relative to the place.
        let w = arm(45, 0xe300_0000, 0x1000, func(0x1234)).unwrap();
        assert_eq!(w, 0xe300_0234);
    }

    fn thumb(
        r_type: u32,
        upper: u16,
        lower: u16,
        p: u32,
        s: Target,
    ) -> Result<(u16, u16), RelocError> {
        let mut loc = [0u8; 4];
        loc[..2].copy_from_slice(&upper.to_le_bytes());
        loc[2..].copy_from_slice(&lower.to_le_bytes());
        apply(r_type, &mut loc, p, s).map(|()| {
            (
                u16::from_le_bytes([loc[0], loc[1]]),
                u16::from_le_bytes([loc[2], loc[3]]),
            )
        })
    }

    /// Decodes a Thumb-2 BL/B.W offset (S:I1:I2:imm10:imm11:0).
    fn thumb_offset(upper: u16, lower: u16) -> i32 {
        let (u, l) = (upper as u32, lower as u32);
        let s = (u >> 10) & 1;
        let i1 = !((l >> 13) & 1 ^ s) & 1;
        let i2 = !((l >> 11) & 1 ^ s) & 1;
        sign_extend(
            (s << 24) | (i1 << 23) | (i2 << 22) | ((u & 0x3ff) << 12) | ((l & 0x7ff) << 1),
            24,
        )
    }

    #[test]
    fn thumb_branch_range_boundaries() {
        // BL with addend -4 (f7ff fffe): offset = S - P - 4 + 4.
        for (offset, ok) in [
            (0x00ff_fffei64, true),
            (0x0100_0000, false),
            (-0x00ff_fffe, true),
            (-0x0100_0000, false),
        ] {
            let s = Target {
                value: ((P as i64 + 4 + offset) as u32) | 1,
                is_func: true,
            };
            let r = thumb(10, 0xf7ff, 0xfffe, P, s);
            assert_eq!(r.is_ok(), ok, "offset {offset:#x}");
            if let Ok((u, l)) = r {
                assert_eq!(thumb_offset(u, l) as i64, offset, "encodes back");
                assert_eq!(l & 0xd000, 0xd000, "still BL");
            }
        }
    }

    #[test]
    fn thumb_interworking() {
        // THM_CALL to an ARM function: BLX, bit 12 clear, target word-aligned.
        let (_, l) = thumb(10, 0xf7ff, 0xfffe, P + 2, func(P + 0x100)).unwrap();
        assert_eq!(l & 0x1000, 0, "BLX");
        // THM_JUMP24 to an ARM function: refused.
        assert_eq!(
            thumb(30, 0xf7ff, 0xbffe, P, func(P + 0x100)),
            Err(RelocError::Interworking {
                r_type: 30,
                arm_to_thumb: false
            })
        );
        // ... but to a non-function symbol (no ARM/Thumb disposition): allowed.
        assert!(
            thumb(
                30,
                0xf7ff,
                0xbffe,
                P,
                Target {
                    value: P + 0x100,
                    is_func: false
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn thumb_movw_movt() {
        // movw r0, #0 (f240 0000) / movt r0, #0 (f2c0 0000) -> 0xc0123456
        assert_eq!(
            thumb(47, 0xf240, 0x0000, P, func(0xc012_3456)),
            Ok((0xf243, 0x4056))
        );
        assert_eq!(
            thumb(48, 0xf2c0, 0x0000, P, func(0xc012_3456)),
            Ok((0xf2cc, 0x0012))
        );
    }

    /// `apply` writes nothing when it fails, so `link` decodes a refused
    /// branch's addend after the attempt and gets what it held before (it
    /// decoded it before every relocation). Every type, known or not, over
    /// places and targets that fail on both sides of the branch ranges
    /// and of interworking; the successes change the place.
    #[test]
    fn a_refused_relocation_leaves_its_place() {
        let words = [
            0,
            BL,
            B,
            0xfaff_fffe,
            0xe12f_ff1e,
            0x7fff_ffff,
            0xf7ff_fffe,
            0xbffe_f7ff,
            0xffff_ffff,
        ];
        let targets = [
            0,
            1,
            2,
            3,
            P,
            P + 1,
            P.wrapping_add(0x01ff_fff8),
            P.wrapping_add(0x0200_0008),
            P.wrapping_sub(0x0200_0008),
            P.wrapping_add(0x00ff_fffc),
            P.wrapping_add(0x0100_0004),
            0x4000_0000,
            0xc000_0001,
        ];
        let (mut refused, mut applied) = (0, 0);
        for r_type in (0..=60).chain([99, 1000]) {
            for &w in &words {
                for &value in &targets {
                    for is_func in [false, true] {
                        let before = w.to_le_bytes();
                        let mut loc = before;
                        let old_addend = branch_addend(r_type, &loc);
                        if apply(r_type, &mut loc, P, Target { value, is_func }).is_err() {
                            assert_eq!(loc, before, "{r_type} {w:#x} {value:#x}");
                            assert_eq!(branch_addend(r_type, &loc), old_addend);
                            refused += 1;
                        } else {
                            applied += 1;
                        }
                    }
                }
            }
        }
        // Both sides were reached, branches refused for range and mode.
        assert!(refused > 1000 && applied > 1000, "{refused} {applied}");
        assert!(arm(R_ARM_CALL, BL, P, func(P.wrapping_add(0x0200_0008))).is_err());
        assert!(arm(R_ARM_JUMP24, B, P, func(P + 1)).is_err());
    }

    #[test]
    fn unknown_types_are_refused_by_number_and_name() {
        assert_eq!(
            arm(99, 0, P, func(0)),
            Err(RelocError::Unsupported { r_type: 99 })
        );
        assert_eq!(
            RelocError::Unsupported { r_type: 99 }.to_string(),
            "unknown relocation type 99"
        );
        assert_eq!(
            RelocError::Unsupported { r_type: 1000 }.to_string(),
            "unknown relocation type 1000"
        );
        let mut short = [0u8; 2];
        assert_eq!(
            apply(2, &mut short, 0, func(0)),
            Err(RelocError::ShortPlace)
        );
    }
}
