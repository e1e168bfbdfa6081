//! `vmalloc=`: the command-line option that sizes the vmalloc area
//! (arch/arm/mm/mmu.c `early_vmalloc`, 3.18).
//!
//! Lowmem and vmalloc share the 1008 MiB between `PAGE_OFFSET` and
//! `VMALLOC_END`. `vmalloc=<size>` asks for a vmalloc area of `size` bytes,
//! which Linux turns into `vmalloc_min`, the lowest address the vmalloc
//! area may start at. `sanity_check_meminfo` then stops lowmem there.
//!
//! The 3.18 rule, reproduced exactly:
//!
//! 1. `reserve = memparse(arg)`.
//! 2. Below 16 MiB it becomes 16 MiB, with the warning `vmalloc area too
//!    small, limiting to 16MB`.
//! 3. Above `VMALLOC_END - (PAGE_OFFSET + SZ_32M)` (976 MiB) it becomes
//!    976 MiB, with `vmalloc area is too big, limiting to 976MB`. This
//!    keeps 32 MiB of lowmem at least.
//! 4. `vmalloc_min = VMALLOC_END - reserve`.
//!
//! Step 4 does *not* subtract `VMALLOC_OFFSET`, unlike the default
//! ([`VMALLOC_MIN_DEFAULT`](crate::VMALLOC_MIN_DEFAULT)). The 8 MiB guard
//! hole therefore comes out of the requested size: `vmalloc=240M` with
//! enough RAM puts lowmem's end at 0xf0000000 and `VMALLOC_START` at
//! 0xf0800000, leaving 232 MiB, not 240. Linux's comment promises "exactly
//! size"; its code does not, and neither does Kobold's.
//!
//! Two details differ from Linux, both only for nonsense input:
//!
//! * Text that [`memparse`] rejects (no digits, overflow) is an error here.
//!   Linux would read it as 0 and clamp it to 16 MiB with a warning.
//! * Linux stores the size in a 32-bit `unsigned long`, so `vmalloc=4G`
//!   wraps to 0 and is called "too small". Here it is compared in 64 bits
//!   and called "too big", which is what the user meant.
//!
//! Like Linux (`memparse(arg, NULL)`), anything after the size and its
//! suffix is ignored: `vmalloc=240MB` is `vmalloc=240M`.

use crate::constants::{VMALLOC_END, VMALLOC_RESERVE_MAX, VMALLOC_RESERVE_MIN};
use crate::memparse::{ParseError, memparse};
use core::fmt;

/// The outcome of a `vmalloc=` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmallocArg {
    /// The lowest address the vmalloc area may start at: `VMALLOC_END`
    /// minus the (clamped) requested size. Pass it to
    /// [`sanity_check_meminfo`](crate::sanity_check_meminfo).
    pub vmalloc_min: u32,
    /// The warning Linux prints if the size had to be clamped.
    pub warning: Option<VmallocWarning>,
}

/// A `vmalloc=` size Linux clamped, and the `pr_warn` it printed.
///
/// `Display` gives Linux's text exactly (without the newline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmallocWarning {
    /// Less than 16 MiB was asked for; 16 MiB is used instead.
    TooSmall {
        /// The size used, in MiB (always 16).
        limit_mb: u32,
    },
    /// More than 976 MiB was asked for; 976 MiB is used instead.
    TooBig {
        /// The size used, in MiB (always 976).
        limit_mb: u32,
    },
}

impl fmt::Display for VmallocWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmallocWarning::TooSmall { limit_mb } => {
                write!(f, "vmalloc area too small, limiting to {limit_mb}MB")
            }
            VmallocWarning::TooBig { limit_mb } => {
                write!(f, "vmalloc area is too big, limiting to {limit_mb}MB")
            }
        }
    }
}

/// Applies a `vmalloc=` argument (the text after the `=`) as Linux 3.18's
/// `early_vmalloc` does.
///
/// ```
/// use kobold_layout::{early_vmalloc, VmallocWarning};
/// let arg = early_vmalloc("240M").unwrap();
/// assert_eq!(arg.vmalloc_min, 0xf000_0000);
/// assert_eq!(arg.warning, None);
/// let arg = early_vmalloc("8M").unwrap();
/// assert_eq!(arg.warning, Some(VmallocWarning::TooSmall { limit_mb: 16 }));
/// ```
///
/// # Errors
///
/// The [`ParseError`] of [`memparse`], if `arg` does not start with a
/// number or the number overflows.
pub fn early_vmalloc(arg: &str) -> Result<VmallocArg, ParseError> {
    let (requested, _rest) = memparse(arg)?;
    let (reserve, warning) = if requested < u64::from(VMALLOC_RESERVE_MIN) {
        let limit_mb = VMALLOC_RESERVE_MIN >> 20;
        (
            VMALLOC_RESERVE_MIN,
            Some(VmallocWarning::TooSmall { limit_mb }),
        )
    } else if requested > u64::from(VMALLOC_RESERVE_MAX) {
        let limit_mb = VMALLOC_RESERVE_MAX >> 20;
        (
            VMALLOC_RESERVE_MAX,
            Some(VmallocWarning::TooBig { limit_mb }),
        )
    } else {
        // In [16 MiB, 976 MiB], so it fits.
        (requested as u32, None)
    };
    Ok(VmallocArg {
        vmalloc_min: VMALLOC_END - reserve,
        warning,
    })
}
