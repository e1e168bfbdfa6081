//! The copy of a module's sections into its region: `ldm`/`stm`, 32 bytes
//! a turn, as Linux's `memcpy` (`arch/arm/lib/copy_template.S`) moves
//! them. The kernel's `memcpy` is compiler_builtins' word loop (one `ldr`
//! and one `str` a word, about an instruction a byte), which was a twelfth
//! of what loading Debian's crc-itu-t cost; the loader forbids `unsafe`,
//! so it asks the kernel for this copy (`Resolver::copy_section`).
//!
//! Only when both ends are word-aligned (`ldm`/`stm` need it; sections are
//! aligned in the file and in the region, and the file's buffer is) and
//! for whole turns: the last bytes, and everything else, go through
//! `copy_from_slice` as before.

/// Bytes one turn of the `ldm`/`stm` loop moves.
pub const TURN: usize = 32;

/// `dst.copy_from_slice(src)` (and its panic when the lengths differ),
/// the whole 32-byte turns of word-aligned buffers moved by `ldm`/`stm`.
pub fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    let aligned = dst.len() == src.len()
        && dst.as_ptr().align_offset(4) == 0
        && src.as_ptr().align_offset(4) == 0;
    let body = if aligned { src.len() & !(TURN - 1) } else { 0 };
    let (dst_body, dst_tail) = dst.split_at_mut(body);
    let (src_body, src_tail) = src.split_at(body.min(src.len()));
    copy_turns(dst_body, src_body);
    dst_tail.copy_from_slice(src_tail);
}

/// Copies `src` into `dst`: word-aligned, the same length, a multiple of
/// [`TURN`] bytes (`copy_bytes` splits them so).
#[cfg(target_arch = "arm")]
fn copy_turns(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n == 0 || dst.len() != n || n % TURN != 0 {
        dst.copy_from_slice(src);
        return;
    }
    // SAFETY: `src` is readable and `dst` writable for `n` bytes, both
    // word-aligned (`copy_bytes` checked it), distinct (a `&mut` and a `&`
    // cannot overlap); `n` is a non-zero multiple of 32, so the loop moves
    // exactly `n` bytes and stops; no stack is touched.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldmia {s}!, {{r0, r1, r2, r3}}",
            "stmia {d}!, {{r0, r1, r2, r3}}",
            "ldmia {s}!, {{r0, r1, r2, r3}}",
            "stmia {d}!, {{r0, r1, r2, r3}}",
            "subs {n}, {n}, #32",
            "bne 2b",
            s = inout(reg) src.as_ptr() => _,
            d = inout(reg) dst.as_mut_ptr() => _,
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
#[cfg(not(target_arch = "arm"))]
fn copy_turns(dst: &mut [u8], src: &[u8]) {
    dst.copy_from_slice(src);
}

#[cfg(test)]
mod tests {
    use super::*;

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
                }
            }
        }
    }
}
