/work/main/modules/rust/target/armv7a-none-eabi/release/deps/rust_hello-44c276e42ca53c76.d: rust_hello/src/lib.rs

/work/main/modules/rust/target/armv7a-none-eabi/release/deps/librust_hello-44c276e42ca53c76.a: rust_hello/src/lib.rs

rust_hello/src/lib.rs:
