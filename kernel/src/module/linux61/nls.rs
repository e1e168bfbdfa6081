//! 6.1's NLS registry (fs/nls/nls_base.c, `CONFIG_NLS=y` in Debian's
//! armmp build): the character-set tables the 48 `fs/nls` modules of the
//! package register at init (`register_nls(&table)`, a macro for
//! `__register_nls(&table, THIS_MODULE)`) and unregister at exit, and
//! nls_base.c's UTF-8 helpers `utf8_to_utf32` / `utf32_to_utf8`, which
//! `nls_utf8.ko` calls.
//!
//! As in Linux the list is intrusive: it is linked through each table's
//! own `next` field, in the module's memory, with the head (`tables`) here;
//! registering pushes at the head, `__register_nls` refuses with `-EBUSY` a
//! table whose `next` is already set or that is already listed, and
//! `unregister_nls` unlinks it (leaving its `next` as 6.1 does) or returns
//! `-EINVAL`. A lookup compares `charset`, then `alias`, as `find_nls`.
//!
//! What Kobold leaves out, and why:
//! - nls_base.c's built-in `default_table` (charset `"default"`, the tail
//!   of Linux's list), and `load_nls_default`, which falls back to it.
//!
//! `load_nls(charset)` and `unload_nls(table)` are exported (`kernel.rs`):
//! as 6.1's `find_nls` they pin the table's owner with `try_module_get`
//! (`module::Modules::try_module_get`, under this registry's lock) and
//! `unload_nls` drops the pin with `module_put`, so `rmmod` of a charset in
//! use fails with `-EAGAIN` (Linux's `-EWOULDBLOCK`). 6.1's fallback,
//! `request_module("nls_%s")`, is `module::kmod`'s in-kernel modprobe
//! (`/lib/modules/nls_CHARSET.ko`); a charset still not registered after
//! it gives NULL, as on Linux. The kernel's own lookup ([`Registry::find`],
//! for `selftest nls`) takes no pin: it runs in the shell's one thread,
//! where no `rmmod` can run meanwhile.
//!
//! The listing, `cat /sys/kernel/kobold/nls` ([`write_listing`]), has no
//! Linux counterpart: one line per registered table, `charset alias
//! owner`, newest first (the list's order).
//!
//! The walks are bounded ([`MAX_TABLES`]): a corrupted `next` chain stops a
//! walk with a message instead of hanging the kernel.

use core::fmt;

/// `struct nls_table`'s fields in 6.1 (include/linux/nls.h; 32-bit ARM):
/// `const char *charset, *alias; int (*uni2char)(wchar_t, unsigned char *,
/// int); int (*char2uni)(const unsigned char *, int, wchar_t *); const
/// unsigned char *charset2lower, *charset2upper; struct module *owner;
/// struct nls_table *next;` (`wchar_t` is `u16`).
pub mod field {
    pub const CHARSET: u32 = 0;
    pub const ALIAS: u32 = 4;
    pub const UNI2CHAR: u32 = 8;
    pub const CHAR2UNI: u32 = 12;
    pub const CHARSET2LOWER: u32 = 16;
    pub const CHARSET2UPPER: u32 = 20;
    pub const OWNER: u32 = 24;
    pub const NEXT: u32 = 28;
    /// `sizeof(struct nls_table)`.
    pub const SIZE: u32 = 32;
}

/// The longest walk of the list: far more tables than the package has (51).
pub const MAX_TABLES: usize = 1024;

/// The longest charset name compared or listed (Linux's names are short:
/// `iso8859-15`, `macceltic`).
pub const MAX_NAME: usize = 64;

pub const EBUSY: i32 = -16;
pub const EINVAL: i32 = -22;

/// The memory the tables live in (the modules' data): word reads and
/// writes and C strings, by address.
pub trait Mem {
    fn read(&self, addr: u32) -> u32;
    fn write(&mut self, addr: u32, v: u32);
    /// The C string at `addr`, at most `max` bytes, without its NUL.
    fn c_str(&self, addr: u32, max: usize) -> &[u8];
}

/// Linux's `tables` (without `default_table`: see the module docs).
#[derive(Debug, Default)]
pub struct Registry {
    head: u32,
}

impl Registry {
    pub const fn new() -> Self {
        Self { head: 0 }
    }

    /// The listed tables, newest first, at most [`MAX_TABLES`]; `true` if
    /// the walk ended at the list's end (else it was cut).
    pub fn walk(&self, m: &dyn Mem, f: &mut dyn FnMut(u32) -> bool) -> bool {
        let mut cur = self.head;
        for _ in 0..MAX_TABLES {
            if cur == 0 {
                return true;
            }
            if !f(cur) {
                return true;
            }
            cur = m.read(cur + field::NEXT);
        }
        cur == 0
    }

