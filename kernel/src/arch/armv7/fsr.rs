//! Decoding the fault status registers (DFSR, IFSR) of the short-descriptor
//! format (ARM ARM B4.1.52 / B4.1.96, table B3-23).
//!
//! The status is `FS[4]` (bit 10) : `FS[3:0]`; bit 11 (WnR) says a data abort was
//! caused by a write. Linux turns the same five bits into a message through
//! `fsr_info[]` (arch/arm/mm/fsr-2level.c); the names below are Linux's, so
//! an oops reads the same as on a real ARM board.

/// Which abort a fault status belongs to. Each has its own status and
/// address register and its own table of causes (Linux: `do_DataAbort`
/// with `fsr_info[]`, `do_PrefetchAbort` with `ifsr_info[]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abort {
    /// A data abort: the status in DFSR, the address in DFAR.
    Data,
    /// A prefetch abort: the status in IFSR, the address in IFAR.
    Prefetch,
}

impl Abort {
    /// The status register's name, as the oops prints it.
    pub const fn register(self) -> &'static str {
        match self {
            Abort::Data => "DFSR",
            Abort::Prefetch => "IFSR",
        }
    }

    /// Linux's name for the cause of the fault with status `fsr`.
    pub fn cause(self, fsr: u32) -> &'static str {
        match self {
            Abort::Data => dfsr_name(fsr),
            Abort::Prefetch => ifsr_name(fsr),
        }
    }

    /// The access that faulted: a data abort's WnR bit tells a read from a
    /// write; a prefetch abort is always an instruction fetch.
    pub const fn access(self, fsr: u32) -> &'static str {
        match self {
            Abort::Data if is_write(fsr) => "write",
            Abort::Data => "read",
            Abort::Prefetch => "instruction fetch",
        }
    }
}

/// The five-bit fault status of an FSR value.
pub const fn fault_status(fsr: u32) -> u32 {
    ((fsr >> 6) & 0x10) | (fsr & 0xf)
}

/// Whether a data abort was caused by a write (DFSR.WnR).
pub const fn is_write(fsr: u32) -> bool {
    fsr & (1 << 11) != 0
}

/// Linux's fsr_info[] names for data aborts (fsr-2level.c).
pub fn dfsr_name(fsr: u32) -> &'static str {
    match fault_status(fsr) {
        0 => "vector exception",
        1 | 3 => "alignment exception",
        2 => "terminal exception",
        4 | 6 => "external abort on linefetch",
        5 => "section translation fault",
        7 => "page translation fault",
        8 | 10 => "external abort on non-linefetch",
        9 => "section domain fault",
        11 => "page domain fault",
        12 | 14 => "external abort on translation",
        13 => "section permission fault",
        15 => "page permission fault",
        22 => "imprecise external abort",
        24 => "dcache parity error",
        _ => "unknown data abort",
    }
}

/// Linux's ifsr_info[] names for prefetch aborts (fsr-2level.c).
pub fn ifsr_name(ifsr: u32) -> &'static str {
    match fault_status(ifsr) {
        2 => "debug event",
        3 => "section access flag fault",
        5 => "section translation fault",
        6 => "page access flag fault",
        7 => "page translation fault",
        8 => "external abort on non-linefetch",
        9 => "section domain fault",
        11 => "page domain fault",
        12 | 14 => "external abort on translation",
        13 => "section permission fault",
        15 => "page permission fault",
        _ => "unknown prefetch abort",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_common_faults() {
        assert_eq!(dfsr_name(0x005), "section translation fault");
        assert_eq!(dfsr_name(0x805), "section translation fault");
        assert!(is_write(0x805));
        assert!(!is_write(0x005));
        assert_eq!(dfsr_name(0x80f), "page permission fault");
        assert_eq!(dfsr_name(0x007), "page translation fault");
        assert_eq!(dfsr_name(0x406), "imprecise external abort");
        assert_eq!(fault_status(0x406), 22);
        assert_eq!(ifsr_name(0x00d), "section permission fault");
        assert_eq!(ifsr_name(0x007), "page translation fault");
    }
}
