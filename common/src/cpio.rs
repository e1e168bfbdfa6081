//! The initramfs format: a cpio "newc" archive (Linux's
//! `Documentation/early-userspace/buffer-format.txt`, init/initramfs.c).
//!
//! Each member is a 110-byte ASCII header — `070701` then thirteen 8-digit
//! hex fields (ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
//! devminor, rdevmajor, rdevminor, namesize, check) — the NUL-terminated
//! name, padding to 4 bytes, the data, padding to 4 bytes. `TRAILER!!!`
//! ends the archive. The parser trusts nothing: every field and length is
//! checked and a damaged archive gives an error naming the offset, as
//! Linux's "Initramfs unpacking failed: ..." does.

use core::fmt;

/// One member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub name: &'a str,
    pub mode: u32,
    pub data: &'a [u8],
}

/// S_IFMT and the types Kobold keeps.
pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;

/// Why an archive cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpioError {
    /// Linux: "no cpio magic".
    NoMagic {
        offset: usize,
    },
    BadHeader {
        offset: usize,
    },
    Truncated {
        offset: usize,
    },
    BadName {
        offset: usize,
    },
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpioError::NoMagic { offset } => write!(f, "no cpio magic at offset {offset}"),
            CpioError::BadHeader { offset } => write!(f, "bad cpio header at offset {offset}"),
            CpioError::Truncated { offset } => write!(f, "archive truncated at offset {offset}"),
            CpioError::BadName { offset } => write!(f, "bad file name at offset {offset}"),
        }
    }
}

const HEADER: usize = 110;

fn hex(field: &[u8]) -> Option<u32> {
    let s = core::str::from_utf8(field).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// Iterates over the members of `archive` up to the trailer. Trailing
/// zero padding after the trailer is allowed (cpio pads to 512 bytes).
pub fn entries(archive: &[u8]) -> impl Iterator<Item = Result<Entry<'_>, CpioError>> {
    let mut offset = 0usize;
    let mut done = false;
    core::iter::from_fn(move || {
        if done {
            return None;
        }
        let r = next(archive, &mut offset);
        match r {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                done = true;
                None
            }
            Err(e) => {
                done = true;
                Some(Err(e))
            }
        }
    })
}

fn next<'a>(a: &'a [u8], offset: &mut usize) -> Result<Option<Entry<'a>>, CpioError> {
    let at = *offset;
    if at >= a.len() || a[at..].iter().all(|&b| b == 0) {
        // Linux accepts an archive without a trailer at the end of the
        // buffer, and zero padding.
        return Ok(None);
    }
    let h = a
        .get(at..at + HEADER)
        .ok_or(CpioError::Truncated { offset: at })?;
    if &h[..6] != b"070701" && &h[..6] != b"070702" {
        return Err(CpioError::NoMagic { offset: at });
    }
    let field =
        |i: usize| hex(&h[6 + 8 * i..14 + 8 * i]).ok_or(CpioError::BadHeader { offset: at });
    let mode = field(1)?;
    let filesize = field(6)? as usize;
    let namesize = field(11)? as usize;
    if namesize == 0 {
        return Err(CpioError::BadName { offset: at });
    }
    let name_end = (at + HEADER)
        .checked_add(namesize)
        .ok_or(CpioError::Truncated { offset: at })?;
    let raw = a
        .get(at + HEADER..name_end)
        .ok_or(CpioError::Truncated { offset: at })?;
    let (last, name) = raw.split_last().ok_or(CpioError::BadName { offset: at })?;
    if *last != 0 {
        return Err(CpioError::BadName { offset: at });
    }
    let name = core::str::from_utf8(name).map_err(|_| CpioError::BadName { offset: at })?;
    let data_start = name_end.next_multiple_of(4);
    let data_end = data_start
        .checked_add(filesize)
        .ok_or(CpioError::Truncated { offset: at })?;
    let data = a
        .get(data_start..data_end)
        .ok_or(CpioError::Truncated { offset: at })?;
    *offset = data_end.next_multiple_of(4);
    if name == "TRAILER!!!" {
        return Ok(None);
    }
    Ok(Some(Entry { name, mode, data }))
}

/// Builds a newc archive of `(name, mode, data)` members and the trailer
/// (`cargo xtask` makes the initramfs with it; the tests, their inputs).
pub fn build(files: &[(&str, u32, &[u8])]) -> alloc::vec::Vec<u8> {
    use alloc::format;
    let mut out = alloc::vec::Vec::new();
    let trailer = [("TRAILER!!!", 0u32, &b""[..])];
    for (i, (name, mode, data)) in files.iter().chain(trailer.iter()).enumerate() {
        let h = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            i + 1,
            mode,
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out.extend_from_slice(data);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn reads_what_it_builds_and_refuses_damage() {
        let a = build(&[
            ("lib", S_IFDIR | 0o755, b""),
            ("lib/modules/hello.ko", S_IFREG | 0o644, b"\x7fELF123"),
        ]);
        let e: Vec<_> = entries(&a).collect::<Result<_, _>>().unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].name, "lib/modules/hello.ko");
        assert_eq!(e[1].data, b"\x7fELF123");
        assert_eq!(e[0].mode & S_IFMT, S_IFDIR);
        // Padding after the trailer is fine.
        let mut padded = a.clone();
        padded.resize(a.len() + 512, 0);
        assert_eq!(entries(&padded).count(), 2);
        // Every truncation is an error or a shorter archive, never a panic.
        for cut in 0..a.len() {
            let _ = entries(&a[..cut]).count();
        }
        let mut bad = a.clone();
        bad[0] = b'X';
        assert_eq!(
            entries(&bad).next(),
            Some(Err(CpioError::NoMagic { offset: 0 }))
        );
        let mut bad = a.clone();
        bad[6 + 8 * 6] = b'z'; // filesize not hex
        assert_eq!(
            entries(&bad).next(),
            Some(Err(CpioError::BadHeader { offset: 0 }))
        );
        let mut bad = a.clone();
        // A file size running past the end.
        let second = a.windows(6).skip(1).position(|w| w == b"070701").unwrap() + 1;
        bad[second + 6 + 8 * 6..second + 14 + 8 * 6].copy_from_slice(b"7fffffff");
        assert!(matches!(
            entries(&bad).nth(1),
            Some(Err(CpioError::Truncated { .. }))
        ));
    }
}
