//! 6.1's device printing (drivers/base/core.c, lib/dynamic_debug.c):
//! `_dev_emerg` .. `_dev_info`, `_dev_printk`, `__dynamic_dev_dbg` and
//! `__dynamic_pr_debug`, over the fields of a 6.1 `struct device` and a
//! 6.1 `struct _ddebug` that the messages read.
//!
//! Linux prints a device's message as `"%s %s: %pV"` of
//! `dev_driver_string(dev)`, `dev_name(dev)` and the caller's format
//! (`__dev_printk`), or `"(NULL device *): %pV"` for a NULL device, at the
//! function's level (`_dev_err`: KERN_ERR ...; `_dev_printk(level, ...)`:
//! the level string's digit). `dev_name` is `dev->init_name` if set, else
//! `dev->kobj.name`; `dev_driver_string` is `dev->driver->name`, else the
//! bus's name, else the class's, else `""` (`dev_bus_name`).
//!
//! The offsets in Debian's armmp build (32-bit ARM, no
//! `CONFIG_DEBUG_KOBJECT_RELEASE`), and where each comes from:
//! - `kobj.name` +0: `struct kobject` is the first member and `name` its
//!   first field (include/linux/kobject.h).
//! - `parent` +36: `struct kobject` is 36 bytes (name, entry, parent,
//!   kset, ktype, sd, kref, the state bit word); Debian's `videodev.ko`
//!   (`__video_register_device`) stores `vdev->dev.parent` at
//!   `dev + 36` (`str r3, [r4, #140]` with `&vdev->dev` = `r4 + 104`).
//! - `init_name` +44, `bus` +52, `driver` +56: the members after `parent`
//!   in 6.1's order (`parent`, `p`, `init_name`, `type`, `bus`, `driver`),
//!   one pointer each; `videodev.ko` reads `init_name` at +44 (`ldr r1,
//!   [r3, #44]`, inline `dev_name`).
//! - `class` +456: `videodev.ko` stores `&video_class` at `dev + 456`
//!   (`str sl, [r4, #560]`), next to `devt` at +436 (`MKDEV(81, minor)`,
//!   `orr r3, r3, #0x5100000; str r3, [r4, #540]`) and `release` at +464
//!   (`str r3, [r4, #568]` of `v4l2_device_release`), as 6.1's
//!   `vdev->dev.class = &video_class` lines put them.
//! - `struct device_driver`, `struct bus_type`, `struct class`: `name` is
//!   the first field of each.
//!
//! `struct _ddebug` (include/linux/dynamic_debug.h of 6.1, 32 bytes,
//! aligned 8, in the module's `__dyndbg` section): `modname` +0,
//! `function` +4, `filename` +8, `format` +12, then the word at +16 with
//! `lineno:18`, `class_id:6`, `flags:8` (Debian's `as102_fe.ko` has
//! `0x00fc008f` there: line 143, class 63 = `_DPRINTK_CLASS_DFLT`, no
//! flags), then the static key. A `pr_debug` site is a jump label that
//! is a NOP until the descriptor is enabled (through the dynamic debug
//! control file, which Kobold does not have), so as on Linux the calls are
//! off by default; `__dynamic_pr_debug` itself prints unconditionally, as
//! 6.1's does, with the prefix the descriptor's flags ask for
//! (`dynamic_emit_prefix`).

use core::fmt::{self, Write};

/// `dev->kobj.name`.
pub const KOBJ_NAME: u32 = 0;
/// `dev->init_name`.
pub const INIT_NAME: u32 = 44;
/// `dev->bus`.
pub const BUS: u32 = 52;
/// `dev->driver`.
pub const DRIVER: u32 = 56;
/// `dev->class`.
pub const CLASS: u32 = 456;

/// `_DPRINTK_FLAGS_*` (include/linux/dynamic_debug.h).
pub const DPRINTK_PRINT: u32 = 1 << 0;
pub const DPRINTK_INCL_MODNAME: u32 = 1 << 1;
pub const DPRINTK_INCL_FUNCNAME: u32 = 1 << 2;
pub const DPRINTK_INCL_LINENO: u32 = 1 << 3;
pub const DPRINTK_INCL_TID: u32 = 1 << 4;
/// `_DPRINTK_FLAGS_INCL_ANY`.
pub const DPRINTK_INCL_ANY: u32 =
    DPRINTK_INCL_MODNAME | DPRINTK_INCL_FUNCNAME | DPRINTK_INCL_LINENO | DPRINTK_INCL_TID;

