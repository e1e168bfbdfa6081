//! rust_hello: the hello module in Rust, with parameters, kmalloc and
//! vmalloc.
//!
//!   insmod /lib/modules/rust_hello.ko count=2 who=Kobold
//!
//! With `sleep_ms=N` it also sleeps N ms in init and shows what the
//! kernel's time and mutex exports do (`kobold_module::time`, `sync`).
#![no_std]

use kobold_module::time::{self, HZ};
use kobold_module::{VBuffer, define_mutex, ffi, pr_info};

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
        sleep_ms: u32 = 0, "Sleep this long in init, showing jiffies and a mutex (0: don't)";
    },
}

// How many greetings init gave, guarded by a mutex (Linux's DEFINE_MUTEX).
define_mutex!(static GREETED: Mutex<u32> = 0);

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
        if let Some(mut greeted) = GREETED.lock() {
            *greeted += 1;
        }
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
    if sleep_ms() > 0 {
        show_time_and_mutex(sleep_ms());
    }
    Ok(())
}

/// `msleep` measured in jiffies, and the mutex seen held and free.
fn show_time_and_mutex(ms: u32) {
    let want = time::msecs_to_jiffies(ms);
    let (start, start64) = (time::jiffies(), time::jiffies_64());
    time::msleep(ms);
    let (end, end64) = (time::jiffies(), time::jiffies_64());
    let ticks = end.wrapping_sub(start);
    let ok = time::time_after(end, start) && ticks >= want && end64 - start64 >= u64::from(want);
    pr_info!(
        "rust_hello: msleep({}) took {} jiffies (HZ {}, at least {}): {}",
        ms,
        ticks,
        HZ,
        want,
        if ok { "ok" } else { "FAILED" }
    );
    let Some(guard) = GREETED.lock() else {
        pr_info!("rust_hello: mutex already held: FAILED");
        return;
    };
    let (held, again, greeted) = (GREETED.is_locked(), GREETED.try_lock().is_some(), *guard);
    drop(guard);
    pr_info!(
        "rust_hello: mutex held {}, try_lock while held {}, after the guard {}; greeted {}",
        u8::from(held),
        u8::from(again),
        u8::from(GREETED.is_locked()),
        greeted
    );
}

fn hello_exit() {
    pr_info!("rust_hello: Goodbye, {}", who_str());
}
