//! Watching the loader work: every section placed, every undefined symbol
//! resolved, every relocation applied, as events sent to a [`Trace`] sink
//! while [`crate::link::link_traced`] runs. `insmod -v` prints them on the
//! console, `cargo xtask modlink --explain` on stdout, and the host tests
//! record them — one sink trait, so all three show the same thing.
//!
//! Linux has no such switch (its loader is read with `pr_debug` under
//! dynamic debug, which says far less); Kobold is for learning, and what a
//! relocation *does* — `S + A - P`, the instruction word before and after —
//! is the lesson.
//!
//! Tracing must not change what loading can fail with: an event borrows
//! its names from the file, holds only numbers, and its [`fmt::Display`]
//! writes straight into the sink's writer (the kernel's printk), so
//! nothing here allocates and `insmod -v` stays inside the fault-injection
//! guarantees of the insmod path. The default sink, [`NoTrace`], does
//! nothing.

use crate::layout::{Group, Region};
use crate::relocate::{self, *};
use core::fmt;

/// Where a section was placed (after the regions got their addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionEvent<'a> {
    pub name: &'a str,
    pub region: Region,
    pub group: Group,
    pub addr: u32,
    pub size: u32,
    pub align: u32,
}

/// How an undefined symbol got its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolFrom<'a> {
    /// The resolver (kernel or another module; the sink may know which).
    Resolver,
    /// Unknown but weak: 0, as Linux.
    Weak,
    /// A sink-supplied provenance (the kernel's "module `name`").
    Named(&'a str),
}

/// An undefined symbol resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SymbolEvent<'a> {
    pub name: &'a str,
    pub value: u32,
    pub from: SymbolFrom<'a>,
}

/// A relocation applied: at `section + offset` (address `p`), type
/// `r_type` against `symbol` (value `s`), addend `a`, giving `result`;
/// the 32-bit word at the place `before` and `after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelocEvent<'a> {
    pub section: &'a str,
    pub offset: u32,
    pub r_type: u32,
    pub symbol: &'a str,
    pub s: u32,
    pub a: i32,
    pub p: u32,
    /// The value the type computes (`S + A`, `S + A - P`; MOVT: its upper
    /// half), with `S` the veneer when the branch goes through one.
    pub result: u32,
    pub before: u32,
    pub after: u32,
    /// The PLT veneer the branch goes through, if it could not reach.
    pub via_plt: Option<u32>,
}

/// A sink for the loader's events. Every method defaults to doing nothing.
pub trait Trace {
    fn section(&mut self, _e: &SectionEvent<'_>) {}
    fn symbol(&mut self, _e: &SymbolEvent<'_>) {}
    fn reloc(&mut self, _e: &RelocEvent<'_>) {}
    /// Whether the sink looks at events at all: when it does not, the
    /// linker does not make them (a relocation's event decodes the addend
    /// and reads the word before and after: work an `insmod` without `-v`
    /// would throw away). Defaults to `true`.
    fn enabled(&self) -> bool {
        true
    }
}

/// The sink that ignores everything (what [`crate::link::link`] uses).
pub struct NoTrace;

impl Trace for NoTrace {
    fn enabled(&self) -> bool {
        false
    }
}

/// A sink printing every event, one line each, to a [`fmt::Write`]
/// (`cargo xtask modlink --explain`; the first write error is kept).
pub struct WriteTrace<'w> {
    pub out: &'w mut dyn fmt::Write,
    pub result: fmt::Result,
}

impl<'w> WriteTrace<'w> {
    pub fn new(out: &'w mut dyn fmt::Write) -> Self {
        WriteTrace {
            out,
            result: Ok(()),
        }
    }
}

impl Trace for WriteTrace<'_> {
    fn section(&mut self, e: &SectionEvent<'_>) {
        self.result = self.result.and_then(|_| writeln!(self.out, "{e}"));
    }
    fn symbol(&mut self, e: &SymbolEvent<'_>) {
        self.result = self.result.and_then(|_| writeln!(self.out, "{e}"));
    }
    fn reloc(&mut self, e: &RelocEvent<'_>) {
        self.result = self.result.and_then(|_| writeln!(self.out, "{e}"));
    }
}

pub(crate) fn region_name(r: Region) -> &'static str {
    match r {
        Region::Core => "core",
        Region::Init => "init",
    }
}

/// The group's name as `pt --module` and the trace print it.
pub fn group_name(g: Group) -> &'static str {
    match g {
        Group::Text => "text",
        Group::Rodata => "rodata",
        Group::RoAfterInit => "ro_after_init",
        Group::Data => "data",
    }
}

impl fmt::Display for SectionEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "section {:<20} {} {:<13} at {:#010x} size {:#x} align {}",
            self.name,
            region_name(self.region),
            group_name(self.group),
            self.addr,
            self.size,
            self.align
        )
    }
}

impl fmt::Display for SymbolEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "symbol  {} -> {:#010x}", self.name, self.value)?;
        match self.from {
            SymbolFrom::Resolver => write!(f, " (resolved)"),
            SymbolFrom::Weak => write!(f, " (weak, undefined: 0)"),
            SymbolFrom::Named(n) => write!(f, " (from {n})"),
        }
    }
}

impl fmt::Display for RelocEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "reloc   {}+{:#x} {} {}: S={:#010x} A={}{:#x} P={:#010x} result={:#010x} word {:08x} -> {:08x}",
            self.section,
            self.offset,
            relocate::name(self.r_type).unwrap_or("R_ARM_?"),
            self.symbol,
            self.s,
            if self.a < 0 { "-" } else { "" },
            self.a.unsigned_abs(),
            self.p,
            self.result,
            self.before,
            self.after
        )?;
        if let Some(v) = self.via_plt {
            write!(f, " via PLT veneer at {v:#010x}")?;
        }
        Ok(())
    }
}

const fn sign_extend(v: u32, bit: u32) -> i32 {
    let shift = 31 - bit;
    ((v << shift) as i32) >> shift
}

/// The implicit addend (REL relocations keep it in the place) of a
/// relocation of type `r_type` whose place holds `loc`, as
/// [`relocate::apply`] decodes it; 0 for types without one.
pub fn addend(r_type: u32, loc: &[u8]) -> i32 {
    let Some(w) = loc.get(0..4) else {
        return 0;
    };
    let word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
    let (upper, lower) = (word & 0xffff, word >> 16);
    match r_type {
        R_ARM_ABS32 | R_ARM_TARGET1 | R_ARM_REL32 => word as i32,
        R_ARM_PREL31 => sign_extend(word, 30),
        R_ARM_PC24 | R_ARM_CALL | R_ARM_JUMP24 | R_ARM_THM_CALL | R_ARM_THM_JUMP24 => {
            relocate::branch_addend(r_type, loc).unwrap_or(0)
        }
        R_ARM_MOVW_ABS_NC | R_ARM_MOVT_ABS | R_ARM_MOVW_PREL_NC | R_ARM_MOVT_PREL => {
            sign_extend(((word & 0xf_0000) >> 4) | (word & 0xfff), 15)
        }
        R_ARM_THM_MOVW_ABS_NC
        | R_ARM_THM_MOVT_ABS
        | R_ARM_THM_MOVW_PREL_NC
        | R_ARM_THM_MOVT_PREL => {
            let imm = ((upper & 0x000f) << 12)
                | ((upper & 0x0400) << 1)
                | ((lower & 0x7000) >> 4)
                | (lower & 0x00ff);
            sign_extend(imm, 15)
        }
        _ => 0,
    }
}

