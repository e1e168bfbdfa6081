//! A minimal I2C core for 6.1 modules: `i2c_transfer` and `__i2c_transfer`
//! as Linux 6.1's drivers/i2c/i2c-core-base.c has them.
//!
//! Debian builds the I2C core into vmlinux (`CONFIG_I2C=y`; no
//! `i2c-core.ko` in the package), and about fifty of its modules — DVB
//! demodulators, tuners and LNB supplies under drivers/media, an EEPROM
//! reader, fbdev's DDC — import nothing else that Kobold lacks. They talk
//! to their chip through the adapter a bridge driver hands them, with
//! `i2c_transfer(adap, msgs, num)`. The core's part is small and is what is
//! mirrored here:
//!
//! - `i2c_transfer`: an adapter whose algorithm has no `master_xfer` gets
//!   `-EOPNOTSUPP` (6.1's `dev_dbg` "I2C level transfers not supported",
//!   printed at `KERN_DEBUG`); else the bus is locked through the
//!   adapter's own `lock_ops->lock_bus(adap, I2C_LOCK_SEGMENT)` (muxes
//!   install their own; `i2c_register_adapter` installs the rt_mutex
//!   ones), `__i2c_transfer` runs, and `unlock_bus` releases it.
//! - `__i2c_transfer` (caller holds the bus): `WARN_ON(!msgs || num < 1)`
//!   → `-EINVAL`; an adapter marked suspended (`locked_flags` bit 0,
//!   `i2c_mark_adapter_suspended`) → `-ESHUTDOWN` with one
//!   `Transfer while suspended` warning (bit 1 remembers it was said);
//!   the adapter's `quirks` checked as `i2c_check_for_quirks` does
//!   (`-EOPNOTSUPP`, `adapter quirk: ...`, [`check_quirks`]); then
//!   `algo->master_xfer` is called, again on `-EAGAIN` (arbitration lost)
//!   up to `adap->retries` more times while `jiffies` has not passed
//!   `adap->timeout` since the first try ([`retry`]). Its result — the
//!   number of messages transferred or a negative errno — is returned.
//!   `master_xfer_atomic` is never chosen: 6.1 uses it only when
//!   `system_state > SYSTEM_RUNNING` with interrupts off (shutdown), a
//!   state Kobold's modules never run in. The `i2c_transfer` tracepoints
//!   are not there (no tracing).
//!
//! Not exported, because they need what Kobold does not have: adapter
//! and client registration (`i2c_add_adapter`, `i2c_new_client_device`,
//! `i2c_register_driver`: the driver model, sysfs, `struct device`
//! lifetimes), SMBus emulation (`i2c_smbus_xfer` and the `i2c_smbus_*`
//! helpers, which can be added on top of this).
//!
//! `i2c_transfer_buffer_flags(client, buf, count, flags)` (behind 6.1's
//! inline `i2c_master_send` / `i2c_master_recv`) is exported: one
//! message to `client->addr` with `flags | (client->flags & I2C_M_TEN)`,
//! through `i2c_transfer(client->adapter, &msg, 1)`; `count` if that
//! message went, else `i2c_transfer`'s result.
//! An adapter that reaches `i2c_transfer` was therefore made by a module
//! itself; if it has no `lock_ops` (only `i2c_register_adapter` would
//! have filled in the default ones, and Linux would jump through NULL),
//! Kobold refuses the transfer with `-EINVAL` and a message naming the
//! adapter instead of faulting.
//!
//! The layouts are Debian's armmp build's, read from its own modules (the
//! offsets below cite the instruction that shows each one); the pure
//! logic is host-tested, the glue reading module memory is target-only.

/// `EINVAL`.
pub const EINVAL: i32 = 22;
/// `EAGAIN`: arbitration lost, try again.
pub const EAGAIN: i32 = 11;
/// `EOPNOTSUPP`.
pub const EOPNOTSUPP: i32 = 95;
/// `ESHUTDOWN`: the adapter is suspended.
pub const ESHUTDOWN: i32 = 108;

/// `I2C_LOCK_ROOT_ADAPTER` / `I2C_LOCK_SEGMENT` (include/linux/i2c.h):
/// `i2c_transfer` locks the segment.
pub const I2C_LOCK_SEGMENT: u32 = 2;

/// `I2C_M_RD` in `struct i2c_msg`'s `flags`.
pub const I2C_M_RD: u16 = 0x0001;
/// `I2C_M_TEN`: a ten-bit address (also in `struct i2c_client`'s `flags`).
pub const I2C_M_TEN: u16 = 0x0010;

/// Offsets in 6.1's `struct i2c_client` (include/linux/i2c.h: `unsigned
/// short flags; unsigned short addr; char name[I2C_NAME_SIZE = 20];
/// struct i2c_adapter *adapter; ...`).
pub mod client {
    pub const FLAGS: u32 = 0;
    pub const ADDR: u32 = 2;
    pub const ADAPTER: u32 = 24;
}

/// `i2c_transfer_buffer_flags`'s message: `{addr, flags | (client_flags &
/// I2C_M_TEN), len: count}` (C truncates `count` to the `u16` `len`).
pub fn buffer_msg(addr: u16, client_flags: u16, flags: u16, count: i32) -> Msg {
    Msg {
        addr,
        flags: flags | (client_flags & I2C_M_TEN),
        len: count as u16,
    }
}

/// `i2c_transfer_buffer_flags`'s result: `count` when the one message
/// went (`i2c_transfer` returned 1), else what it returned.
pub const fn buffer_result(ret: i32, count: i32) -> i32 {
    if ret == 1 { count } else { ret }
}

/// Offsets in 6.1's `struct i2c_adapter` (armmp).
pub mod adapter {
    /// `const struct i2c_algorithm *algo`: i2c-mux.ko's
    /// `i2c_mux_functionality` loads `[adap, #8]` then calls
    /// `[algo, #16]` (`functionality`); `i2c_mux_add_adapter` stores
    /// `&priv->algo` at +8.
    pub const ALGO: u32 = 8;
    /// `const struct i2c_lock_operations *lock_ops`: i2c-mux.ko's
    /// `i2c_parent_unlock_bus` calls `[[parent, #16], #8]`
    /// (`unlock_bus`), `i2c_parent_trylock_bus` `[[parent, #16], #4]`;
    /// i2c-exynos5.ko's suspend calls `[[adap, #16], #0]` (`lock_bus`).
    pub const LOCK_OPS: u32 = 16;
    /// `int timeout` (in jiffies): `i2c_mux_add_adapter` copies
    /// `parent->timeout` from +52 (after `bus_lock` at +20 and
    /// `mux_lock` at +36, 16-byte non-debug `rt_mutex`es: the same
    /// function's `rt_mutex_unlock(&parent->mux_lock)` passes +36).
    pub const TIMEOUT: u32 = 52;
    /// `int retries`: copied from +56 by `i2c_mux_add_adapter`.
    pub const RETRIES: u32 = 56;
    /// `unsigned long locked_flags`: i2c-exynos5.ko's
    /// `i2c_mark_adapter_suspended` does `_set_bit(0, adap + 560)` between
    /// `lock_bus` and `unlock_bus` (`struct device dev` is at +64:
    /// `i2c_root_adapter` subtracts 64 from the device).
    pub const LOCKED_FLAGS: u32 = 560;
    /// `int nr`: `i2c_adapter_id(parent)` reads +564 in
    /// `i2c_mux_add_adapter` (for the "i2c-%d-mux" name).
    pub const NR: u32 = 564;
    /// `const struct i2c_adapter_quirks *quirks`: `i2c_mux_add_adapter`
    /// copies +664 (`priv->adap.quirks = parent->quirks`).
    pub const QUIRKS: u32 = 664;
}

/// Offsets in 6.1's `struct i2c_algorithm` (function pointers in source
/// order; i2c-mux.ko's `i2c_mux_add_adapter` tests `master_xfer` (+0),
/// `master_xfer_atomic` (+4), `smbus_xfer` (+8), `smbus_xfer_atomic`
/// (+12) of the parent's algorithm and stores `functionality` at +16).
pub mod algo {
    /// `int (*master_xfer)(struct i2c_adapter *, struct i2c_msg *, int)`.
    pub const MASTER_XFER: u32 = 0;
}

/// Offsets in `struct i2c_lock_operations` (i2c-mux.ko, as above).
pub mod lock_ops {
    /// `void (*lock_bus)(struct i2c_adapter *, unsigned int flags)`.
    pub const LOCK_BUS: u32 = 0;
    /// `void (*unlock_bus)(struct i2c_adapter *, unsigned int flags)`.
    pub const UNLOCK_BUS: u32 = 8;
}

/// 6.1's `struct i2c_msg`: `{__u16 addr; __u16 flags; __u16 len; __u8
/// *buf;}`, 12 bytes (lnbp21.ko builds one on its stack: `strh` addr at
/// +0, flags +2, `str` len 1 at +4, buf at +8, and passes `sp`).
pub const MSG_SIZE: u32 = 12;

/// The bits of `struct i2c_adapter_quirks`' `flags` (include/linux/i2c.h).
pub mod aq {
    pub const COMB: u64 = 1 << 0;
    pub const COMB_WRITE_FIRST: u64 = 1 << 1;
    pub const COMB_READ_SECOND: u64 = 1 << 2;
    pub const COMB_SAME_ADDR: u64 = 1 << 3;
    pub const NO_ZERO_LEN_READ: u64 = 1 << 5;
    pub const NO_ZERO_LEN_WRITE: u64 = 1 << 6;
}

/// 6.1's `struct i2c_adapter_quirks`: `{u64 flags; int max_num_msgs; u16
/// max_write_len; u16 max_read_len; u16 max_comb_1st_msg_len; u16
/// max_comb_2nd_msg_len;}` at +0, +8, +12, +14, +16, +18 (AAPCS: the u64
/// aligns the structure to 8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quirks {
    pub flags: u64,
    pub max_num_msgs: i32,
    pub max_write_len: u16,
    pub max_read_len: u16,
    pub max_comb_1st_msg_len: u16,
    pub max_comb_2nd_msg_len: u16,
}

/// What the core reads of one `struct i2c_msg`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Msg {
    pub addr: u16,
    pub flags: u16,
    pub len: u16,
}

impl Msg {
    /// "read" or "write", as the quirk message says.
    pub fn direction(&self) -> &'static str {
        if self.flags & I2C_M_RD != 0 {
            "read"
        } else {
            "write"
        }
    }
}

/// A quirk the transfer breaks: the message (index) it names and 6.1's
/// text, printed as `adapter quirk: TEXT (addr 0x%04x, size %u, DIR)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuirkError {
    pub index: usize,
    pub what: &'static str,
}

/// `i2c_quirk_exceeded(val, quirk)`: a limit of 0 means none.
fn exceeded(val: u32, quirk: u32) -> bool {
    quirk != 0 && val > quirk
}

/// `i2c_check_for_quirks` (6.1): whether `num` messages (`msg(i)`, `i <
/// num`) may go to an adapter with quirks `q`. `num >= 1`.
pub fn check_quirks(
    q: &Quirks,
    num: usize,
    msg: &mut dyn FnMut(usize) -> Msg,
) -> Result<(), QuirkError> {
    let err = |index, what| Err(QuirkError { index, what });
    let mut max_num = q.max_num_msgs as u32;
    let mut do_len_check = true;
    if q.flags & aq::COMB != 0 {
        max_num = 2;
        if num == 2 {
            let (m0, m1) = (msg(0), msg(1));
            if q.flags & aq::COMB_WRITE_FIRST != 0 && m0.flags & I2C_M_RD != 0 {
                return err(0, "1st comb msg must be write");
            }
            if q.flags & aq::COMB_READ_SECOND != 0 && m1.flags & I2C_M_RD == 0 {
                return err(1, "2nd comb msg must be read");
            }
            if q.flags & aq::COMB_SAME_ADDR != 0 && m0.addr != m1.addr {
                return err(0, "comb msg only to same addr");
            }
            if exceeded(m0.len.into(), q.max_comb_1st_msg_len.into()) {
                return err(0, "msg too long");
            }
            if exceeded(m1.len.into(), q.max_comb_2nd_msg_len.into()) {
                return err(1, "msg too long");
            }
            do_len_check = false;
        }
    }
    // 6.1 compares `int num` with `int max_num`; a negative
    // `max_num_msgs` is as absurd there as here (as u32: huge, never hit
    // but by 0, which means no limit).
    if exceeded(num as u32, max_num) {
        return err(0, "too many messages");
    }
    for i in 0..num {
        let m = msg(i);
        let (max_len, no_zero) = if m.flags & I2C_M_RD != 0 {
            (q.max_read_len, aq::NO_ZERO_LEN_READ)
        } else {
            (q.max_write_len, aq::NO_ZERO_LEN_WRITE)
        };
        if do_len_check && exceeded(m.len.into(), max_len.into()) {
            return err(i, "msg too long");
        }
        if q.flags & no_zero != 0 && m.len == 0 {
            return err(i, "no zero length");
        }
    }
    Ok(())
}

