//! `current` for 6.1 modules: the layout of the `task_struct` stand-in and
//! the stack canary's derivation. The stand-in itself, TPIDRURO and
//! `__stack_chk_fail` are the target glue's (`kernel.rs`).
//!
//! Debian's armmp build has `CONFIG_THREAD_INFO_IN_TASK` and
//! `CONFIG_CURRENT_POINTER_IN_TPIDRURO`: `current` is one `mrc p15, 0, rX,
//! c13, c0, 3` (TPIDRURO, arch/arm/include/asm/current.h), and
//! `current_thread_info()` is the same pointer, since `struct thread_info`
//! is `task_struct`'s first member. `CONFIG_STACKPROTECTOR_PER_TASK` makes
//! GCC's `arm_ssp_per_task_plugin` load the canary from
//! `current->stack_canary` in every protected function's prologue and
//! epilogue. Disassembling the package's modules (`mrc ...c13, c0, 3` then
//! a load from the result) gives the offsets they read, most frequent first:
//!
//! | offset | field (6.1) | who reads it | value here |
//! |---|---|---|---|
//! | +1592 | `task_struct.stack_canary` | every `-fstack-protector-strong` function (47,886 loads in 1,500 modules) | random, set once at boot |
//! | +8 | `thread_info.cpu` | `smp_processor_id()` (`raw_smp_processor_id()` reads `current_thread_info()->cpu`) | 0: one CPU |
//! | +4 | `thread_info.preempt_count` | `local_bh_disable()` (`+= SOFTIRQ_DISABLE_OFFSET`, 0x200), `in_atomic()`, `in_interrupt()` | 0: process context (`kernel_neon_begin` BUGs if the interrupt bits are set, as Debian's does) |
//! | +1584 | `task_struct.pid` (+1588 `tgid`) | `task_pid_nr(current)`, `current->pid` in messages | 0, as Kobold's oops says `PID: 0 Comm: swapper` |
//! | +2540 | `task_struct.pagefault_disabled` | `pagefault_disable()`/`enable()` (around `kmap_local_page`) | 0, counted up and down by the module |
//! | +0 | `thread_info.flags` | `test_thread_flag()`, `need_resched()` | 0: no signal, no reschedule pending |
//!
//! Every other byte of the stand-in is zero; [`SIZE`] covers every offset
//! seen in the package (the largest, 2,376 in gfs2, and the 2,540 above).
//!
//! The canary: Linux's `boot_init_stack_canary()` stores
//! `get_random_canary()` in `init_task` early in `start_kernel`, when the
//! random pool holds little entropy (a documented weakness: it is mixed
//! from the cycle counter and the boot's timing). Kobold has no entropy
//! pool at all, so [`canary_from`] mixes reads of the board's 24 MHz
//! counter at the end of `start_kernel` (whose value depends on how long
//! the boot took: QEMU's timing, memory size, the command line), separated
//! by spins whose length depends on the previous read, with addresses that
//! differ between builds. That is guessable by anyone who
//! can replay the boot; it stops accidental overruns and naive exploits,
//! not a determined attacker, exactly as a canary set before the pool is
//! seeded.

/// Bytes of the stand-in: a page, beyond every offset modules read.
pub const SIZE: usize = 4096;
/// `thread_info.flags`.
pub const TI_FLAGS: usize = 0;
/// `thread_info.preempt_count`.
pub const TI_PREEMPT_COUNT: usize = 4;
/// `thread_info.cpu`.
pub const TI_CPU: usize = 8;
/// `task_struct.pid`.
pub const PID: usize = 1584;
/// `task_struct.tgid`.
pub const TGID: usize = 1588;
/// `task_struct.stack_canary` (`offsetof` for this build).
pub const STACK_CANARY: usize = 1592;
/// `task_struct.pagefault_disabled`.
pub const PAGEFAULT_DISABLED: usize = 2540;
/// `SOFTIRQ_DISABLE_OFFSET`: what `local_bh_disable()` adds to
/// `preempt_count`.
pub const SOFTIRQ_DISABLE_OFFSET: u32 = 0x200;
/// `in_interrupt()`'s bits of `preempt_count`: `SOFTIRQ_MASK |
/// HARDIRQ_MASK | NMI_MASK` (Debian's `kernel_neon_begin` tests exactly
/// `preempt_count & 0x00ffff00`).
pub const IRQ_COUNT_MASK: u32 = 0x00ff_ff00;

/// A canary from boot-time samples: a 64-bit mix (splitmix64's finaliser)
/// folded to 32 bits, never 0 (a zero canary would match zeroed stacks).
pub fn canary_from(samples: &[u32]) -> u32 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for &s in samples {
        h ^= u64::from(s);
        h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^= h >> 31;
    }
    let c = (h ^ (h >> 32)) as u32;
    if c == 0 { 0x6b6f_626c } else { c }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_fit_and_are_word_aligned() {
        for off in [
            TI_FLAGS,
            TI_PREEMPT_COUNT,
            TI_CPU,
            PID,
            TGID,
            STACK_CANARY,
            PAGEFAULT_DISABLED,
        ] {
            assert!(off + 4 <= SIZE);
            assert_eq!(off % 4, 0);
        }
        assert_eq!(TGID, PID + 4);
        assert_eq!(STACK_CANARY, TGID + 4);
    }

    #[test]
    fn canary_depends_on_every_sample_and_is_never_zero() {
        let a = canary_from(&[1, 2, 3]);
        assert_ne!(a, canary_from(&[1, 2, 4]));
        assert_ne!(a, canary_from(&[0, 2, 3]));
        assert_ne!(a, canary_from(&[1, 2, 3, 0]));
        for i in 0..10_000u32 {
            assert_ne!(canary_from(&[i]), 0);
        }
        // Neighbouring counter values give unrelated canaries.
        let (x, y) = (canary_from(&[1000]), canary_from(&[1001]));
        assert!((x ^ y).count_ones() > 4);
    }
}
