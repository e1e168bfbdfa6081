/work/main/modules/rust/target/armv7a-none-eabi/release/deps/rust_consumer-ea912d7e5350cff6.d: rust_consumer/src/lib.rs

/work/main/modules/rust/target/armv7a-none-eabi/release/deps/librust_consumer-ea912d7e5350cff6.a: rust_consumer/src/lib.rs

rust_consumer/src/lib.rs:
