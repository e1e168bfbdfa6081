//! # kobold-module: kernel modules in Rust
//!
//! The module side of Kobold's module ABI, in the spirit of Rust-for-Linux's
//! `kernel` crate and its `module!` macro, small enough to read in one go.
//! A Rust module is a `staticlib` crate; `cargo xtask` builds it with fat
//! LTO into a single ELF relocatable, which *is* the `.ko`. What the macro
//! emits is exactly what Linux's C macros emit, so the kernel's loader
//! cannot tell a Rust module from a C one:
//!
//! - `.modinfo` strings (`name=`, `license=`, `author=`, `description=`,
//!   `parmtype=`, `parm=`), as `MODULE_LICENSE` and friends;
//! - `init_module` in `.init.text` (freed after init) and `cleanup_module`
//!   in `.exit.text`, with the C ABI: init returns 0 or `-errno`;
//! - one 16-byte `struct kernel_param` per parameter in `__param`, pointing
//!   at the kernel's `param_ops_*` object for its type, as `module_param`.
//!
//! ```ignore
//! kobold_module::module! {
//!     name: "rust_hello",
//!     license: "GPL",
//!     description: "Says hello from Rust",
//!     init: init,
//!     exit: exit,
//!     params: {
//!         count: i32 = 1, "How many greetings";
//!     },
//! }
//! fn init() -> Result<(), i32> { pr_info!("count is {}", count()); Ok(()) }
//! fn exit() {}
//! ```
//!
//! Time ([`time`]: `jiffies`, `HZ`, `msleep`) and mutexes owning their
//! data ([`sync::Mutex`], declared with [`define_mutex!`]) wrap the
//! kernel's exports of the same names.
//!
//! Printing formats with `core::fmt` into a stack buffer and hands the
//! result to the kernel's `_printk` with a `%s`, so no Rust formatting
//! reaches C's varargs.
#![no_std]

pub mod ffi;
pub mod print;
pub mod sync;
pub mod time;

/// The kernel's errno values a module returns from init (as `Err(ENOMEM)`).
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const EIO: i32 = 5;
    pub const ENOMEM: i32 = 12;
    pub const ENODEV: i32 = 19;
    pub const EINVAL: i32 = 22;
}

/// A `charp` parameter: a C string the kernel allocated (or the default).
pub type Charp = *const core::ffi::c_char;

/// `struct kernel_param` (ARM32, 16 bytes), as `module_param` lays it out.
#[repr(C)]
pub struct KernelParam {
    pub name: *const core::ffi::c_char,
    pub ops: *const ffi::ParamOps,
    pub perm: u16,
    pub level: i8,
    pub flags: u8,
    pub arg: *mut core::ffi::c_void,
}

// SAFETY: the table is read-only data the kernel reads once, before init.
unsafe impl Sync for KernelParam {}

/// Copies a string into a byte array of its length, for `.modinfo`
/// statics built with `concat!` at compile time.
pub const fn bytes<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = b[i];
        i += 1;
    }
    out
}

/// A `vmalloc`ed buffer, `vfree`d on drop.
pub struct VBuffer {
    ptr: *mut u8,
    len: usize,
}

impl VBuffer {
    /// `vmalloc(len)`, zeroed (`vzalloc`); `None` when out of memory.
    pub fn new(len: usize) -> Option<VBuffer> {
        // SAFETY: a kernel export with C's contract; NULL on failure.
        let ptr = unsafe { ffi::vzalloc(len as core::ffi::c_ulong) } as *mut u8;
        (!ptr.is_null()).then_some(VBuffer { ptr, len })
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes owned by this buffer until drop.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    pub fn addr(&self) -> usize {
        self.ptr as usize
    }
}

impl Drop for VBuffer {
    fn drop(&mut self) {
        // SAFETY: allocated by vzalloc, freed once.
        unsafe { ffi::vfree(self.ptr as *const core::ffi::c_void) };
    }
}

/// A Rust panic in a module is a kernel bug: say so and oops (the oops
/// names the module), as Rust-for-Linux's panic handler does with BUG().
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    print::printk(
        print::KERN_EMERG,
        format_args!("Rust module panicked: {info}"),
    );
    loop {
        // SAFETY: UDF raises an undefined-instruction exception: an oops.
        unsafe { core::arch::asm!("udf #0") };
    }
}

