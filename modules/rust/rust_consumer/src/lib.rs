//! rust_consumer: a Rust module using the C provider module's exports,
//! so `provider` gains a user and cannot be removed first.
#![no_std]

use kobold_module::pr_info;

unsafe extern "C" {
    fn provider_add(a: i32, b: i32) -> i32;
}

kobold_module::module! {
    name: "rust_consumer",
    license: "GPL",
    init: consumer_init,
    exit: consumer_exit,
}

fn consumer_init() -> Result<(), i32> {
    // SAFETY: provider.ko exports `int provider_add(int, int)`.
    let sum = unsafe { provider_add(20, 22) };
    pr_info!("rust_consumer: provider_add(20, 22) = {}", sum);
    Ok(())
}

fn consumer_exit() {
    pr_info!("rust_consumer: bye");
}
