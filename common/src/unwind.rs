//! The ARM EHABI stack unwinder of oops backtraces (Linux's
//! CONFIG_ARM_UNWIND, arch/arm/kernel/unwind.c).
//!
//! Compilers describe, for every function, how to undo its prologue: the
//! `.ARM.exidx` index holds one 8-byte entry per function, sorted by
//! address — a PREL31 offset to the function's start and either
//! `EXIDX_CANTUNWIND` (1), an inline compact entry (bit 31 set: personality
//! routine 0, three bytes of unwind instructions), or a PREL31 offset to an
//! `.ARM.extab` entry (compact `__aeabi_unwind_cpp_pr0/1/2`: one word, or
//! `1 + N` words for pr1/pr2). The instructions ("ARM Exception Handling
//! ABI", section 10.3) move the virtual stack pointer and pop saved
//! registers; running them from the faulting PC's frame yields the caller's
//! `pc`, `sp` and `lr`, and so on up the stack.
//!
//! As in Linux, the index is binary-searched for the last function start at
//! or below PC ([`find_index`]); an address without an entry, a `refuse to
//! unwind` or spare instruction, a personality routine other than the
//! compact ones, a stack pointer that leaves its bounds or does not move
//! up, and a frame that repeats itself all end the walk with an
//! [`UnwindError`] — the backtrace stops there, it never loops (the caller
//! also bounds the depth: [`MAX_DEPTH`]).
//!
//! Every word is read through [`Memory`], which the kernel implements over
//! the ranges it knows are mapped (the image, module memory, the stack),
//! so a damaged table or stack makes the walk stop, never fault. This file
//! contains no `unsafe` and is host-tested with hand-made tables.

/// Where a frame's words come from: `None` for an address the reader does
/// not vouch for.
pub trait Memory {
    fn read_u32(&self, addr: u32) -> Option<u32>;
}

/// The index word that says a function cannot be unwound.
pub const EXIDX_CANTUNWIND: u32 = 1;
/// Frames a backtrace prints at most (Linux has no bound but the stack's;
/// a damaged stack must not print forever).
pub const MAX_DEPTH: usize = 32;

/// r0..r15 of one frame; `sp` = r13, `lr` = r14, `pc` = r15.
pub type Regs = [u32; 16];
pub const SP: usize = 13;
pub const LR: usize = 14;
pub const PC: usize = 15;

/// Why a walk stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnwindError {
    /// No index entry covers the address.
    NoEntry,
    /// `EXIDX_CANTUNWIND`, or the `refuse to unwind` instruction.
    CantUnwind,
    /// A word of the table or the stack could not be read.
    BadRead,
    /// A personality routine other than the compact pr0/pr1/pr2.
    Personality(u32),
    /// A spare or reserved instruction (its first byte).
    BadInstruction(u8),
    /// The stack pointer left the stack, or did not move up.
    BadStack,
    /// The frame is the one just unwound.
    Loop,
}

/// Sign-extends a PREL31 word at `at` to the address it points to.
pub const fn prel31(at: u32, word: u32) -> u32 {
    let off = ((word << 1) as i32) >> 1;
    at.wrapping_add(off as u32)
}

/// One `.ARM.exidx` table: `[start, end)`, 8-byte entries sorted by
/// function start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Index {
    pub start: u32,
    pub end: u32,
}

/// The entry of `table` for the function holding `pc`: `(entry address,
/// function start)`, Linux's `search_index`.
pub fn find_index(mem: &dyn Memory, table: Index, pc: u32) -> Option<(u32, u32)> {
    let n = table.end.checked_sub(table.start)? / 8;
    // Last entry whose function start is <= pc.
    let (mut lo, mut hi) = (0u32, n);
    let mut found = None;
    while lo < hi {
        let m = lo + (hi - lo) / 2;
        let at = table.start + m * 8;
        let fn_start = prel31(at, mem.read_u32(at)?);
        if fn_start <= pc {
            found = Some((at, fn_start));
            lo = m + 1;
        } else {
            hi = m;
        }
    }
    found
}

/// The entry for `pc` among several tables (a module has one per text
/// section): the one with the greatest function start at or below `pc`.
pub fn find_in(mem: &dyn Memory, tables: &[Index], pc: u32) -> Option<(u32, u32)> {
    tables
        .iter()
        .filter_map(|&t| find_index(mem, t, pc))
        .max_by_key(|&(_, start)| start)
}

/// Reads the unwind instruction bytes of one index entry.
struct Insns<'m> {
    mem: &'m dyn Memory,
    /// Address of the current word.
    at: u32,
    word: u32,
    /// Next byte of `word` (3 = most significant); -1 = word used up.
    byte: i32,
    /// Words left after `word`.
    words_left: u32,
}

impl Insns<'_> {
    fn next(&mut self) -> Option<u8> {
        if self.byte < 0 {
            if self.words_left == 0 {
                return None;
            }
            self.words_left -= 1;
            self.at = self.at.wrapping_add(4);
            self.word = self.mem.read_u32(self.at)?;
            self.byte = 3;
        }
        let b = (self.word >> (self.byte * 8)) as u8;
        self.byte -= 1;
        Some(b)
    }
}

/// The instructions of the entry at `entry` (Linux's `unwind_frame` setup).
fn instructions(mem: &dyn Memory, entry: u32) -> Result<Insns<'_>, UnwindError> {
    let word = mem
        .read_u32(entry.wrapping_add(4))
        .ok_or(UnwindError::BadRead)?;
    if word == EXIDX_CANTUNWIND {
        return Err(UnwindError::CantUnwind);
    }
    let (at, word) = if word & 0x8000_0000 != 0 {
        (entry.wrapping_add(4), word)
    } else {
        let at = prel31(entry.wrapping_add(4), word);
        (at, mem.read_u32(at).ok_or(UnwindError::BadRead)?)
    };
    if word & 0x8000_0000 == 0 {
        // A generic personality routine (C++ exceptions): not ours.
        return Err(UnwindError::Personality(prel31(at, word)));
    }
    match (word >> 24) & 0x7f {
        // pr0: three instruction bytes in this word.
        0 => Ok(Insns {
            mem,
            at,
            word,
            byte: 2,
            words_left: 0,
        }),
        // pr1/pr2: a count of further words, two bytes here.
        1 | 2 => Ok(Insns {
            mem,
            at,
            word,
            byte: 1,
            words_left: (word >> 16) & 0xff,
        }),
        p => Err(UnwindError::Personality(p)),
    }
}

/// Runs the instructions of the entry at `entry` on `regs` (a frame whose
/// `pc` is in the entry's function) and leaves the caller's frame in it;
/// the stack must stay in `[regs[SP], stack_top)`.
pub fn unwind_entry(
    mem: &dyn Memory,
    entry: u32,
    regs: &mut Regs,
    stack_top: u32,
) -> Result<(), UnwindError> {
    let mut insns = instructions(mem, entry)?;
    let mut vrs = *regs;
    let mut pc_set = false;
    let low = regs[SP];
    let pop = |vrs: &mut Regs, mask: u32, first: usize| -> Result<(), UnwindError> {
        let mut vsp = vrs[SP];
        let load_sp = mask & (1 << (SP - first)) != 0;
        for (bit, reg) in vrs.iter_mut().skip(first).enumerate() {
            if mask & (1 << bit) != 0 {
                if vsp < low || vsp >= stack_top {
                    return Err(UnwindError::BadStack);
                }
                *reg = mem.read_u32(vsp).ok_or(UnwindError::BadRead)?;
                vsp = vsp.wrapping_add(4);
            }
        }
        if !load_sp {
            vrs[SP] = vsp;
        }
        Ok(())
    };
    while let Some(b) = insns.next() {
        match b {
            0x00..=0x3f => vrs[SP] = vrs[SP].wrapping_add(((b as u32 & 0x3f) << 2) + 4),
            0x40..=0x7f => vrs[SP] = vrs[SP].wrapping_sub(((b as u32 & 0x3f) << 2) + 4),
            0x80..=0x8f => {
                let b2 = insns.next().ok_or(UnwindError::BadRead)?;
                let mask = ((b as u32 & 0x0f) << 8) | b2 as u32;
                if mask == 0 {
                    return Err(UnwindError::CantUnwind);
                }
                pop(&mut vrs, mask, 4)?;
                pc_set |= mask & (1 << (PC - 4)) != 0;
            }
            0x9d | 0x9f => return Err(UnwindError::BadInstruction(b)),
            0x90..=0x9f => vrs[SP] = vrs[(b & 0x0f) as usize],
            0xa0..=0xa7 => pop(&mut vrs, (1 << ((b & 7) + 1)) - 1, 4)?,
            0xa8..=0xaf => {
                pop(&mut vrs, ((1 << ((b & 7) + 1)) - 1) | (1 << (LR - 4)), 4)?;
            }
            0xb0 => break,
            0xb1 => {
                let mask = insns.next().ok_or(UnwindError::BadRead)?;
                if mask == 0 || mask & 0xf0 != 0 {
                    return Err(UnwindError::BadInstruction(b));
                }
                pop(&mut vrs, mask as u32, 0)?;
            }
            0xb2 => {
                // vsp += 0x204 + (uleb128 << 2); at most 5 bytes.
                let mut v: u32 = 0;
                let mut shift = 0;
                loop {
                    let x = insns.next().ok_or(UnwindError::BadRead)?;
                    if shift > 28 {
                        return Err(UnwindError::BadInstruction(b));
                    }
                    v |= ((x & 0x7f) as u32) << shift;
                    shift += 7;
                    if x & 0x80 == 0 {
                        break;
                    }
                }
                vrs[SP] = vrs[SP].wrapping_add(0x204).wrapping_add(v.wrapping_shl(2));
            }
            // VFP/iWMMXt saves: skip the slots (a soft-float kernel never
            // restores them).
            0xb3 | 0xc8 | 0xc9 | 0xc6 => {
                let x = insns.next().ok_or(UnwindError::BadRead)?;
                let n = (x as u32 & 0x0f) + 1;
                let extra = if b == 0xb3 { 4 } else { 0 };
                vrs[SP] = vrs[SP].wrapping_add(n * 8 + extra);
            }
            0xb8..=0xbf => vrs[SP] = vrs[SP].wrapping_add((b as u32 & 7) * 8 + 8 + 4),
            0xc0..=0xc5 | 0xd0..=0xd7 => vrs[SP] = vrs[SP].wrapping_add((b as u32 & 7) * 8 + 8),
            0xc7 => {
                let x = insns.next().ok_or(UnwindError::BadRead)?;
                if x == 0 || x & 0xf0 != 0 {
                    return Err(UnwindError::BadInstruction(b));
                }
                vrs[SP] = vrs[SP].wrapping_add(4 * x.count_ones());
            }
            _ => return Err(UnwindError::BadInstruction(b)),
        }
    }
    if !pc_set {
        vrs[PC] = vrs[LR];
    }
    // Linux: the stack only grows down, so the caller's sp is not below
    // ours, and a frame that unwinds to itself would loop.
    if vrs[SP] < regs[SP] || vrs[SP] > stack_top {
        return Err(UnwindError::BadStack);
    }
    if vrs[PC] == regs[PC] && vrs[SP] == regs[SP] {
        return Err(UnwindError::Loop);
    }
    *regs = vrs;
    Ok(())
}

/// One backtrace line: `where` was executing and was called from `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub at: u32,
    pub from: u32,
}

/// Linux's `unwind_backtrace`: from the faulting frame `regs`, calls `step`
/// once per unwound frame (at most [`MAX_DEPTH`]) and returns why it
/// stopped. `tables` says which index tables cover an address (the
/// kernel's, or a module's). Return addresses are looked up at `pc - 1`:
/// a call that is a function's last instruction (a call to a `-> !`
/// function) returns past the function's end.
pub fn backtrace<'t>(
    mem: &dyn Memory,
    tables: &dyn Fn(u32) -> &'t [Index],
    mut regs: Regs,
    stack_top: u32,
    step: &mut dyn FnMut(Step),
) -> UnwindError {
    for depth in 0..MAX_DEPTH {
        let at = regs[PC];
        // Thumb bit off; caller frames look inside the call.
        let look = (at & !1).wrapping_sub(if depth == 0 { 0 } else { 1 });
        let Some((entry, _)) = find_in(mem, tables(look), look) else {
            return UnwindError::NoEntry;
        };
        if let Err(e) = unwind_entry(mem, entry, &mut regs, stack_top) {
            return e;
        }
        step(Step { at, from: regs[PC] });
    }
    UnwindError::Loop
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// A flat memory: words from `base`.
    struct Mem {
        base: u32,
        words: Vec<u32>,
    }

    impl Memory for Mem {
        fn read_u32(&self, addr: u32) -> Option<u32> {
            if !addr.is_multiple_of(4) {
                return None;
            }
            let i = addr.checked_sub(self.base)? / 4;
            self.words.get(i as usize).copied()
        }
    }

    const BASE: u32 = 0x1000;
    const STACK: u32 = 0x2000;
    const TOP: u32 = 0x2100;

    /// A PREL31 word at `at` pointing to `to`.
    fn p31(at: u32, to: u32) -> u32 {
        to.wrapping_sub(at) & 0x7fff_ffff
    }

    /// Memory with an index of `(function start, second word)` at BASE (the
    /// second word as given, unless it is `Extab(i)`), extra words after
    /// it, and the stack words at STACK.
    fn mem(entries: &[(u32, u32)], extab: &[u32], stack: &[u32]) -> (Mem, Index, u32) {
        let mut words = Vec::new();
        for (i, &(f, w)) in entries.iter().enumerate() {
            let at = BASE + 8 * i as u32;
            words.push(p31(at, f));
            words.push(w);
        }
        let index = Index {
            start: BASE,
            end: BASE + 8 * entries.len() as u32,
        };
        let extab_at = index.end;
        words.extend_from_slice(extab);
        let stack_word = ((STACK - BASE) / 4) as usize;
        words.resize(stack_word, 0);
        words.extend_from_slice(stack);
        words.resize(((TOP - BASE) / 4) as usize, 0);
        (Mem { base: BASE, words }, index, extab_at)
    }

    fn regs(pc: u32, sp: u32, lr: u32) -> Regs {
        let mut r = [0; 16];
        r[PC] = pc;
        r[SP] = sp;
        r[LR] = lr;
        r
    }

    /// Inline pr0 entry with three instruction bytes.
    fn inline(b: [u8; 3]) -> u32 {
        0x8000_0000 | (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32
    }

    #[test]
    fn prel31_sign_extends() {
        assert_eq!(prel31(0x1000, 0x10), 0x1010);
        assert_eq!(prel31(0x1000, 0x7fff_fff0), 0x0ff0);
        // Bit 31 is not part of the offset.
        assert_eq!(prel31(0x1000, 0x8000_0010), 0x1010);
    }

    #[test]
    fn binary_search_finds_the_covering_function() {
        let e = [(0x100, 1), (0x200, 1), (0x300, 1), (0x400, 1)];
        let (m, idx, _) = mem(&e, &[], &[]);
        assert_eq!(find_index(&m, idx, 0xff), None);
        assert_eq!(find_index(&m, idx, 0x100), Some((BASE, 0x100)));
        assert_eq!(find_index(&m, idx, 0x2ff), Some((BASE + 8, 0x200)));
        assert_eq!(find_index(&m, idx, 0x300), Some((BASE + 16, 0x300)));
        assert_eq!(find_index(&m, idx, 0xffff), Some((BASE + 24, 0x400)));
        let empty = Index {
            start: BASE,
            end: BASE,
        };
        assert_eq!(find_index(&m, empty, 0x200), None);
        // Several tables: the closest start wins.
        let a = Index {
            start: BASE,
            end: BASE + 8,
        };
        let b = Index {
            start: BASE + 16,
            end: BASE + 24,
        };
        assert_eq!(find_in(&m, &[b, a], 0x350), Some((BASE + 16, 0x300)));
        assert_eq!(find_in(&m, &[b, a], 0x250), Some((BASE, 0x100)));
    }

    #[test]
    fn cantunwind_stops() {
        let (m, _, _) = mem(&[(0x100, EXIDX_CANTUNWIND)], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        assert_eq!(
            unwind_entry(&m, BASE, &mut r, TOP),
            Err(UnwindError::CantUnwind)
        );
        assert_eq!(r, regs(0x104, STACK, 0x500), "regs untouched");
    }

    #[test]
    fn finish_alone_returns_to_lr() {
        // A leaf: nothing saved.
        let (m, _, _) = mem(&[(0x100, inline([0xb0, 0xb0, 0xb0]))], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!((r[PC], r[SP], r[LR]), (0x500, STACK, 0x500));
    }

    #[test]
    fn vsp_adjustments() {
        // sub sp, #8 (undone: +8), then vsp -= 4, then +0x10 (0x03).
        let (m, _, _) = mem(&[(0x100, inline([0x01, 0x40, 0x03]))], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!(r[SP], STACK + 8 - 4 + 16);
        // vsp = r[n] (0x97: r7).
        let (m, _, _) = mem(&[(0x100, inline([0x97, 0xb0, 0xb0]))], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        r[7] = STACK + 0x20;
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!(r[SP], STACK + 0x20);
        // Reserved 0x9d / 0x9f.
        let (m, _, _) = mem(&[(0x100, inline([0x9d, 0xb0, 0xb0]))], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        assert_eq!(
            unwind_entry(&m, BASE, &mut r, TOP),
            Err(UnwindError::BadInstruction(0x9d))
        );
    }

    #[test]
    fn pop_r4_r14_short_form() {
        // push {r4, r5, r6, lr}: 0xaa = pop r4-r6, r14.
        let stack = [4, 5, 6, 0x700];
        let (m, _, _) = mem(&[(0x100, inline([0xaa, 0xb0, 0xb0]))], &[], &stack);
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!((r[4], r[5], r[6]), (4, 5, 6));
        assert_eq!((r[PC], r[LR], r[SP]), (0x700, 0x700, STACK + 16));
        // 0xa1: pop r4-r5 (no lr: pc = the old lr).
        let (m, _, _) = mem(&[(0x100, inline([0xa1, 0xb0, 0xb0]))], &[], &[9, 8]);
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!((r[4], r[5], r[PC], r[SP]), (9, 8, 0x500, STACK + 8));
    }

    #[test]
    fn pop_under_mask() {
        // 0x8? 0x??: pop {r4, r11, lr} = mask bits 0, 7, 10.
        let mask: u32 = 1 | 1 << 7 | 1 << 10;
        let b0 = 0x80 | (mask >> 8) as u8;
        let b1 = mask as u8;
        let (m, _, _) = mem(&[(0x100, inline([b0, b1, 0xb0]))], &[], &[4, 11, 0x900]);
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!((r[4], r[11], r[PC], r[SP]), (4, 11, 0x900, STACK + 12));
        // Popping pc directly (bit 11): pc from the stack, lr unchanged.
        let (m, _, _) = mem(&[(0x100, inline([0x88, 0x00, 0xb0]))], &[], &[0x950]);
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!((r[PC], r[LR], r[SP]), (0x950, 0x500, STACK + 4));
        // Popping sp (bit 9) takes the popped value.
        let (m, _, _) = mem(
            &[(0x100, inline([0x86, 0x00, 0xb0]))],
            &[],
            &[STACK + 0x40, 0x960],
        );
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!((r[SP], r[LR], r[PC]), (STACK + 0x40, 0x960, 0x960));
        // Mask 0: refuse to unwind.
        let (m, _, _) = mem(&[(0x100, inline([0x80, 0x00, 0xb0]))], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        assert_eq!(
            unwind_entry(&m, BASE, &mut r, TOP),
            Err(UnwindError::CantUnwind)
        );
    }

    #[test]
    fn pop_r0_r3_and_uleb_and_vfp() {
        // 0xb1 0x03: pop r0, r1; 0xb2 0x01: vsp += 0x204 + 4.
        let (m, _, _) = mem(&[(0x100, inline([0xb1, 0x03, 0xb0]))], &[], &[10, 11]);
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!((r[0], r[1], r[SP]), (10, 11, STACK + 8));
        let (m, _, _) = mem(&[(0x100, inline([0xb2, 0x01, 0xb0]))], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        assert_eq!(
            unwind_entry(&m, BASE, &mut r, 0x3000_0000),
            Ok(()),
            "stack top far away"
        );
        assert_eq!(r[SP], STACK + 0x204 + 4);
        // Two-byte uleb128 (0x81 0x01 = 129).
        let (m, _, extab) = mem(&[(0x100, 0)], &[0x8101_b281, 0x01b0_b0b0], &[]);
        let mut m = m;
        m.words[1] = p31(BASE + 4, extab);
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, 0x3000_0000).unwrap();
        assert_eq!(r[SP], STACK + 0x204 + 129 * 4);
        // 0xb1 with a bad mask.
        let (m, _, _) = mem(&[(0x100, inline([0xb1, 0x10, 0xb0]))], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        assert_eq!(
            unwind_entry(&m, BASE, &mut r, TOP),
            Err(UnwindError::BadInstruction(0xb1))
        );
        // VFP: 0xb9 = d8-d9 FSTMFDX (2*8+4), 0xc9 0x01 = d0-d1 (16).
        let (m, _, _) = mem(&[(0x100, inline([0xb9, 0xc9, 0x01]))], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!(r[SP], STACK + 20 + 16);
        // Spare.
        let (m, _, _) = mem(&[(0x100, inline([0xb4, 0xb0, 0xb0]))], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        assert_eq!(
            unwind_entry(&m, BASE, &mut r, TOP),
            Err(UnwindError::BadInstruction(0xb4))
        );
    }

    #[test]
    fn extab_pr0_pr1_and_generic() {
        // pr0 in .ARM.extab: 0x80 aa b0 b0.
        let (mut m, _, extab) = mem(&[(0x100, 0)], &[0x80aa_b0b0], &[1, 2, 3, 0x777]);
        m.words[1] = p31(BASE + 4, extab);
        let mut r = regs(0x104, STACK, 0x500);
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!((r[PC], r[SP]), (0x777, STACK + 16));
        // pr1 with one more word: 0x81 01 | 0x97 0xaa || b0 b0 b0 b0 —
        // vsp = r7, then pop r4-r6, lr.
        let (mut m, _, extab) = mem(
            &[(0x100, 0)],
            &[0x8101_97aa, 0xb0b0_b0b0],
            &[0, 0, 4, 5, 6, 0x888],
        );
        m.words[1] = p31(BASE + 4, extab);
        let mut r = regs(0x104, STACK, 0x500);
        r[7] = STACK + 8;
        unwind_entry(&m, BASE, &mut r, TOP).unwrap();
        assert_eq!((r[4], r[PC], r[SP]), (4, 0x888, STACK + 24));
        // A generic personality routine (bit 31 clear in the extab word).
        let (mut m, _, extab) = mem(&[(0x100, 0)], &[0x0000_0100], &[]);
        m.words[1] = p31(BASE + 4, extab);
        let mut r = regs(0x104, STACK, 0x500);
        assert!(matches!(
            unwind_entry(&m, BASE, &mut r, TOP),
            Err(UnwindError::Personality(_))
        ));
        // A personality index beyond 2.
        let (m, _, _) = mem(&[(0x100, 0x8300_b0b0)], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        assert_eq!(
            unwind_entry(&m, BASE, &mut r, TOP),
            Err(UnwindError::Personality(3))
        );
    }

    #[test]
    fn bad_stacks_and_reads_stop() {
        // Pops from beyond the stack top.
        let (m, _, _) = mem(&[(0x100, inline([0xaa, 0xb0, 0xb0]))], &[], &[]);
        let mut r = regs(0x104, TOP - 4, 0x500);
        assert_eq!(
            unwind_entry(&m, BASE, &mut r, TOP),
            Err(UnwindError::BadStack)
        );
        // sp moving down.
        let (m, _, _) = mem(&[(0x100, inline([0x40, 0xb0, 0xb0]))], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        assert_eq!(
            unwind_entry(&m, BASE, &mut r, TOP),
            Err(UnwindError::BadStack)
        );
        // An extab pointer to unreadable memory.
        let (m, _, _) = mem(&[(0x100, 0x0100_0000)], &[], &[]);
        let mut r = regs(0x104, STACK, 0x500);
        assert_eq!(
            unwind_entry(&m, BASE, &mut r, TOP),
            Err(UnwindError::BadRead)
        );
        // pr1 claiming 255 words that are not there.
        let (mut m, _, extab) = mem(&[(0x100, 0)], &[0x81ff_b0b0], &[]);
        m.words[1] = p31(BASE + 4, extab);
        m.words.truncate(((extab - BASE) / 4 + 1) as usize);
        let mut r = regs(0x104, STACK, 0x500);
        // The first two bytes are `finish`: done before the missing words.
        assert_eq!(unwind_entry(&m, BASE, &mut r, TOP), Ok(()));
    }

    #[test]
    fn backtrace_walks_and_stops() {
        // f (0x100) leaf, called from g (0x200) which pushed {r4, lr},
        // called from h (0x300) which pushed {lr}, called from k (0x400)
        // which cannot unwind.
        let e = [
            (0x100, inline([0xb0, 0xb0, 0xb0])),
            (0x200, inline([0xa8, 0xb0, 0xb0])),
            (0x300, inline([0xa8, 0xb0, 0xb0])),
            (0x400, EXIDX_CANTUNWIND),
        ];
        // g's frame: r4, lr=0x310; h's frame: r4, lr=0x404.
        let (m, idx, _) = mem(&e, &[], &[44, 0x310, 45, 0x404]);
        let tables = [idx];
        let mut steps = Vec::new();
        let why = backtrace(&m, &|_| &tables, regs(0x108, STACK, 0x20c), TOP, &mut |s| {
            steps.push(s)
        });
        assert_eq!(why, UnwindError::CantUnwind);
        assert_eq!(
            steps,
            [
                Step {
                    at: 0x108,
                    from: 0x20c
                },
                Step {
                    at: 0x20c,
                    from: 0x310
                },
                Step {
                    at: 0x310,
                    from: 0x404
                },
            ]
        );
        // A return address just past a function (a call to a `-> !` as
        // its last instruction) still finds the calling function.
        let e = [
            (0x100, inline([0xb0, 0xb0, 0xb0])),
            (0x200, EXIDX_CANTUNWIND),
        ];
        let (m, idx, _) = mem(&e, &[], &[]);
        let tables = [idx];
        let mut steps = Vec::new();
        let why = backtrace(&m, &|_| &tables, regs(0x104, STACK, 0x200), TOP, &mut |s| {
            steps.push(s)
        });
        // 0x200 - 1 is in 0x100's function, which is a leaf returning to
        // lr = 0x200 again: a loop, stopped.
        assert_eq!(why, UnwindError::Loop);
        assert_eq!(steps.len(), 1);
        // No table: nothing printed.
        let mut n = 0;
        let why = backtrace(&m, &|_| &[], regs(0x104, STACK, 0x200), TOP, &mut |_| {
            n += 1
        });
        assert_eq!((why, n), (UnwindError::NoEntry, 0));
    }

    #[test]
    fn garbage_never_panics() {
        // Every inline instruction triple on an all-ones stack.
        let stack = [u32::MAX; 64];
        for x in 0..=0xffffu32 {
            let b = [(x >> 8) as u8, x as u8, 0xb0];
            let (m, idx, _) = mem(&[(0x100, inline(b))], &[], &stack);
            let tables = [idx];
            let _ = backtrace(
                &m,
                &|_| &tables,
                regs(0x104, STACK, 0x100),
                TOP,
                &mut |_| {},
            );
        }
    }
}