/// Declares a module: its `.modinfo`, entry points and parameters.
#[macro_export]
macro_rules! module {
    (
        name: $name:literal,
        license: $license:literal,
        $(author: $author:literal,)?
        $(description: $description:literal,)?
        init: $init:path,
        exit: $exit:path,
        $(params: { $($pname:ident : $pty:tt = $pdefault:expr, $pdesc:literal;)* },)?
    ) => {
        $crate::modinfo!(name, $name);
        $crate::modinfo!(license, $license);
        $($crate::modinfo!(author, $author);)?
        $($crate::modinfo!(description, $description);)?

        /// Linux's `init_module`: the loader calls it once, then frees it.
        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".init.text")]
        pub extern "C" fn init_module() -> i32 {
            match $init() {
                Ok(()) => 0,
                Err(errno) => -errno,
            }
        }

        /// Linux's `cleanup_module`.
        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".exit.text")]
        pub extern "C" fn cleanup_module() {
            $exit()
        }

        $($(
            $crate::param!($pname, $pty, $pdefault, $pdesc);
        )*)?
    };
}

/// One `.modinfo` string: `key=value\0`.
#[macro_export]
macro_rules! modinfo {
    ($key:ident, $value:expr) => {
        const _: () = {
            const S: &str = concat!(stringify!($key), "=", $value, "\0");
            #[unsafe(link_section = ".modinfo")]
            #[used]
            static INFO: [u8; S.len()] = $crate::bytes(S);
        };
    };
}

/// One parameter: the variable, its `__param` entry, `parmtype` and
/// `parm` strings, and an accessor function of the same name.
#[macro_export]
macro_rules! param {
    ($name:ident, $ty:tt, $default:expr, $desc:literal) => {
        #[allow(non_snake_case)]
        mod $name {
            #[allow(non_upper_case_globals)]
            pub static mut VALUE: $crate::param_type!($ty) = $default;
        }
        /// The parameter's current value.
        #[allow(dead_code)]
        fn $name() -> $crate::param_type!($ty) {
            // SAFETY: written by the kernel before init, read-only after.
            unsafe { core::ptr::read_volatile(&raw const $name::VALUE) }
        }
        const _: () = {
            #[unsafe(link_section = "__param")]
            #[used]
            static PARAM: $crate::KernelParam = $crate::KernelParam {
                name: concat!(stringify!($name), "\0").as_ptr().cast(),
                ops: $crate::param_ops!($ty),
                perm: 0o444,
                level: -1,
                flags: 0,
                arg: (&raw mut $name::VALUE).cast(),
            };
        };
        $crate::modinfo!(
            parmtype,
            concat!(stringify!($name), ":", $crate::param_type_name!($ty))
        );
        $crate::modinfo!(parm, concat!(stringify!($name), ":", $desc));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! param_type {
    (i32) => {
        i32
    };
    (u32) => {
        u32
    };
    (bool) => {
        bool
    };
    (charp) => {
        $crate::Charp
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! param_type_name {
    (i32) => {
        "int"
    };
    (u32) => {
        "uint"
    };
    (bool) => {
        "bool"
    };
    (charp) => {
        "charp"
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! param_ops {
    (i32) => {
        &raw const $crate::ffi::param_ops_int
    };
    (u32) => {
        &raw const $crate::ffi::param_ops_uint
    };
    (bool) => {
        &raw const $crate::ffi::param_ops_bool
    };
    (charp) => {
        &raw const $crate::ffi::param_ops_charp
    };
}