/// What relocation `r_type` computes from `S`, `A` and `P` (AAELF32's
/// formula; the Thumb bit of a branch target dropped, a MOVT's upper half).
pub fn result(r_type: u32, s: u32, a: i32, p: u32) -> u32 {
    let sa = s.wrapping_add(a as u32);
    match r_type {
        R_ARM_ABS32 | R_ARM_TARGET1 | R_ARM_MOVW_ABS_NC | R_ARM_THM_MOVW_ABS_NC => sa,
        R_ARM_MOVT_ABS | R_ARM_THM_MOVT_ABS => sa >> 16,
        R_ARM_REL32 | R_ARM_PREL31 | R_ARM_MOVW_PREL_NC | R_ARM_THM_MOVW_PREL_NC => {
            sa.wrapping_sub(p)
        }
        R_ARM_MOVT_PREL | R_ARM_THM_MOVT_PREL => sa.wrapping_sub(p) >> 16,
        R_ARM_PC24 | R_ARM_CALL | R_ARM_JUMP24 | R_ARM_THM_CALL | R_ARM_THM_JUMP24 => {
            (s & !1).wrapping_add(a as u32).wrapping_sub(p)
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::link::{Resolver, link_traced};
    use crate::relocate::Target;
    use alloc::vec;
    use alloc::vec::Vec;
    use std::string::{String, ToString};

    type RelocRow = (
        String,
        u32,
        u32,
        String,
        u32,
        i32,
        u32,
        u32,
        u32,
        u32,
        Option<u32>,
    );

    /// Records every event (owning copies of the names).
    #[derive(Default)]
    struct Record {
        sections: Vec<(String, Region, Group, u32, u32, u32)>,
        symbols: Vec<(String, u32, bool)>,
        relocs: Vec<RelocRow>,
    }

    impl Trace for Record {
        fn section(&mut self, e: &SectionEvent<'_>) {
            self.sections.push((
                e.name.to_string(),
                e.region,
                e.group,
                e.addr,
                e.size,
                e.align,
            ));
        }
        fn symbol(&mut self, e: &SymbolEvent<'_>) {
            self.symbols
                .push((e.name.to_string(), e.value, e.from == SymbolFrom::Weak));
        }
        fn reloc(&mut self, e: &RelocEvent<'_>) {
            self.relocs.push((
                e.section.to_string(),
                e.offset,
                e.r_type,
                e.symbol.to_string(),
                e.s,
                e.a,
                e.p,
                e.result,
                e.before,
                e.after,
                e.via_plt,
            ));
        }
    }

    struct Printk(u32);
    impl Resolver for Printk {
        fn resolve(&self, name: &str) -> Option<Target> {
            (name == "printk").then_some(Target {
                value: self.0,
                is_func: true,
            })
        }
    }

    fn traced(printk: u32) -> (Record, u32) {
        let bytes = crate::elf::tests_support::module_bytes();
        let m = crate::validate(&bytes).unwrap();
        let l = crate::layout::layout(&m).unwrap();
        let mut core = vec![0; l.core_size as usize];
        let mut init = vec![0; l.init_size as usize];
        let mut rec = Record::default();
        let base = 0xbf00_0000;
        link_traced(
            &m,
            &l,
            &mut core,
            base,
            &mut init,
            0xbf10_0000,
            &Printk(printk),
            &mut rec,
        )
        .unwrap();
        let text = l.placements[m.section_by_name(".text").unwrap().index as usize].unwrap();
        (rec, base + text.offset)
    }

    #[test]
    fn events_carry_placement_resolution_and_arithmetic() {
        let printk = 0xc001_0000;
        let (rec, text) = traced(printk);
        // .text placed in the core text group, with its size and alignment.
        let t = rec.sections.iter().find(|s| s.0 == ".text").unwrap();
        assert_eq!(
            (t.1, t.2, t.3, t.4, t.5),
            (Region::Core, Group::Text, text, 16, 4)
        );
        let d = rec.sections.iter().find(|s| s.0 == ".data").unwrap();
        assert_eq!((d.1, d.2), (Region::Core, Group::Data));
        assert!(rec.sections.iter().all(|s| s.0 != ".modinfo"));
        // printk resolved by the resolver.
        assert_eq!(rec.symbols, vec![("printk".to_string(), printk, false)]);
        // The BL at .text+4: S = printk, A = -8 (0xfffffe << 2), P, and
        // S + A - P, which the new word encodes.
        let [r] = &rec.relocs[..] else {
            panic!("{:?}", rec.relocs)
        };
        let p = text + 4;
        assert_eq!(r.0, ".text");
        assert_eq!((r.1, r.2), (4, R_ARM_CALL));
        assert_eq!(r.3, "printk");
        assert_eq!((r.4, r.5, r.6), (printk, -8, p));
        assert_eq!(r.7, printk.wrapping_sub(8).wrapping_sub(p));
        assert_eq!(r.8, 0xebff_fffe);
        assert_eq!(r.9 & 0xff00_0000, 0xeb00_0000);
        assert_eq!(((r.9 << 8) as i32 >> 6) as u32, r.7);
        assert_eq!(r.10, None);
    }

    #[test]
    fn a_far_branch_names_its_veneer() {
        let (rec, text) = traced(0x4000_0000);
        let r = &rec.relocs[0];
        let veneer = r.10.expect("through the PLT");
        // The BL reaches the veneer: P + 8 + result = veneer.
        let p = text + 4;
        assert_eq!(p.wrapping_add(8).wrapping_add(r.7), veneer);
        assert_eq!(((r.9 << 8) as i32 >> 6) as u32, r.7);
        assert_eq!(r.4, 0x4000_0000);
    }

    /// A sink that does not listen (`NoTrace`: no events made) links to
    /// the same bytes and addresses as one that records every event, for a
    /// branch that reaches and one through a PLT veneer.
    #[test]
    fn a_quiet_link_is_the_same_link() {
        assert!(!NoTrace.enabled());
        assert!(Record::default().enabled());
        let bytes = crate::elf::tests_support::module_bytes();
        let m = crate::validate(&bytes).unwrap();
        let l = crate::layout::layout(&m).unwrap();
        for printk in [0xc001_0000, 0x4000_0000] {
            let run = |sink: &mut dyn Trace| {
                let mut core = vec![0; l.core_size as usize];
                let mut init = vec![0; l.init_size as usize];
                let linked = link_traced(
                    &m,
                    &l,
                    &mut core,
                    0xbf00_0000,
                    &mut init,
                    0xbf10_0000,
                    &Printk(printk),
                    sink,
                )
                .unwrap();
                (core, init, linked.symbol_addrs)
            };
            let mut rec = Record::default();
            let loud = run(&mut rec);
            assert_eq!(rec.relocs.len(), 1);
            assert_eq!(run(&mut NoTrace), loud, "printk at {printk:#x}");
        }
    }

    #[test]
    fn lines_read_as_documented() {
        let ev = RelocEvent {
            section: ".text",
            offset: 4,
            r_type: R_ARM_CALL,
            symbol: "printk",
            s: 0xc001_0000,
            a: -8,
            p: 0xbf00_0004,
            result: 0x0101_fff4,
            before: 0xebff_fffe,
            after: 0xeb40_7ffd,
            via_plt: Some(0xbf00_0010),
        };
        assert_eq!(
            ev.to_string(),
            "reloc   .text+0x4 R_ARM_CALL printk: S=0xc0010000 A=-0x8 P=0xbf000004 \
             result=0x0101fff4 word ebfffffe -> eb407ffd via PLT veneer at 0xbf000010"
        );
        let s = SymbolEvent {
            name: "foo",
            value: 0,
            from: SymbolFrom::Weak,
        };
        assert_eq!(
            s.to_string(),
            "symbol  foo -> 0x00000000 (weak, undefined: 0)"
        );
    }

    #[test]
    fn addends_and_results_by_type() {
        assert_eq!(addend(R_ARM_ABS32, &[4, 0, 0, 0]), 4);
        assert_eq!(result(R_ARM_ABS32, 0x1000, 4, 0), 0x1004);
        assert_eq!(result(R_ARM_REL32, 0x1000, 4, 0x10), 0xff4);
        // movt r0, #0x1234 holds 0x1234 as its addend; the result is the upper half.
        let movw = 0xe300_0000u32 | (0x1 << 16) | 0x234;
        assert_eq!(addend(R_ARM_MOVW_ABS_NC, &movw.to_le_bytes()), 0x1234);
        assert_eq!(result(R_ARM_MOVT_ABS, 0xbf00_0000, 0x1234, 0), 0xbf00);
        assert_eq!(addend(R_ARM_V4BX, &[0; 4]), 0);
        assert_eq!(addend(R_ARM_ABS32, &[0; 2]), 0);
    }
}