/// `__i2c_transfer`'s loop: "Retry automatically on arbitration loss".
/// `xfer()` is `algo->master_xfer(adap, msgs, num)`, `now()` reads
/// `jiffies`. Tries while `try <= retries` (so a negative `retries`
/// tries nothing and returns 0, as 6.1's `for (ret = 0, try = 0; ...)`),
/// stops at the first result that is not `-EAGAIN`, or once `jiffies` is
/// after the first reading plus `timeout` (`time_after`, wrap-safe).
pub fn retry(
    retries: i32,
    timeout: i32,
    now: &mut dyn FnMut() -> u32,
    xfer: &mut dyn FnMut() -> i32,
) -> i32 {
    let orig = now();
    let mut ret = 0;
    let mut t: i32 = 0;
    while t <= retries {
        ret = xfer();
        if ret != -EAGAIN {
            break;
        }
        let deadline = orig.wrapping_add(timeout as u32);
        if (deadline.wrapping_sub(now()) as i32) < 0 {
            break;
        }
        t = match t.checked_add(1) {
            Some(n) => n,
            None => break,
        };
    }
    ret
}

#[cfg(target_arch = "arm")]
pub use target::{__i2c_transfer, i2c_transfer, i2c_transfer_buffer_flags};

#[cfg(target_arch = "arm")]
mod target {
    //! The exports: reading the adapter the module passes, calling its
    //! algorithm and lock operations.

    use super::*;
    use crate::time::jiffies::LINUX61_JIFFIES;

    type XferFn = unsafe extern "C" fn(u32, u32, i32) -> i32;
    type LockFn = unsafe extern "C" fn(u32, u32);

    /// The word at `base + off`.
    ///
    /// # Safety
    ///
    /// `base` is a structure of the module's with a word at `off` (the
    /// exports' C contract: a `struct i2c_adapter *` and what it points
    /// to).
    unsafe fn word(base: u32, off: u32) -> u32 {
        // SAFETY: this function's contract; volatile, as the module owns
        // the memory.
        unsafe { (base.wrapping_add(off) as *const u32).read_volatile() }
    }

    /// `locked_flags` bit operations, atomic as 6.1's `test_bit` /
    /// `test_and_set_bit`.
    fn flags<'a>(adap: u32) -> &'a core::sync::atomic::AtomicU32 {
        // SAFETY: `adap` is the caller's adapter (the exports' contract),
        // `locked_flags` an aligned word in it that outlives the call;
        // AtomicU32 has u32's layout.
        unsafe {
            &*(adap.wrapping_add(adapter::LOCKED_FLAGS) as *const core::sync::atomic::AtomicU32)
        }
    }

    fn msg(msgs: u32, i: usize) -> Msg {
        let p = msgs.wrapping_add(i as u32 * MSG_SIZE) as *const u16;
        // SAFETY: `i < num` messages of the caller's array (C's contract).
        unsafe {
            Msg {
                addr: p.read_volatile(),
                flags: p.add(1).read_volatile(),
                len: p.add(2).read_volatile(),
            }
        }
    }