    /// `__register_nls(nls, owner)`: 0, or `-EBUSY` if `nls->next` is set
    /// or `nls` is listed already (also when the list is too long to
    /// check).
    pub fn register(&mut self, m: &mut dyn Mem, nls: u32, owner: u32) -> i32 {
        if m.read(nls + field::NEXT) != 0 {
            return EBUSY;
        }
        m.write(nls + field::OWNER, owner);
        let mut listed = false;
        if !self.walk(m, &mut |t| {
            listed = t == nls;
            !listed
        }) || listed
        {
            return EBUSY;
        }
        m.write(nls + field::NEXT, self.head);
        self.head = nls;
        0
    }

    /// `unregister_nls(nls)`: 0, or `-EINVAL` if it is not listed.
    pub fn unregister(&mut self, m: &mut dyn Mem, nls: u32) -> i32 {
        if nls == 0 {
            return EINVAL;
        }
        if self.head == nls {
            self.head = m.read(nls + field::NEXT);
            return 0;
        }
        let mut prev = 0;
        self.walk(m, &mut |t| {
            if m.read(t + field::NEXT) == nls {
                prev = t;
                false
            } else {
                true
            }
        });
        if prev == 0 {
            return EINVAL;
        }
        let after = m.read(nls + field::NEXT);
        m.write(prev + field::NEXT, after);
        0
    }

    /// `find_nls(charset)` without the module pin: the first table whose
    /// `charset` or (non-NULL) `alias` is `charset`.
    pub fn find(&self, m: &dyn Mem, charset: &[u8]) -> Option<u32> {
        let mut found = None;
        self.walk(m, &mut |t| {
            let name = m.c_str(m.read(t + field::CHARSET), MAX_NAME);
            let alias = m.read(t + field::ALIAS);
            if name == charset || (alias != 0 && m.c_str(alias, MAX_NAME) == charset) {
                found = Some(t);
                false
            } else {
                true
            }
        });
        found
    }
}

/// `/sys/kernel/kobold/nls`: `charset alias owner` per table (`-` for no
/// alias), where `owner` names the module whose `struct module` the table
/// points at (`owner_name`), newest first.
pub fn write_listing(
    r: &Registry,
    m: &dyn Mem,
    owner_name: &dyn Fn(u32, &mut dyn fmt::Write) -> fmt::Result,
    out: &mut dyn fmt::Write,
) -> fmt::Result {
    let mut res = Ok(());
    let complete = r.walk(m, &mut |t| {
        res = (|| {
            write_bytes(out, m.c_str(m.read(t + field::CHARSET), MAX_NAME))?;
            out.write_char(' ')?;
            match m.read(t + field::ALIAS) {
                0 => out.write_char('-')?,
                a => write_bytes(out, m.c_str(a, MAX_NAME))?,
            }
            out.write_char(' ')?;
            owner_name(m.read(t + field::OWNER), out)?;
            out.write_char('\n')
        })();
        res.is_ok()
    });
    res?;
    if !complete {
        writeln!(out, "(list cut after {MAX_TABLES} tables)")?;
    }
    Ok(())
}

fn write_bytes(out: &mut dyn fmt::Write, b: &[u8]) -> fmt::Result {
    for c in b.utf8_chunks() {
        out.write_str(c.valid())?;
        if !c.invalid().is_empty() {
            out.write_char('?')?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// UTF-8 (nls_base.c's `utf8_table`)

/// `{cmask, cval, shift, lmask, lval}` per sequence length, 1 to 6 bytes.
const UTF8_TABLE: [(u32, u32, u32, u32, u32); 6] = [
    (0x80, 0x00, 0, 0x7f, 0),
    (0xe0, 0xc0, 6, 0x7ff, 0x80),
    (0xf0, 0xe0, 12, 0xffff, 0x800),
    (0xf8, 0xf0, 18, 0x1f_ffff, 0x1_0000),
    (0xfc, 0xf8, 24, 0x3ff_ffff, 0x20_0000),
    (0xfe, 0xfc, 30, 0x7fff_ffff, 0x400_0000),
];

pub const UNICODE_MAX: u32 = 0x0010_ffff;
const SURROGATE_MASK: u32 = 0xffff_f800;
const SURROGATE_PAIR: u32 = 0x0000_d800;

/// `utf8_to_utf32(s, inlen, &u)`: the bytes used and the code point, or
/// `None` (6.1 returns -1) for an invalid, overlong, surrogate, beyond
/// U+10FFFF or truncated (`inlen` too short) sequence. `byte(i)` reads
/// `s[i]`; as 6.1, the first byte is read even when `inlen` is 0 or less,
/// and no byte beyond what the sequence needs.
pub fn utf8_to_utf32(byte: &mut dyn FnMut(usize) -> u8, inlen: i32) -> Option<(i32, u32)> {
    let c0 = byte(0) as u32;
    let mut l = c0;
    let mut nc = 0i32;
    for &(cmask, cval, _shift, lmask, lval) in &UTF8_TABLE {
        nc += 1;
        if c0 & cmask == cval {
            l &= lmask;
            if l < lval || l > UNICODE_MAX || l & SURROGATE_MASK == SURROGATE_PAIR {
                return None;
            }
            return Some((nc, l));
        }
        if inlen <= nc {
            return None;
        }
        let c = (byte(nc as usize) as u32 ^ 0x80) & 0xff;
        if c & 0xc0 != 0 {
            return None;
        }
        l = (l << 6) | c;
    }
    None
}

/// `utf32_to_utf8(u, s, maxout)`: the bytes of `u` in `out` (at most
/// `maxout` of them when it is positive, and at most 6) and their number,
/// or `None` (6.1 returns -1) for a surrogate, beyond U+10FFFF, or too
/// little room.
pub fn utf32_to_utf8(u: u32, maxout: i32) -> Option<([u8; 6], i32)> {
    if u > UNICODE_MAX || u & SURROGATE_MASK == SURROGATE_PAIR {
        return None;
    }
    let mut out = [0u8; 6];
    let mut room = maxout;
    for (n, &(_cmask, cval, shift, lmask, _lval)) in UTF8_TABLE.iter().enumerate() {
        // 6.1 loops `while (t->cmask && maxout)`: a negative `maxout`
        // is no bound.
        if room == 0 {
            break;
        }
        room -= 1;
        if u <= lmask {
            out[0] = (cval | (u >> shift)) as u8;
            let mut c = shift;
            let mut i = 1;
            while c > 0 {
                c -= 6;
                out[i] = (0x80 | ((u >> c) & 0x3f)) as u8;
                i += 1;
            }
            return Some((out, n as i32 + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Words and strings by address.
    #[derive(Default)]
    struct Fake {
        words: HashMap<u32, u32>,
        strings: HashMap<u32, Vec<u8>>,
    }

    impl Mem for Fake {
        fn read(&self, addr: u32) -> u32 {
            self.words.get(&addr).copied().unwrap_or(0)
        }
        fn write(&mut self, addr: u32, v: u32) {
            self.words.insert(addr, v);
        }
        fn c_str(&self, addr: u32, max: usize) -> &[u8] {
            let s = self.strings.get(&addr).map_or(&[][..], |v| &v[..]);
            &s[..s.len().min(max)]
        }
    }

    fn table(m: &mut Fake, at: u32, charset: &str, alias: Option<&str>) {
        m.strings.insert(at + 0x100, charset.as_bytes().to_vec());
        m.write(at + field::CHARSET, at + 0x100);
        if let Some(a) = alias {
            m.strings.insert(at + 0x200, a.as_bytes().to_vec());
            m.write(at + field::ALIAS, at + 0x200);
        }
    }

    fn names(r: &Registry, m: &Fake) -> Vec<u32> {
        let mut v = Vec::new();
        assert!(r.walk(m, &mut |t| {
            v.push(t);
            true
        }));
        v
    }

    #[test]
    fn register_find_unregister_as_nls_base() {
        let mut m = Fake::default();
        let mut r = Registry::new();
        table(&mut m, 0x1000, "cp437", None);
        table(&mut m, 0x2000, "iso8859-1", None);
        table(&mut m, 0x3000, "koi8-r", Some("koi8r"));
        assert_eq!(r.register(&mut m, 0x1000, 0xbf00_0000), 0);
        assert_eq!(m.read(0x1000 + field::OWNER), 0xbf00_0000);
        assert_eq!(r.register(&mut m, 0x2000, 0xbf01_0000), 0);
        assert_eq!(r.register(&mut m, 0x3000, 0xbf02_0000), 0);
        // Pushed at the head.
        assert_eq!(names(&r, &m), [0x3000, 0x2000, 0x1000]);
        // Already listed: its next is set (or, for the oldest, it is found).
        assert_eq!(r.register(&mut m, 0x2000, 1), EBUSY);
        assert_eq!(r.register(&mut m, 0x1000, 1), EBUSY);
        assert_eq!(r.find(&m, b"cp437"), Some(0x1000));
        assert_eq!(r.find(&m, b"koi8r"), Some(0x3000), "by alias");
        assert_eq!(r.find(&m, b"koi8-r"), Some(0x3000));
        assert_eq!(r.find(&m, b"CP437"), None, "strcmp: case matters");
        assert_eq!(r.find(&m, b"utf8"), None);
        // Unlink from the middle, then the head, then the tail.
        assert_eq!(r.unregister(&mut m, 0x2000), 0);
        assert_eq!(names(&r, &m), [0x3000, 0x1000]);
        assert_eq!(r.unregister(&mut m, 0x2000), EINVAL);
        assert_eq!(r.unregister(&mut m, 0x3000), 0);
        assert_eq!(r.unregister(&mut m, 0x1000), 0);
        assert_eq!(names(&r, &m), Vec::<u32>::new());
        assert_eq!(r.unregister(&mut m, 0), EINVAL);
        // 6.1 leaves `next` behind: re-registering 0x3000 (next 0x2000) is
        // refused; the oldest (next 0) can come back.
        assert_eq!(r.register(&mut m, 0x3000, 1), EBUSY);
        assert_eq!(r.register(&mut m, 0x1000, 1), 0);
    }

    #[test]
    fn a_cycle_stops_the_walk() {
        let mut m = Fake::default();
        let mut r = Registry::new();
        table(&mut m, 0x1000, "a", None);
        assert_eq!(r.register(&mut m, 0x1000, 0), 0);
        m.write(0x1000 + field::NEXT, 0x1000);
        assert!(!r.walk(&m, &mut |_| true));
        assert_eq!(r.find(&m, b"b"), None);
        table(&mut m, 0x2000, "b", None);
        assert_eq!(r.register(&mut m, 0x2000, 0), EBUSY);
        let mut s = String::new();
        write_listing(&r, &m, &|_, o| o.write_str("m"), &mut s).unwrap();
        assert!(s.ends_with("(list cut after 1024 tables)\n"), "{s}");
    }

    #[test]
    fn listing() {
        let mut m = Fake::default();
        let mut r = Registry::new();
        table(&mut m, 0x1000, "cp437", None);
        table(&mut m, 0x3000, "koi8-r", Some("koi8r"));
        r.register(&mut m, 0x1000, 7);
        r.register(&mut m, 0x3000, 8);
        let mut s = String::new();
        write_listing(&r, &m, &|o, w| write!(w, "mod{o}"), &mut s).unwrap();
        assert_eq!(s, "koi8-r koi8r mod8\ncp437 - mod7\n");
    }

    fn dec(b: &[u8], inlen: i32) -> Option<(i32, u32)> {
        let mut read = Vec::new();
        let r = utf8_to_utf32(
            &mut |i| {
                read.push(i);
                b.get(i).copied().unwrap_or(0)
            },
            inlen,
        );
        // Never a byte past the sequence or inlen (but byte 0).
        assert!(
            read.iter().all(|&i| i == 0 || (i as i32) < inlen),
            "{read:?}"
        );
        r
    }

    #[test]
    fn utf8_to_utf32_as_nls_base() {
        assert_eq!(dec(b"A", 1), Some((1, 0x41)));
        assert_eq!(dec("é".as_bytes(), 2), Some((2, 0xe9)));
        assert_eq!(dec("€".as_bytes(), 3), Some((3, 0x20ac)));
        assert_eq!(dec("😀".as_bytes(), 4), Some((4, 0x1f600)));
        assert_eq!(dec(&[0xf4, 0x8f, 0xbf, 0xbf], 4), Some((4, UNICODE_MAX)));
        assert_eq!(dec(&[0xf4, 0x90, 0x80, 0x80], 4), None, "beyond U+10FFFF");
        assert_eq!(dec(&[0xed, 0xa0, 0x80], 3), None, "surrogate");
        assert_eq!(dec(&[0xc0, 0x80], 2), None, "overlong NUL");
        assert_eq!(dec(&[0xe0, 0x80, 0x80], 3), None, "overlong");
        assert_eq!(dec(&[0xc3, 0x28], 2), None, "bad continuation");
        assert_eq!(dec(&[0xc3, 0xa9], 1), None, "truncated");
        assert_eq!(dec(&[0x80], 1), None, "lone continuation");
        assert_eq!(dec(&[0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], 7), None);
        assert_eq!(dec(b"A", 0), Some((1, 0x41)), "byte 0 read anyway, as 6.1");
    }

    #[test]
    fn utf32_to_utf8_as_nls_base() {
        for c in ['A', 'é', '€', '😀', '\u{10ffff}', '\0'] {
            let mut b = [0; 4];
            let want = c.encode_utf8(&mut b).as_bytes();
            let (got, n) = utf32_to_utf8(c as u32, 6).unwrap();
            assert_eq!(&got[..n as usize], want, "{c:?}");
            assert_eq!(dec(&got, n), Some((n, c as u32)));
        }
        assert_eq!(utf32_to_utf8(0xd800, 6), None);
        assert_eq!(utf32_to_utf8(0x11_0000, 6), None);
        assert_eq!(utf32_to_utf8(0x20ac, 2), None, "no room");
        assert_eq!(utf32_to_utf8(0x20ac, 3).map(|r| r.1), Some(3));
        assert_eq!(utf32_to_utf8(0x41, 0), None);
        assert_eq!(utf32_to_utf8(0x20ac, -1).map(|r| r.1), Some(3), "as 6.1");
    }
}
