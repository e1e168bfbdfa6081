//! The kernel's exports, as `extern "C"` declarations (docs/module-api.md
//! lists them). Every call is `unsafe`: these are C functions with C's
//! contracts.
#![allow(non_upper_case_globals)]

use core::ffi::{c_char, c_int, c_uint, c_ulong, c_void};

/// The kernel's `struct kernel_param_ops`: only its address matters.
#[repr(C)]
pub struct ParamOps {
    _private: [u8; 0],
}

/// `struct list_head`.
#[repr(C)]
pub struct ListHead {
    pub next: *mut ListHead,
    pub prev: *mut ListHead,
}

/// `struct mutex`, laid out as Linux 6.1's non-debug ARM build (20 bytes:
/// `owner`, `wait_lock`, `osq`, `wait_list`), as `<linux/mutex.h>` and the
/// kernel's `sync::mutex` lay it out.
#[repr(C)]
pub struct RawMutex {
    pub owner: c_ulong,
    pub wait_lock: c_uint,
    pub osq: c_uint,
    pub wait_list: ListHead,
}

const _: () = assert!(core::mem::size_of::<RawMutex>() == 20);
const _: () = assert!(core::mem::offset_of!(RawMutex, wait_list) == 12);

unsafe extern "C" {
    pub fn _printk(fmt: *const c_char, ...) -> c_int;
    pub fn kmalloc(size: usize, flags: u32) -> *mut c_void;
    pub fn kzalloc(size: usize, flags: u32) -> *mut c_void;
    pub fn kfree(p: *const c_void);
    pub fn vmalloc(size: c_ulong) -> *mut c_void;
    pub fn vzalloc(size: c_ulong) -> *mut c_void;
    pub fn vfree(p: *const c_void);
    pub fn strlen(s: *const c_char) -> usize;

    /// The tick count (`unsigned long volatile jiffies`): read it with
    /// `read_volatile` (`time::jiffies`).
    pub static jiffies: c_ulong;
    pub fn get_jiffies_64() -> u64;
    pub fn msecs_to_jiffies(m: c_uint) -> c_ulong;
    pub fn msleep(msecs: c_uint);

    pub fn __mutex_init(lock: *mut RawMutex, name: *const c_char, key: *mut c_void);
    pub fn mutex_lock(lock: *mut RawMutex);
    pub fn mutex_lock_interruptible(lock: *mut RawMutex) -> c_int;
    pub fn mutex_trylock(lock: *mut RawMutex) -> c_int;
    pub fn mutex_unlock(lock: *mut RawMutex);
    pub fn mutex_is_locked(lock: *mut RawMutex) -> bool;

    pub static param_ops_int: ParamOps;
    pub static param_ops_uint: ParamOps;
    pub static param_ops_bool: ParamOps;
    pub static param_ops_charp: ParamOps;
}

/// Linux's GFP_KERNEL.
pub const GFP_KERNEL: u32 = 0xd0;
