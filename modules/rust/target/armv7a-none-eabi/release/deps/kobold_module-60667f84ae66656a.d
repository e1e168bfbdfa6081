/work/main/modules/rust/target/armv7a-none-eabi/release/deps/kobold_module-60667f84ae66656a.d: kobold-module/src/lib.rs kobold-module/src/ffi.rs kobold-module/src/print.rs

/work/main/modules/rust/target/armv7a-none-eabi/release/deps/libkobold_module-60667f84ae66656a.rlib: kobold-module/src/lib.rs kobold-module/src/ffi.rs kobold-module/src/print.rs

/work/main/modules/rust/target/armv7a-none-eabi/release/deps/libkobold_module-60667f84ae66656a.rmeta: kobold-module/src/lib.rs kobold-module/src/ffi.rs kobold-module/src/print.rs

kobold-module/src/lib.rs:
kobold-module/src/ffi.rs:
kobold-module/src/print.rs:
