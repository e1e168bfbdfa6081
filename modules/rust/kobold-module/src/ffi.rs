//! The kernel's exports, as `extern "C"` declarations (docs/module-api.md
//! lists them). Every call is `unsafe`: these are C functions with C's
//! contracts.
#![allow(non_upper_case_globals)]

use core::ffi::{c_char, c_int, c_ulong, c_void};

/// The kernel's `struct kernel_param_ops`: only its address matters.
#[repr(C)]
pub struct ParamOps {
    _private: [u8; 0],
}

unsafe extern "C" {
    pub fn _printk(fmt: *const c_char, ...) -> c_int;
    pub fn kmalloc(size: usize, flags: u32) -> *mut c_void;
    pub fn kzalloc(size: usize, flags: u32) -> *mut c_void;
    pub fn kfree(p: *const c_void);
    pub fn vmalloc(size: c_ulong) -> *mut c_void;
    pub fn vzalloc(size: c_ulong) -> *mut c_void;
    pub fn vfree(p: *const c_void);
    pub fn strlen(s: *const c_char) -> usize;

    pub static param_ops_int: ParamOps;
    pub static param_ops_uint: ParamOps;
    pub static param_ops_bool: ParamOps;
    pub static param_ops_charp: ParamOps;
}

/// Linux's GFP_KERNEL.
pub const GFP_KERNEL: u32 = 0xd0;
