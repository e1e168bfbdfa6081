//! The registers saved on exception entry (`entry.S`), and their printout in
//! Linux's `__show_regs` format (arch/arm/kernel/process.c, 3.18).

use crate::kallsyms::{Table, write_symbol};
use core::fmt;

/// r0..r12, sp, lr, pc, cpsr of the interrupted context — Linux's
/// `struct pt_regs` without `orig_r0`. The layout is shared with entry.S.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PtRegs {
    pub r: [u32; 13],
    pub sp: u32,
    pub lr: u32,
    pub pc: u32,
    pub cpsr: u32,
}

/// CPSR.T: the context was executing Thumb code.
pub const PSR_T_BIT: u32 = 1 << 5;
const PSR_F_BIT: u32 = 1 << 6;
const PSR_I_BIT: u32 = 1 << 7;

/// Linux's `processor_modes[]` names for CPSR.M.
pub fn mode_name(cpsr: u32) -> &'static str {
    match cpsr & 0x1f {
        0x10 => "USER_32",
        0x11 => "FIQ_32",
        0x12 => "IRQ_32",
        0x13 => "SVC_32",
        0x16 => "MON_32",
        0x17 => "ABT_32",
        0x1a => "HYP_32",
        0x1b => "UND_32",
        0x1f => "SYSTEM_32",
        _ => "UK_32",
    }
}

/// The condition flags as Linux prints them: `NZCV`, lower case when clear.
pub fn flags(cpsr: u32) -> [u8; 4] {
    let mut f = *b"nzcv";
    for (i, c) in f.iter_mut().enumerate() {
        if cpsr & (1 << (31 - i)) != 0 {
            *c = c.to_ascii_uppercase();
        }
    }
    f
}

/// Extra system state printed after the registers.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemRegs {
    pub sctlr: u32,
    pub ttbr0: u32,
    pub dacr: u32,
}

impl PtRegs {
    /// Writes the register dump, one line per `line` call (so each gets its
    /// printk timestamp).
    pub fn show(
        &self,
        syms: Option<&Table<'_>>,
        sys: &SystemRegs,
        line: &mut dyn FnMut(fmt::Arguments<'_>),
    ) {
        let mut buf = SymBuf::default();
        let _ = write_symbol(&mut buf, syms, self.pc);
        line(format_args!("PC is at {}", buf.as_str()));
        let mut buf = SymBuf::default();
        let _ = write_symbol(&mut buf, syms, self.lr);
        line(format_args!("LR is at {}", buf.as_str()));
        let r = &self.r;
        line(format_args!(
            "pc : [<{:08x}>]    lr : [<{:08x}>]    psr: {:08x}",
            self.pc, self.lr, self.cpsr
        ));
        line(format_args!(
            "sp : {:08x}  ip : {:08x}  fp : {:08x}",
            self.sp, r[12], r[11]
        ));
        line(format_args!(
            "r10: {:08x}  r9 : {:08x}  r8 : {:08x}",
            r[10], r[9], r[8]
        ));
        line(format_args!(
            "r7 : {:08x}  r6 : {:08x}  r5 : {:08x}  r4 : {:08x}",
            r[7], r[6], r[5], r[4]
        ));
        line(format_args!(
            "r3 : {:08x}  r2 : {:08x}  r1 : {:08x}  r0 : {:08x}",
            r[3], r[2], r[1], r[0]
        ));
        let f = flags(self.cpsr);
        line(format_args!(
            "Flags: {}  IRQs {}  FIQs {}  Mode {}  ISA {}  Segment kernel",
            core::str::from_utf8(&f).unwrap_or("????"),
            if self.cpsr & PSR_I_BIT != 0 {
                "off"
            } else {
                "on"
            },
            if self.cpsr & PSR_F_BIT != 0 {
                "off"
            } else {
                "on"
            },
            mode_name(self.cpsr),
            if self.cpsr & PSR_T_BIT != 0 {
                "Thumb"
            } else {
                "ARM"
            },
        ));
        line(format_args!(
            "Control: {:08x}  Table: {:08x}  DAC: {:08x}",
            sys.sctlr, sys.ttbr0, sys.dacr
        ));
    }
}

/// Room for one `name+0xoff/0xsize` (long Rust paths are cut, not lost).
type SymBuf = crate::console::FixedBuf<160>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kallsyms::tests::build;

    #[test]
    fn show_regs_matches_linux_format() {
        let table = build(&[(0xc000_9000, 0x40, "tkernel::shell::crash")]);
        let syms = Table::parse(&table).unwrap();
        let mut regs = PtRegs {
            pc: 0xc000_9010,
            lr: 0xc000_1234,
            cpsr: 0x6000_01d3,
            ..Default::default()
        };
        regs.r[0] = 0xdead_beef;
        regs.r[11] = 0xc05f_ff00;
        let sys = SystemRegs {
            sctlr: 0x10c5_387d,
            ttbr0: 0x6000_406a,
            dacr: 0x15,
        };
        let mut lines = Vec::new();
        regs.show(Some(&syms), &sys, &mut |a| lines.push(a.to_string()));
        assert_eq!(lines[0], "PC is at kernel::shell::crash+0x10/0x40");
        assert_eq!(lines[1], "LR is at 0xc0001234");
        assert_eq!(
            lines[2],
            "pc : [<c0009010>]    lr : [<c0001234>]    psr: 600001d3"
        );
        assert_eq!(lines[3], "sp : 00000000  ip : 00000000  fp : c05fff00");
        assert_eq!(
            lines[6],
            "r3 : 00000000  r2 : 00000000  r1 : 00000000  r0 : deadbeef"
        );
        assert_eq!(
            lines[7],
            "Flags: nZCv  IRQs off  FIQs off  Mode SVC_32  ISA ARM  Segment kernel"
        );
        assert_eq!(
            lines[8],
            "Control: 10c5387d  Table: 6000406a  DAC: 00000015"
        );
    }
}
