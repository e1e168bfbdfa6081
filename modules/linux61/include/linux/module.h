/*
 * Linux 6.1 include/linux/module.h, moduleparam.h and modpost's NAME.mod.c (the subset used).
 *
 * .modinfo: MODULE_INFO(tag, info) is one "tag=info" string in section .modinfo
 * (6.1's __MODULE_INFO). modpost adds name= and vermagic= (NAME.mod.c: MODULE_INFO(vermagic,
 * VERMAGIC_STRING), MODULE_INFO(name, KBUILD_MODNAME)) and __this_module; Kobold has no
 * modpost (a module is one object), so module_init emits those too. A module using these
 * headers must therefore have both module_init and module_exit (__this_module's .exit names
 * cleanup_module, as modpost does for a module with CONFIG_MODULE_UNLOAD).
 *
 * struct module: Debian's 6.1 armmp struct module is 576 bytes, 64-byte aligned
 * (____cacheline_aligned, L1_CACHE_BYTES 64). Kobold writes state (+0) and name (+0xc)
 * into the copy it loads; init (+0xcc) and exit (+0x230) are relocated by the module itself
 * (loader/src/linux61.rs, this_module). Everything else is opaque here: Kobold does not fill
 * it, so a module must not read it.
 */
#ifndef _LINUX61_MODULE_H
#define _LINUX61_MODULE_H

#include <linux/types.h>
#include <linux/init.h>
#include <linux/printk.h>
#include <linux/vermagic.h>

/* MODULE_NAME_LEN = MAX_PARAM_PREFIX_LEN = 64 - sizeof(unsigned long). */
#define MODULE_NAME_LEN (64 - sizeof(unsigned long))

struct module {
	int state; /* enum module_state: +0x0 */
	struct list_head list; /* +0x4 */
	char name[MODULE_NAME_LEN]; /* +0xc */
	unsigned char __opaque_0x48[0xcc - 0x48];
	int (*init)(void); /* +0xcc */
	unsigned char __opaque_0xd0[0x230 - 0xd0];
	void (*exit)(void); /* +0x230 */
	unsigned char __opaque_0x234[0x240 - 0x234];
} __aligned(64);

_Static_assert(sizeof(struct module) == 576, "6.1 armmp struct module is 576 bytes");
_Static_assert(__builtin_offsetof(struct module, name) == 0xc, "name at +0xc");
_Static_assert(__builtin_offsetof(struct module, init) == 0xcc, "init at +0xcc");
_Static_assert(__builtin_offsetof(struct module, exit) == 0x230, "exit at +0x230");

extern struct module __this_module;
#define THIS_MODULE (&__this_module)

/* include/linux/compiler_types.h, stringify.h */
#define ___PASTE(a, b) a##b
#define __PASTE(a, b) ___PASTE(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)
#define __stringify_1(x...) #x
#define __stringify(x...) __stringify_1(x)

/* include/linux/moduleparam.h */
#define __MODULE_INFO(tag, name, info)                                          \
	static const char __UNIQUE_ID(name)[] __used __section(".modinfo")      \
		__aligned(1) = __stringify(tag) "=" info

#define MODULE_INFO(tag, info) __MODULE_INFO(tag, tag, info)
#define MODULE_LICENSE(_license) MODULE_INFO(license, _license)
#define MODULE_AUTHOR(_author) MODULE_INFO(author, _author)
#define MODULE_DESCRIPTION(_description) MODULE_INFO(description, _description)
#define MODULE_VERSION(_version) MODULE_INFO(version, _version)
#define MODULE_SOFTDEP(_softdep) MODULE_INFO(softdep, _softdep)

/*
 * What modpost's NAME.mod.c holds (scripts/mod/modpost.c, 6.1): __this_module with name,
 * init and exit, and the name= and vermagic= tags.
 */
#define __KOBOLD_MODPOST                                                        \
	extern void cleanup_module(void);                                       \
	__visible struct module __this_module                                   \
		__section(".gnu.linkonce.this_module") = {                      \
			.name = KBUILD_MODNAME,                                 \
			.init = init_module,                                    \
			.exit = cleanup_module,                                 \
	};                                                                      \
	MODULE_INFO(vermagic, VERMAGIC_STRING);                                 \
	MODULE_INFO(name, KBUILD_MODNAME)

#define __visible __attribute__((__externally_visible__))

/* include/linux/module.h, the MODULE case. */
#define module_init(initfn)                                                     \
	static inline initcall_t __maybe_unused __inittest(void)                \
	{ return initfn; }                                                      \
	int init_module(void) __attribute__((__copy__(initfn)))                 \
		__attribute__((alias(#initfn)));                                \
	__KOBOLD_MODPOST

#define module_exit(exitfn)                                                     \
	static inline exitcall_t __maybe_unused __exittest(void)                \
	{ return exitfn; }                                                      \
	void cleanup_module(void) __attribute__((__copy__(exitfn)))             \
		__attribute__((alias(#exitfn)))

#endif
