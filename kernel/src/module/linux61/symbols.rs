//! The names of the 6.1 personality's exports and how 6.1 exports each
//! (`EXPORT_SYMBOL` or `EXPORT_SYMBOL_GPL`, function or data), sorted by
//! name. The target glue (`exports.rs`) gives each its address; this list
//! is host-tested for shape, and the `linux61` self-test checks on the
//! target that every name has one.
//!
//! Not here, by design: `jiffies`, `mutex_lock`/`mutex_unlock`,
//! `__list_add_valid`/`__list_del_entry_valid` (other parts of the
//! personality, added by their owners), and everything Kobold cannot
//! honour: a module importing it is refused naming the symbol.

/// How a symbol is exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `EXPORT_SYMBOL` of a function.
    Func,
    /// `EXPORT_SYMBOL` of an object.
    Data,
    /// `EXPORT_SYMBOL_GPL` of a function.
    GplFunc,
    /// `EXPORT_SYMBOL_GPL` of an object.
    GplData,
}

/// One export: its 6.1 name and kind.
#[derive(Clone, Copy, Debug)]
pub struct Symbol {
    pub name: &'static str,
    pub kind: Kind,
}

const fn f(name: &'static str) -> Symbol {
    Symbol {
        name,
        kind: Kind::Func,
    }
}

const fn d(name: &'static str) -> Symbol {
    Symbol {
        name,
        kind: Kind::Data,
    }
}

const fn gf(name: &'static str) -> Symbol {
    Symbol {
        name,
        kind: Kind::GplFunc,
    }
}

const fn gd(name: &'static str) -> Symbol {
    Symbol {
        name,
        kind: Kind::GplData,
    }
}

impl Kind {
    /// A function (else an object).
    pub const fn is_func(self) -> bool {
        matches!(self, Kind::Func | Kind::GplFunc)
    }

    /// `EXPORT_SYMBOL_GPL`.
    pub const fn is_gpl(self) -> bool {
        matches!(self, Kind::GplFunc | Kind::GplData)
    }
}

/// Every export of the runtime, sorted by name (bytewise).
pub const SYMBOLS: &[Symbol] = &[
    f("___ratelimit"),
    f("__aeabi_idiv"),
    f("__aeabi_idivmod"),
    f("__aeabi_lasr"),
    f("__aeabi_llsl"),
    f("__aeabi_llsr"),
    f("__aeabi_uidiv"),
    f("__aeabi_uidivmod"),
    f("__aeabi_unwind_cpp_pr0"),
    f("__aeabi_unwind_cpp_pr1"),
    f("__aeabi_unwind_cpp_pr2"),
    f("__do_div64"),
    f("__dynamic_dev_dbg"),
    f("__dynamic_pr_debug"),
    f("__gnu_mcount_nc"),
    f("__i2c_transfer"),
    f("__kmalloc"),
    f("__kmalloc_node"),
    f("__list_add_valid"),
    f("__list_del_entry_valid"),
    f("__msecs_to_jiffies"),
    f("__mutex_init"),
    f("__register_nls"),
    f("__request_module"),
    f("__stack_chk_fail"),
    f("_change_bit"),
    f("_clear_bit"),
    f("_dev_alert"),
    f("_dev_crit"),
    f("_dev_emerg"),
    f("_dev_err"),
    f("_dev_info"),
    f("_dev_notice"),
    f("_dev_printk"),
    f("_dev_warn"),
    f("_printk"),
    f("_raw_spin_lock"),
    f("_raw_spin_lock_irq"),
    f("_raw_spin_lock_irqsave"),
    f("_raw_spin_trylock"),
    f("_raw_spin_unlock_irqrestore"),
    f("_set_bit"),
    f("_test_and_change_bit"),
    f("_test_and_clear_bit"),
    f("_test_and_set_bit"),
    d("arm_delay_ops"),
    f("arm_heavy_mb"),
    f("div_s64_rem"),
    gd("fips_enabled"),
    f("fortify_panic"),
    gf("gcd"),
    f("get_jiffies_64"),
    f("i2c_transfer"),
    f("i2c_transfer_buffer_flags"),
    d("jiffies"),
    d("jiffies_64"),
    f("jiffies_to_msecs"),
    f("kernel_neon_begin"),
    f("kernel_neon_end"),
    f("kfree"),
    f("kfree_sensitive"),
    d("kmalloc_caches"),
    f("kmalloc_large"),
    f("kmalloc_large_node"),
    f("kmalloc_node_trace"),
    f("kmalloc_trace"),
    f("kvfree"),
    f("kvmalloc_node"),
    f("load_nls"),
    f("memcmp"),
    f("memcpy"),
    f("memmove"),
    f("memset"),
    f("msleep"),
    f("msleep_interruptible"),
    f("mutex_is_locked"),
    f("mutex_lock"),
    f("mutex_lock_interruptible"),
    f("mutex_trylock"),
    f("mutex_unlock"),
    d("param_ops_bool"),
    d("param_ops_byte"),
    d("param_ops_charp"),
    d("param_ops_int"),
    d("param_ops_long"),
    d("param_ops_short"),
    d("param_ops_uint"),
    d("param_ops_ulong"),
    d("param_ops_ushort"),
    f("print_hex_dump"),
    f("rational_best_approximation"),
    gf("read_current_timer"),
    f("snprintf"),
    f("sprintf"),
    f("strchr"),
    f("strcmp"),
    f("strcpy"),
    f("strlen"),
    f("strncasecmp"),
    f("strncmp"),
    f("strncpy"),
    f("strnlen"),
    f("strscpy"),
    gf("synchronize_rcu"),
    f("unload_nls"),
    f("unregister_nls"),
    f("usleep_range_state"),
    f("utf32_to_utf8"),
    f("utf8_to_utf32"),
    f("warn_slowpath_fmt"),
];

