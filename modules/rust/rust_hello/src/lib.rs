//! rust_hello: the hello module in Rust, with parameters, kmalloc and
//! vmalloc.
//!
//!   insmod /lib/modules/rust_hello.ko count=2 who=Kobold
#![no_std]

use kobold_module::{VBuffer, ffi, pr_info};

kobold_module::module! {
    name: "rust_hello",
    license: "GPL",
    author: "Kobold developers",
    description: "Says hello from Rust",
    init: hello_init,
    exit: hello_exit,
    params: {
        count: i32 = 1, "How many greetings";
        who: charp = c"world".as_ptr(), "Whom to greet";
    },
}

/// The name parameter as a &str.
fn who_str() -> &'static str {
    let p = who();
    // SAFETY: a NUL-terminated string: the default literal or the kernel's
    // copy of the insmod argument, alive as long as the module.
    let bytes = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), ffi::strlen(p)) };
    core::str::from_utf8(bytes).unwrap_or("?")
}

fn hello_init() -> Result<(), i32> {
    for i in 0..count() {
        pr_info!(
            "rust_hello: Hello, {}! ({} of {})",
            who_str(),
            i + 1,
            count()
        );
    }
    // kmalloc and vmalloc through the kernel's exports.
    // SAFETY: C's kmalloc contract; freed below.
    let small = unsafe { ffi::kmalloc(64, ffi::GFP_KERNEL) };
    if small.is_null() {
        return Err(kobold_module::errno::ENOMEM);
    }
    // SAFETY: from kmalloc above.
    unsafe { ffi::kfree(small) };
    let mut big = VBuffer::new(3 * 4096).ok_or(kobold_module::errno::ENOMEM)?;
    let sum: u32 = big
        .as_mut_slice()
        .iter_mut()
        .enumerate()
        .map(|(i, b)| {
            *b = i as u8;
            u32::from(*b)
        })
        .sum();
    pr_info!(
        "rust_hello: vmalloc'd 12288 bytes at {:#x}, sum {}",
        big.addr(),
        sum
    );
    Ok(())
}

fn hello_exit() {
    pr_info!("rust_hello: Goodbye, {}", who_str());
}
