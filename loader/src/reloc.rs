//! ARM relocation types (ELF for the Arm Architecture, "AAELF32", table
//! 5-6): the ones a kernel module uses, by number and name.

/// `(number, name)` of every relocation type the loader knows.
pub const KNOWN: &[(u32, &str)] = &[
    (0, "R_ARM_NONE"),
    (1, "R_ARM_PC24"),
    (2, "R_ARM_ABS32"),
    (3, "R_ARM_REL32"),
    (10, "R_ARM_THM_CALL"),
    (28, "R_ARM_CALL"),
    (29, "R_ARM_JUMP24"),
    (30, "R_ARM_THM_JUMP24"),
    (38, "R_ARM_TARGET1"),
    (40, "R_ARM_V4BX"),
    (42, "R_ARM_PREL31"),
    (43, "R_ARM_MOVW_ABS_NC"),
    (44, "R_ARM_MOVT_ABS"),
    (45, "R_ARM_MOVW_PREL_NC"),
    (46, "R_ARM_MOVT_PREL"),
    (47, "R_ARM_THM_MOVW_ABS_NC"),
    (48, "R_ARM_THM_MOVT_ABS"),
    (49, "R_ARM_THM_MOVW_PREL_NC"),
    (50, "R_ARM_THM_MOVT_PREL"),
];

/// The name of relocation type `r_type`, if the loader knows it.
pub fn name(r_type: u32) -> Option<&'static str> {
    KNOWN.iter().find(|(n, _)| *n == r_type).map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_match_aaelf32() {
        assert_eq!(super::name(28), Some("R_ARM_CALL"));
        assert_eq!(super::name(50), Some("R_ARM_THM_MOVT_PREL"));
        assert_eq!(super::name(99), None);
        assert_eq!(object::elf::R_ARM_CALL.0, 28);
        assert_eq!(object::elf::R_ARM_THM_MOVT_PREL.0, 50);
    }
}