/// The symbol called `name`.
pub fn find(name: &str) -> Option<&'static Symbol> {
    SYMBOLS
        .binary_search_by(|s| s.name.cmp(name))
        .ok()
        .and_then(|i| SYMBOLS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_unique() {
        for w in SYMBOLS.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn what_the_issue_s_modules_need_minus_the_other_parts() {
        // The union of `nm -u` over the 32 modules of issue 11, without
        // jiffies, mutexes and the list checks (other parts add them).
        for name in [
            "__aeabi_idiv",
            "__aeabi_idivmod",
            "__aeabi_uidiv",
            "__aeabi_uidivmod",
            "__aeabi_unwind_cpp_pr0",
            "__gnu_mcount_nc",
            "__kmalloc",
            "__stack_chk_fail",
            "_printk",
            "fortify_panic",
            "kfree",
            "kmalloc_caches",
            "kmalloc_trace",
            "memcmp",
            "memcpy",
            "memmove",
            "memset",
            "strcmp",
        ] {
            assert!(find(name).is_some(), "{name}");
        }
    }

    #[test]
    fn kinds_as_6_1_exports_them() {
        // Every one is EXPORT_SYMBOL in 6.1 but fips_enabled
        // (crypto/fips.c), gcd (lib/math/gcd.c), read_current_timer
        // (arch/arm/lib/delay.c) and synchronize_rcu (kernel/rcu/tree.c):
        // EXPORT_SYMBOL_GPL. nls_base.c's and ratelimit.c's are plain.
        let gpl: Vec<_> = SYMBOLS
            .iter()
            .filter(|s| s.kind.is_gpl())
            .map(|s| s.name)
            .collect();
        assert_eq!(
            gpl,
            [
                "fips_enabled",
                "gcd",
                "read_current_timer",
                "synchronize_rcu"
            ]
        );
        for name in [
            "__register_nls",
            "unregister_nls",
            "load_nls",
            "unload_nls",
            "utf8_to_utf32",
            "___ratelimit",
        ] {
            assert_eq!(find(name).map(|s| s.kind), Some(Kind::Func), "{name}");
        }
        assert_eq!(find("kmalloc_caches").map(|s| s.kind), Some(Kind::Data));
        assert_eq!(find("kmalloc_trace").map(|s| s.kind), Some(Kind::Func));
        assert!(SYMBOLS.iter().filter(|s| !s.kind.is_func()).all(|s| {
            s.name == "kmalloc_caches"
                || s.name == "arm_delay_ops"
                || s.name == "fips_enabled"
                || s.name == "jiffies"
                || s.name == "jiffies_64"
                || s.name.starts_with("param_ops_")
        }));
    }
}
