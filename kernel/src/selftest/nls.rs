//! `selftest nls`: the 6.1 personality's NLS registry (fs/nls/nls_base.c)
//! seen from the kernel, with Debian's `nls_cp437.ko` and `nls_utf8.ko`
//! loaded: each is looked up by charset as `load_nls` would, and one
//! character goes through its `char2uni` and back through its `uni2char`,
//! called through the table's own pointers (the module's code), checked
//! against the published mappings (CP437 0x82 is U+00E9; U+20AC is
//! `e2 82 ac` in UTF-8).

use super::SelftestError;
use crate::module::linux61::{kernel::find_nls, nls::field};
use core::fmt::Write;

type Char2Uni = unsafe extern "C" fn(*const u8, i32, *mut u16) -> i32;
type Uni2Char = unsafe extern "C" fn(u16, *mut u8, i32) -> i32;

/// One charset's round trip: `raw` to `uni` and back.
fn round_trip(
    out: &mut dyn Write,
    charset: &str,
    raw: &[u8],
    uni: u16,
) -> Result<(), SelftestError> {
    let Some(t) = find_nls(charset.as_bytes()) else {
        let _ = writeln!(
            out,
            "nls: {charset}: not registered (insmod nls_{charset}.ko)"
        );
        return Err(SelftestError::Failed("charset not registered"));
    };
    // SAFETY: `t` is a listed `struct nls_table` of a loaded module; its
    // function pointers are the module's (read as 6.1 code reads them).
    let (c2u, u2c) = unsafe {
        (
            ((t + field::CHAR2UNI) as *const usize).read_volatile(),
            ((t + field::UNI2CHAR) as *const usize).read_volatile(),
        )
    };
    if c2u == 0 || u2c == 0 {
        return Err(SelftestError::Failed("table without char2uni/uni2char"));
    }
    // SAFETY: 6.1's prototypes of the two members (include/linux/nls.h).
    let (c2u, u2c) = unsafe {
        (
            core::mem::transmute::<usize, Char2Uni>(c2u),
            core::mem::transmute::<usize, Uni2Char>(u2c),
        )
    };
    let mut got = 0u16;
    // SAFETY: `raw` is readable for its length, `got` writable.
    let n = unsafe { c2u(raw.as_ptr(), raw.len() as i32, &mut got) };
    let mut back = [0u8; 6];
    // SAFETY: `back` is writable for its length.
    let m = unsafe { u2c(uni, back.as_mut_ptr(), back.len() as i32) };
    let _ = write!(out, "nls: {charset} at {t:#010x}: char2uni(");
    raw.iter().for_each(|b| {
        let _ = write!(out, "{b:02x}");
    });
    let _ = write!(out, ") = U+{got:04X} ({n}), uni2char(U+{uni:04X}) = ");
    back.iter().take(m.clamp(0, 6) as usize).for_each(|b| {
        let _ = write!(out, "{b:02x}");
    });
    let _ = writeln!(out, " ({m})");
    let len = raw.len() as i32;
    if n != len || got != uni || m != len || back.get(..raw.len()) != Some(raw) {
        return Err(SelftestError::Failed("round trip"));
    }
    Ok(())
}

pub fn run(args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    if !args.is_empty() {
        return Err(SelftestError::Usage);
    }
    round_trip(out, "cp437", &[0x82], 0x00e9)?;
    round_trip(out, "utf8", &[0xe2, 0x82, 0xac], 0x20ac)?;
    if find_nls(b"no-such-charset").is_some() {
        return Err(SelftestError::Failed("found an unregistered charset"));
    }
    let _ = writeln!(out, "nls: no-such-charset: not found");
    Ok(())
}
