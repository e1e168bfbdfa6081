//! The C variadic entry points of both module ABIs, in one place.
//!
//! Stable Rust cannot define a C variadic function (`printk(fmt, ...)`), so
//! each one is a short assembly entry: it pushes r0–r3 just below the
//! caller's stack arguments, which makes every argument one array of words
//! in AAPCS order (a 64-bit argument starts at an even slot, counting r0 as
//! slot 0; the stack stays 8-byte aligned: 16 + 8 bytes), and passes that
//! array's address to a Rust `*_slots` function, which reads it through
//! `vsprintf::StackWords` against the format string. ARM EABI's `va_list`
//! is the same kind of array, so the `v*printf` family needs no entry.
//!
//! Kobold's own 3.18 API (`printk`, `snprintf`, `sprintf`, `scnprintf`,
//! `kasprintf`; `module::exports`) and the Linux 6.1 personality (`_printk`,
//! `_dev_<level>`, `_dev_printk`, dynamic debug, `warn_slowpath_fmt`,
//! `__request_module`; `module::linux61::kernel`) share the macro
//! below; the `*_slots` functions live with the API they belong to.

core::arch::global_asm!(
    crate::arch::armv7::arm_function_macro!("kobold_variadic_fn"),
    r#"
    // kobold_variadic NAME, SLOTS[, LEVEL]: NAME(...) calls SLOTS(args),
    // or SLOTS(args, LEVEL) when a level is given (6.1's `_dev_err` and
    // its siblings share one Rust function).
    .macro kobold_variadic name, slots, level
    kobold_variadic_fn \name
    push {{r0-r3}}
    push {{r4, lr}}
    add r0, sp, #8
    .ifnb \level
    mov r1, #\level
    .endif
    bl \slots
    pop {{r4, lr}}
    add sp, sp, #16
    bx lr
    .size \name, . - \name
    .endm

    // Kobold's 3.18 API (module::exports).
    kobold_variadic printk, kobold_printk_slots
    kobold_variadic _printk, kobold_printk_slots
    kobold_variadic snprintf, kobold_snprintf_slots
    kobold_variadic sprintf, kobold_sprintf_slots
    kobold_variadic scnprintf, kobold_scnprintf_slots
    kobold_variadic kasprintf, kobold_kasprintf_slots

    // The Linux 6.1 personality (module::linux61::kernel).
    kobold_variadic _dev_emerg, kobold_linux61_dev_level_slots, 0
    kobold_variadic _dev_alert, kobold_linux61_dev_level_slots, 1
    kobold_variadic _dev_crit, kobold_linux61_dev_level_slots, 2
    kobold_variadic _dev_err, kobold_linux61_dev_level_slots, 3
    kobold_variadic _dev_warn, kobold_linux61_dev_level_slots, 4
    kobold_variadic _dev_notice, kobold_linux61_dev_level_slots, 5
    kobold_variadic _dev_info, kobold_linux61_dev_level_slots, 6
    kobold_variadic _dev_printk, kobold_linux61_dev_printk_slots
    kobold_variadic __dynamic_pr_debug, kobold_linux61_dynamic_pr_debug_slots
    kobold_variadic __dynamic_dev_dbg, kobold_linux61_dynamic_dev_dbg_slots
    kobold_variadic warn_slowpath_fmt, kobold_linux61_warn_slots
    kobold_variadic __request_module, kobold_linux61_request_module_slots
"#
);