/// How this file reads module memory (the kernel's glue reads it where
/// the module put it; tests give a map).
pub trait Mem {
    /// The word at `addr`.
    fn read(&self, addr: u32) -> u32;
    /// The C string at `addr`, at most `max` bytes.
    fn c_str(&self, addr: u32, max: usize) -> &[u8];
}

/// The longest name printed (Linux's names are bounded by their buffers;
/// a bad one is cut here rather than read on).
pub const NAME_MAX: usize = 64;

fn str_at(mem: &dyn Mem, addr: u32) -> &[u8] {
    if addr == 0 {
        b""
    } else {
        mem.c_str(addr, NAME_MAX)
    }
}

/// `dev_name(dev)`.
pub fn dev_name(mem: &dyn Mem, dev: u32) -> &[u8] {
    let init = mem.read(dev.wrapping_add(INIT_NAME));
    if init != 0 {
        return str_at(mem, init);
    }
    str_at(mem, mem.read(dev.wrapping_add(KOBJ_NAME)))
}

/// `dev_driver_string(dev)`: the driver's name, else `dev_bus_name`.
pub fn dev_driver_string(mem: &dyn Mem, dev: u32) -> &[u8] {
    for field in [DRIVER, BUS, CLASS] {
        let p = mem.read(dev.wrapping_add(field));
        if p != 0 {
            return str_at(mem, mem.read(p));
        }
    }
    b""
}

fn bytes(out: &mut dyn Write, b: &[u8]) -> fmt::Result {
    for &c in b {
        out.write_char(c as char)?;
    }
    Ok(())
}

/// The text before a device's message: `"<driver> <name>: "`, or
/// `"(NULL device *): "` for a NULL `dev` (`__dev_printk`).
pub fn write_dev_prefix(out: &mut dyn Write, mem: &dyn Mem, dev: u32) -> fmt::Result {
    if dev == 0 {
        return out.write_str("(NULL device *): ");
    }
    bytes(out, dev_driver_string(mem, dev))?;
    out.write_char(' ')?;
    bytes(out, dev_name(mem, dev))?;
    out.write_str(": ")
}

/// A `struct _ddebug`'s flags (the top byte of the word at +16).
pub fn ddebug_flags(mem: &dyn Mem, desc: u32) -> u32 {
    mem.read(desc.wrapping_add(16)) >> 24
}

/// `dynamic_emit_prefix(desc, buf)`: nothing unless the flags include a
/// part; then `[pid] ` (or `<intr> `), `modname:`, `function:`, `line:`
/// as asked, and a space after any of the last three.
pub fn write_ddebug_prefix(
    out: &mut dyn Write,
    mem: &dyn Mem,
    desc: u32,
    pid: u32,
    in_interrupt: bool,
) -> fmt::Result {
    let flags = ddebug_flags(mem, desc);
    if flags & DPRINTK_INCL_ANY == 0 {
        return Ok(());
    }
    if flags & DPRINTK_INCL_TID != 0 {
        if in_interrupt {
            out.write_str("<intr> ")?;
        } else {
            write!(out, "[{pid}] ")?;
        }
    }
    let mut any = false;
    if flags & DPRINTK_INCL_MODNAME != 0 {
        bytes(out, str_at(mem, mem.read(desc)))?;
        out.write_char(':')?;
        any = true;
    }
    if flags & DPRINTK_INCL_FUNCNAME != 0 {
        bytes(out, str_at(mem, mem.read(desc.wrapping_add(4))))?;
        out.write_char(':')?;
        any = true;
    }
    if flags & DPRINTK_INCL_LINENO != 0 {
        write!(out, "{}:", mem.read(desc.wrapping_add(16)) & 0x3_ffff)?;
        any = true;
    }
    if any {
        out.write_char(' ')?;
    }
    Ok(())
}

/// The level digit of a `KERN_*` string (`_dev_printk`'s `level[1] -
/// '0'`), if it is one.
pub fn level_digit(level: &[u8]) -> Option<u8> {
    match level {
        [1, d @ b'0'..=b'7', ..] => Some(d - b'0'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::collections::BTreeMap;
    use std::string::String;

    #[derive(Default)]
    struct M {
        words: BTreeMap<u32, u32>,
        strs: BTreeMap<u32, &'static [u8]>,
    }
    impl Mem for M {
        fn read(&self, a: u32) -> u32 {
            self.words.get(&a).copied().unwrap_or(0)
        }
        fn c_str(&self, a: u32, max: usize) -> &[u8] {
            let s = self.strs.get(&a).copied().unwrap_or(b"");
            &s[..s.len().min(max)]
        }
    }

    fn prefix(m: &M, dev: u32) -> String {
        let mut s = String::new();
        write_dev_prefix(&mut s, m, dev).unwrap();
        s
    }

    #[test]
    fn device_prefix_as_dev_printk() {
        let mut m = M::default();
        let dev = 0x1000;
        m.words.insert(dev + KOBJ_NAME, 0x100);
        m.strs.insert(0x100, b"ttyS0");
        // No driver, bus or class: "" then the name (Linux's " ttyS0: ").
        assert_eq!(prefix(&m, dev), " ttyS0: ");
        // A class only.
        m.words.insert(dev + CLASS, 0x200);
        m.words.insert(0x200, 0x210);
        m.strs.insert(0x210, b"tty");
        assert_eq!(prefix(&m, dev), "tty ttyS0: ");
        // The bus before the class.
        m.words.insert(dev + BUS, 0x300);
        m.words.insert(0x300, 0x310);
        m.strs.insert(0x310, b"platform");
        assert_eq!(prefix(&m, dev), "platform ttyS0: ");
        // The driver before both; init_name before kobj.name.
        m.words.insert(dev + DRIVER, 0x400);
        m.words.insert(0x400, 0x410);
        m.strs.insert(0x410, b"serial8250");
        m.words.insert(dev + INIT_NAME, 0x500);
        m.strs.insert(0x500, b"serial8250.0");
        assert_eq!(prefix(&m, dev), "serial8250 serial8250.0: ");
        assert_eq!(prefix(&m, 0), "(NULL device *): ");
    }

    #[test]
    fn ddebug_prefix_follows_the_flags() {
        let mut m = M::default();
        let d = 0x2000;
        m.words.insert(d, 0x100);
        m.strs.insert(0x100, b"as102_fe");
        m.words.insert(d + 4, 0x200);
        m.strs.insert(0x200, b"as102_fe_init");
        let p = |m: &M, intr| {
            let mut s = String::new();
            write_ddebug_prefix(&mut s, m, d, 1, intr).unwrap();
            s
        };
        // as102_fe.ko's word: line 143, class 63, no flags: no prefix.
        m.words.insert(d + 16, 0x00fc_008f);
        assert_eq!(ddebug_flags(&m, d), 0);
        assert_eq!(p(&m, false), "");
        // +p alone adds nothing either.
        m.words.insert(d + 16, 0x01fc_008f);
        assert_eq!(p(&m, false), "");
        // +pmfl.
        m.words.insert(d + 16, 0x0ffc_008f);
        assert_eq!(p(&m, false), "as102_fe:as102_fe_init:143: ");
        // +pt: the pid only, no trailing extra space.
        m.words.insert(d + 16, 0x11fc_008f);
        assert_eq!(p(&m, false), "[1] ");
        assert_eq!(p(&m, true), "<intr> ");
        // +ptl.
        m.words.insert(d + 16, 0x19fc_008f);
        assert_eq!(p(&m, false), "[1] 143: ");
    }

    #[test]
    fn levels() {
        assert_eq!(level_digit(b"\x013"), Some(3));
        assert_eq!(level_digit(b"\x016"), Some(6));
        assert_eq!(level_digit(b"\x01c"), None);
        assert_eq!(level_digit(b""), None);
    }
}