    fn quirks(q: u32) -> Quirks {
        // SAFETY: `adap->quirks`, non-NULL: the adapter's
        // `struct i2c_adapter_quirks` (layout in [`Quirks`]).
        unsafe {
            let lo = word(q, 0);
            let hi = word(q, 4);
            let h = |off: u32| (q.wrapping_add(off) as *const u16).read_volatile();
            Quirks {
                flags: u64::from(lo) | (u64::from(hi) << 32),
                max_num_msgs: word(q, 8) as i32,
                max_write_len: h(12),
                max_read_len: h(14),
                max_comb_1st_msg_len: h(16),
                max_comb_2nd_msg_len: h(18),
            }
        }
    }

    /// `int __i2c_transfer(struct i2c_adapter *adap, struct i2c_msg *msgs,
    /// int num)`: the bus is already locked by the caller.
    ///
    /// # Safety
    ///
    /// `adap` is a `struct i2c_adapter` with an algorithm, `msgs` an array
    /// of `num` messages (C's contract).
    pub unsafe extern "C" fn __i2c_transfer(adap: u32, msgs: u32, num: i32) -> i32 {
        if msgs == 0 || num < 1 {
            crate::sync::warn(
                file!(),
                line!(),
                "__i2c_transfer",
                format_args!("__i2c_transfer: msgs {msgs:#x}, num {num}"),
            );
            return -EINVAL;
        }
        // SAFETY: the adapter's fields (this function's contract).
        let nr = unsafe { word(adap, adapter::NR) } as i32;
        let f = flags(adap);
        if f.load(core::sync::atomic::Ordering::SeqCst) & 1 != 0 {
            let old = f.fetch_or(2, core::sync::atomic::Ordering::SeqCst);
            if old & 2 == 0 {
                crate::sync::warn(
                    file!(),
                    line!(),
                    "__i2c_transfer",
                    format_args!("i2c i2c-{nr}: Transfer while suspended"),
                );
            }
            return -ESHUTDOWN;
        }
        // SAFETY: as above.
        let q = unsafe { word(adap, adapter::QUIRKS) };
        if q != 0 {
            let n = num as usize;
            if let Err(e) = check_quirks(&quirks(q), n, &mut |i| msg(msgs, i)) {
                let m = msg(msgs, e.index);
                crate::pr_err!(
                    "i2c i2c-{nr}: adapter quirk: {} (addr 0x{:04x}, size {}, {})",
                    e.what,
                    m.addr,
                    m.len,
                    m.direction()
                );
                return -EOPNOTSUPP;
            }
        }
        // SAFETY: as above.
        let (algo, retries, timeout) = unsafe {
            (
                word(adap, adapter::ALGO),
                word(adap, adapter::RETRIES) as i32,
                word(adap, adapter::TIMEOUT) as i32,
            )
        };
        // SAFETY: the algorithm's first pointer.
        let xfer = unsafe { word(algo, algo::MASTER_XFER) };
        if xfer == 0 {
            // 6.1 would call NULL here (i2c_transfer checked it; a
            // direct caller of __i2c_transfer is trusted to have).
            return -EOPNOTSUPP;
        }
        // SAFETY: a non-NULL `master_xfer` of the module's algorithm.
        let xfer: XferFn = unsafe { core::mem::transmute::<usize, XferFn>(xfer as usize) };
        retry(retries, timeout, &mut || LINUX61_JIFFIES.get(), &mut || {
            // SAFETY: the algorithm's C contract, with the caller's
            // arguments.
            unsafe { xfer(adap, msgs, num) }
        })
    }

    /// `int i2c_transfer(struct i2c_adapter *adap, struct i2c_msg *msgs,
    /// int num)`.
    ///
    /// # Safety
    ///
    /// As [`__i2c_transfer`].
    pub unsafe extern "C" fn i2c_transfer(adap: u32, msgs: u32, num: i32) -> i32 {
        // SAFETY: the adapter's fields (this function's contract).
        let (algo, ops, nr) = unsafe {
            (
                word(adap, adapter::ALGO),
                word(adap, adapter::LOCK_OPS),
                word(adap, adapter::NR) as i32,
            )
        };
        // SAFETY: the adapter's algorithm.
        if algo == 0 || unsafe { word(algo, algo::MASTER_XFER) } == 0 {
            crate::pr_debug!("i2c i2c-{nr}: I2C level transfers not supported");
            return -EOPNOTSUPP;
        }
        let (lock, unlock) = if ops == 0 {
            (0, 0)
        } else {
            // SAFETY: the adapter's lock operations, non-NULL.
            unsafe {
                (
                    word(ops, lock_ops::LOCK_BUS),
                    word(ops, lock_ops::UNLOCK_BUS),
                )
            }
        };
        if lock == 0 || unlock == 0 {
            crate::pr_err!(
                "i2c i2c-{nr}: no lock_ops->lock_bus/unlock_bus (adapter not registered): transfer refused"
            );
            return -EINVAL;
        }
        // SAFETY: non-NULL functions of the module's lock operations.
        let (lock, unlock) = unsafe {
            (
                core::mem::transmute::<usize, LockFn>(lock as usize),
                core::mem::transmute::<usize, LockFn>(unlock as usize),
            )
        };
        // SAFETY: `i2c_lock_bus(adap, I2C_LOCK_SEGMENT)`, then the
        // transfer and `i2c_unlock_bus`, with this function's arguments.
        unsafe {
            lock(adap, I2C_LOCK_SEGMENT);
            let ret = __i2c_transfer(adap, msgs, num);
            unlock(adap, I2C_LOCK_SEGMENT);
            ret
        }
    }

    /// `int i2c_transfer_buffer_flags(const struct i2c_client *client,
    /// char *buf, int count, u16 flags)`: the message built on this stack,
    /// as 6.1 builds it on its own.
    ///
    /// # Safety
    ///
    /// `client` is a `struct i2c_client` whose `adapter` is as for
    /// [`i2c_transfer`], `buf` holds `count` bytes (C's contract).
    pub unsafe extern "C" fn i2c_transfer_buffer_flags(
        client: u32,
        buf: u32,
        count: i32,
        flags: u16,
    ) -> i32 {
        // SAFETY: the client's fields (this function's contract).
        let (cflags, addr, adap) = unsafe {
            let h = |off: u32| (client.wrapping_add(off) as *const u16).read_volatile();
            (
                h(client::FLAGS),
                h(client::ADDR),
                word(client, client::ADAPTER),
            )
        };
        let m = buffer_msg(addr, cflags, flags, count);
        // `struct i2c_msg`: addr, flags, len (u16 each, then padding), buf.
        let msg: [u32; 3] = [
            u32::from(m.addr) | (u32::from(m.flags) << 16),
            u32::from(m.len),
            buf,
        ];
        // SAFETY: one message, on this stack for the call; the adapter
        // and buffer per this function's contract.
        let ret = unsafe { i2c_transfer(adap, msg.as_ptr() as u32, 1) };
        buffer_result(ret, count)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn buffer_flags_message_as_i2c_core_base() {
        let m = buffer_msg(0x50, I2C_M_TEN | 0x4000, I2C_M_RD, 3);
        assert_eq!((m.addr, m.flags, m.len), (0x50, I2C_M_RD | I2C_M_TEN, 3));
        let m = buffer_msg(0x1a, 0, 0, 0x1_0002);
        assert_eq!((m.flags, m.len), (0, 2), "only I2C_M_TEN; len is a u16");
        assert_eq!(buffer_result(1, 3), 3);
        assert_eq!(buffer_result(0, 3), 0);
        assert_eq!(buffer_result(-EOPNOTSUPP, 3), -EOPNOTSUPP);
    }
    use super::*;

    fn msgs(v: &[Msg]) -> impl FnMut(usize) -> Msg + '_ {
        |i| v[i]
    }

    const W: Msg = Msg {
        addr: 0x50,
        flags: 0,
        len: 2,
    };
    const R: Msg = Msg {
        addr: 0x50,
        flags: I2C_M_RD,
        len: 4,
    };

    #[test]
    fn no_quirks_pass() {
        let q = Quirks::default();
        assert_eq!(check_quirks(&q, 3, &mut msgs(&[W, R, W])), Ok(()));
    }

    #[test]
    fn combined_messages() {
        let q = Quirks {
            flags: aq::COMB | aq::COMB_WRITE_FIRST | aq::COMB_READ_SECOND | aq::COMB_SAME_ADDR,
            max_comb_1st_msg_len: 2,
            max_comb_2nd_msg_len: 4,
            max_read_len: 1,
            ..Quirks::default()
        };
        // A write then a read to one address: the combined limits apply,
        // not max_read_len.
        assert_eq!(check_quirks(&q, 2, &mut msgs(&[W, R])), Ok(()));
        let e = |index, what| Err(QuirkError { index, what });
        assert_eq!(
            check_quirks(&q, 2, &mut msgs(&[R, R])),
            e(0, "1st comb msg must be write")
        );
        assert_eq!(
            check_quirks(&q, 2, &mut msgs(&[W, W])),
            e(1, "2nd comb msg must be read")
        );
        let r51 = Msg { addr: 0x51, ..R };
        assert_eq!(
            check_quirks(&q, 2, &mut msgs(&[W, r51])),
            e(0, "comb msg only to same addr")
        );
        let r5 = Msg { len: 5, ..R };
        assert_eq!(
            check_quirks(&q, 2, &mut msgs(&[W, r5])),
            e(1, "msg too long")
        );
        // COMB caps the count at 2; one message gets the plain limits.
        assert_eq!(
            check_quirks(&q, 3, &mut msgs(&[W, R, W])),
            e(0, "too many messages")
        );
        assert_eq!(check_quirks(&q, 1, &mut msgs(&[R])), e(0, "msg too long"));
    }

    #[test]
    fn lengths_counts_and_zero_length() {
        let q = Quirks {
            flags: aq::NO_ZERO_LEN_READ,
            max_num_msgs: 2,
            max_write_len: 2,
            ..Quirks::default()
        };
        let e = |index, what| Err(QuirkError { index, what });
        assert_eq!(check_quirks(&q, 2, &mut msgs(&[W, R])), Ok(()));
        assert_eq!(
            check_quirks(&q, 3, &mut msgs(&[W, R, R])),
            e(0, "too many messages")
        );
        let w3 = Msg { len: 3, ..W };
        assert_eq!(
            check_quirks(&q, 2, &mut msgs(&[R, w3])),
            e(1, "msg too long")
        );
        let r0 = Msg { len: 0, ..R };
        assert_eq!(
            check_quirks(&q, 1, &mut msgs(&[r0])),
            e(0, "no zero length")
        );
        // Zero-length writes are allowed: only NO_ZERO_LEN_READ is set.
        let w0 = Msg { len: 0, ..W };
        assert_eq!(check_quirks(&q, 1, &mut msgs(&[w0])), Ok(()));
        assert_eq!(w0.direction(), "write");
        assert_eq!(r0.direction(), "read");
    }

    #[test]
    fn retries_on_eagain_only() {
        let mut calls = 0;
        let r = retry(3, 250, &mut || 1000, &mut || {
            calls += 1;
            if calls < 3 { -EAGAIN } else { 2 }
        });
        assert_eq!((r, calls), (2, 3));
        // Another error is returned at once.
        let mut calls = 0;
        let r = retry(3, 250, &mut || 0, &mut || {
            calls += 1;
            -5
        });
        assert_eq!((r, calls), (-5, 1));
        // retries + 1 tries at most, then -EAGAIN.
        let mut calls = 0;
        let r = retry(2, 250, &mut || 0, &mut || {
            calls += 1;
            -EAGAIN
        });
        assert_eq!((r, calls), (-EAGAIN, 3));
        // A negative retries count tries nothing: 0, as 6.1's loop.
        let mut calls = 0;
        let r = retry(-1, 250, &mut || 0, &mut || {
            calls += 1;
            1
        });
        assert_eq!((r, calls), (0, 0));
    }

    #[test]
    fn retries_stop_after_timeout_across_the_wrap() {
        let mut t = u32::MAX - 5;
        let mut calls = 0;
        let r = retry(
            100,
            10,
            &mut || {
                t = t.wrapping_add(4);
                t
            },
            &mut || {
                calls += 1;
                -EAGAIN
            },
        );
        // orig = MAX-1; reads MAX+3 (=2), 6, 10: 10 is after orig+10 = 8.
        assert_eq!((r, calls), (-EAGAIN, 3));
    }
}
