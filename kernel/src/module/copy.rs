//! The copy of a module's sections into its region: `ldm`/`stm`, 32 bytes
//! a turn, as Linux's `memcpy` (`arch/arm/lib/copy_template.S`) moves
//! them. The kernel's `memcpy` is compiler_builtins' word loop (one `ldr`
//! and one `str` a word, about an instruction a byte), which was a twelfth
//! of what loading Debian's crc-itu-t cost; the loader forbids `unsafe`,
//! so it asks the kernel for this copy (`Resolver::copy_section`).
//!
//! Only when both ends are word-aligned (`ldm`/`stm` need it; sections are
//! aligned in the file and in the region, and the file's buffer is): other
//! copies go through `copy_from_slice` as before, except short ones (under
//! 16 bytes, at any alignment), which go a byte a turn: `memcpy`'s set-up
//! cost more than a section name's bytes. The symbol string table kept for
//! kallsyms and the section names kept for `/sys/module` are copied the
//! same way.

/// `dst.copy_from_slice(src)` (and its panic when the lengths differ):
/// when both are word-aligned, the whole words are moved by `ldm`/`stm`
/// (32 bytes a turn, then 16, 8 and 4 as the length has them) and the last
/// bytes (at most three) one by one; otherwise `copy_from_slice`.
pub fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    if dst.len() != src.len() {
        dst.copy_from_slice(src);
        return;
    }
    // SAFETY: `dst` is writable for `src.len()` bytes and, being a `&mut`,
    // does not overlap `src`.
    unsafe { copy_raw(dst.as_mut_ptr(), src) }
}

/// `v.extend_from_slice(src)`, copied as [`copy_bytes`] copies when `v`
/// already has room for `src` (else `extend_from_slice` itself, which may
/// allocate).
pub fn extend_within(v: &mut alloc::vec::Vec<u8>, src: &[u8]) {
    let len = v.len();
    if v.capacity() - len < src.len() {
        v.extend_from_slice(src);
        return;
    }
    // SAFETY: the spare capacity holds `src.len()` bytes (checked above),
    // writable and not overlapping `src` (`v` is borrowed mutably);
    // `copy_raw` initialises all of them, so the new length covers only
    // initialised bytes.
    unsafe {
        copy_raw(v.spare_capacity_mut().as_mut_ptr().cast::<u8>(), src);
        v.set_len(len + src.len());
    }
}

/// Copies `src` to `dst`.
///
/// # Safety
///
/// `dst` must be valid for writes of `src.len()` bytes and not overlap
/// `src`.
unsafe fn copy_raw(dst: *mut u8, src: &[u8]) {
    let n = src.len();
    if n < SHORT {
        // SAFETY: the caller's contract.
        unsafe { copy_short(dst, src.as_ptr(), n) };
        return;
    }
    if dst.align_offset(4) != 0 || src.as_ptr().align_offset(4) != 0 {
        // SAFETY: the caller's contract.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, n) };
        return;
    }
    let words = n & !3;
    // SAFETY: both word-aligned (checked above); the caller's contract
    // covers the `words <= n` bytes.
    unsafe { copy_words(dst, src.as_ptr(), words) };
    // At most three bytes, each stored in line (a loop would become a
    // call to `memcpy`).
    for (i, &b) in src.iter().enumerate().skip(words).take(3) {
        // SAFETY: `i < n`: inside `dst` by the caller's contract.
        unsafe { dst.add(i).write(b) };
    }
}

/// Copies shorter than this many bytes (a section's name, at any
/// alignment) go a byte a turn (`ldrb`/`strb`, four instructions a byte):
/// `memcpy`'s set-up cost more than the copy for them.
const SHORT: usize = 16;

/// Copies `n` bytes from `src` to `dst`, one at a time.
///
/// # Safety
///
/// `src` readable and `dst` writable for `n` bytes, not overlapping.
#[cfg(target_arch = "arm")]
unsafe fn copy_short(dst: *mut u8, src: *const u8, n: usize) {
    if n == 0 {
        return;
    }
    // SAFETY: the caller's contract; the loop moves exactly `n` (non-zero)
    // bytes; no stack is touched.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldrb {t}, [{s}], #1",
            "strb {t}, [{d}], #1",
            "subs {n}, {n}, #1",
            "bne 2b",
            s = inout(reg) src => _,
            d = inout(reg) dst => _,
            n = inout(reg) n => _,
            t = out(reg) _,
            options(nostack),
        );
    }
}

/// The host's stand-in.
///
/// # Safety
///
/// As the target's.
#[cfg(not(target_arch = "arm"))]
unsafe fn copy_short(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract.
    unsafe { core::ptr::copy_nonoverlapping(src, dst, n) };
}

/// Copies `n` bytes, a multiple of 4, from `src` to `dst`.
///
/// # Safety
///
/// Both word-aligned, `src` readable and `dst` writable for `n` bytes, not
/// overlapping; `n` a multiple of 4.
#[cfg(target_arch = "arm")]
unsafe fn copy_words(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract; the loop moves `n & !31` bytes, then
    // 16, 8 and 4 as the bits of `n` say (subtracting 32 leaves them), so
    // exactly `n` (below 2^31: a slice's length fits an `isize`, so the
    // signed compare holds); no stack is touched.
    unsafe {
        core::arch::asm!(
            "subs {n}, {n}, #32",
            "blt 3f",
            "2:",
            "ldmia {s}!, {{r0, r1, r2, r3}}",
            "stmia {d}!, {{r0, r1, r2, r3}}",
            "ldmia {s}!, {{r0, r1, r2, r3}}",
            "stmia {d}!, {{r0, r1, r2, r3}}",
            "subs {n}, {n}, #32",
            "bge 2b",
            "3:",
            "tst {n}, #16",
            "beq 4f",
            "ldmia {s}!, {{r0, r1, r2, r3}}",
            "stmia {d}!, {{r0, r1, r2, r3}}",
            "4:",
            "tst {n}, #8",
            "beq 5f",
            "ldmia {s}!, {{r0, r1}}",
            "stmia {d}!, {{r0, r1}}",
            "5:",
            "tst {n}, #4",
            "beq 6f",
            "ldr r0, [{s}], #4",
            "str r0, [{d}], #4",
            "6:",
            s = inout(reg) src => _,
            d = inout(reg) dst => _,
            n = inout(reg) n => _,
            out("r0") _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            options(nostack),
        );
    }
}

/// The host's stand-in (the split is what the host tests check).
///
/// # Safety
///
/// As the target's.
#[cfg(not(target_arch = "arm"))]
unsafe fn copy_words(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract.
    unsafe { core::ptr::copy_nonoverlapping(src, dst, n) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes one turn of the `ldm`/`stm` loop moves.
    const TURN: usize = 32;

    /// `copy_bytes` writes what `copy_from_slice` writes, and nothing
    /// around it, for lengths on both sides of every turn boundary up to
    /// three turns, at every offset from a word boundary of either buffer.
    #[test]
    fn copies_as_copy_from_slice() {
        let mut from = [0u32; 32];
        let src_all = object::pod::bytes_of_slice_mut(&mut from);
        for (i, b) in src_all.iter_mut().enumerate() {
            *b = (i * 7 + 1) as u8;
        }
        for len in 0..=3 * TURN + 1 {
            for s_off in 0..4 {
                for d_off in 0..4 {
                    let mut want = [0xeeu8; 4 * (TURN + 2)];
                    let mut got_words = [0xeeee_eeeeu32; TURN + 2];
                    let got = object::pod::bytes_of_slice_mut(&mut got_words);
                    let src = &src_all[s_off..s_off + len];
                    want[d_off..d_off + len].copy_from_slice(src);
                    copy_bytes(&mut got[d_off..d_off + len], src);
                    assert_eq!(&got[..], &want[..], "len {len} src+{s_off} dst+{d_off}");
                    // Appended to a vector with room, and without.
                    for room in [len, len.saturating_sub(1)] {
                        let mut v = alloc::vec::Vec::with_capacity(d_off + room);
                        v.extend_from_slice(&want[..d_off]);
                        extend_within(&mut v, src);
                        assert_eq!(&v[..], &want[..d_off + len], "len {len} room {room}");
                    }
                }
            }
        }
    }
}
