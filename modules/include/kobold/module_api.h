/*
 * Kobold's module API: the subset of Linux's kernel API that Kobold
 * exports, with Linux's names, types and macros, so that a small module
 * written against Linux compiles unchanged. See docs/module-api.md.
 *
 * The records these macros emit are Linux's ARM32 ones: `.modinfo`
 * key=value strings, `__ksymtab` {value, name} entries with names in
 * `__ksymtab_strings`, and 16-byte `struct kernel_param`s in `__param`.
 */
#ifndef _KOBOLD_MODULE_API_H
#define _KOBOLD_MODULE_API_H

typedef unsigned int size_t;
typedef int ssize_t;
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef _Bool bool;
typedef unsigned int gfp_t;
typedef char *charp;
#define true 1
#define false 0
#define NULL ((void *)0)

/* types.h: the list node (linux/list.h has its API) and atomics. */
struct list_head {
	struct list_head *next, *prev;
};
typedef struct {
	int counter;
} atomic_t;
typedef struct {
	long counter;
} atomic_long_t;

/* compiler.h, stddef.h, container_of.h */
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, val) (*(volatile typeof(x) *)&(x) = (val))
#ifndef offsetof
#define offsetof(TYPE, MEMBER) __builtin_offsetof(TYPE, MEMBER)
#endif
#define container_of(ptr, type, member)                                       \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* errno-base.h */
#define EPERM 1
#define ENOENT 2
#define EIO 5
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define ENODEV 19
#define EINVAL 22
#define EDEADLK 35

/* kern_levels.h */
#define KERN_SOH "\001"
#define KERN_EMERG KERN_SOH "0"
#define KERN_ALERT KERN_SOH "1"
#define KERN_CRIT KERN_SOH "2"
#define KERN_ERR KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE KERN_SOH "5"
#define KERN_INFO KERN_SOH "6"
#define KERN_DEBUG KERN_SOH "7"

int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int _printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sprintf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
#define pr_emerg(fmt, ...) printk(KERN_EMERG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_alert(fmt, ...) printk(KERN_ALERT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_crit(fmt, ...) printk(KERN_CRIT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) printk(KERN_ERR pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk(KERN_WARNING pr_fmt(fmt), ##__VA_ARGS__)
#define pr_notice(fmt, ...) printk(KERN_NOTICE pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...) printk(KERN_INFO pr_fmt(fmt), ##__VA_ARGS__)

/* gfp.h */
#define __GFP_ZERO 0x8000u
#define GFP_KERNEL 0xd0u
#define GFP_ATOMIC 0x20u

void *kmalloc(size_t size, gfp_t flags);
void *__kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void kfree(const void *p);
void *vmalloc(unsigned long size);
void *vzalloc(unsigned long size);
void vfree(const void *addr);

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *s, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, size_t n);
char *strchr(const char *s, int c);

/* GPL-only. */
#define KSYM_SYMBOL_LEN 128
int sprint_symbol(char *buffer, unsigned long address);
unsigned long kallsyms_lookup_name(const char *name);

/* init.h */
#define __init __attribute__((section(".init.text")))
#define __exit __attribute__((section(".exit.text")))
#define __initdata __attribute__((section(".init.data")))
#define __ro_after_init __attribute__((section(".data..ro_after_init")))

/* stringify.h, compiler.h */
#define __stringify_1(x...) #x
#define __stringify(x...) __stringify_1(x)
#define ___PASTE(a, b) a##b
#define __PASTE(a, b) ___PASTE(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* moduleparam.h: .modinfo */
#define __MODULE_INFO(tag, name, info)                                        \
	static const char __UNIQUE_ID(name)[]                                   \
		__attribute__((section(".modinfo"), used, aligned(1))) =         \
			__stringify(tag) "=" info
#define MODULE_INFO(tag, info) __MODULE_INFO(tag, tag, info)
#define MODULE_LICENSE(_license) MODULE_INFO(license, _license)
#define MODULE_AUTHOR(_author) MODULE_INFO(author, _author)
#define MODULE_DESCRIPTION(_description) MODULE_INFO(description, _description)
#define MODULE_VERSION(_version) MODULE_INFO(version, _version)
#define MODULE_ALIAS(_alias) MODULE_INFO(alias, _alias)
#define MODULE_PARM_DESC(_parm, desc) __MODULE_INFO(parm, _parm, #_parm ":" desc)

/* module.h: entry points. kbuild passes -DKBUILD_MODNAME='"name"'. */
#ifdef KBUILD_MODNAME
#define __MODULE_NAME_INFO MODULE_INFO(name, KBUILD_MODNAME);
#else
#define __MODULE_NAME_INFO
#endif
#define module_init(initfn)                                                   \
	static inline int (*__inittest(void))(void) { return initfn; }          \
	int init_module(void) __attribute__((alias(#initfn)));                  \
	__MODULE_NAME_INFO
#define module_exit(exitfn)                                                   \
	static inline void (*__exittest(void))(void) { return exitfn; }         \
	void cleanup_module(void) __attribute__((alias(#exitfn)));

/* moduleparam.h: __param */
struct kernel_param_ops;
struct kernel_param {
	const char *name;
	const struct kernel_param_ops *ops;
	unsigned short perm;
	signed char level;
	unsigned char flags;
	void *arg;
};
extern const struct kernel_param_ops param_ops_byte, param_ops_short,
	param_ops_ushort, param_ops_int, param_ops_uint, param_ops_long,
	param_ops_ulong, param_ops_bool, param_ops_charp;
#define module_param_named(name, value, type, perm)                           \
	static const char __param_str_##name[] = #name;                         \
	static const struct kernel_param __param_##name                         \
		__attribute__((used, section("__param"), aligned(4))) = {        \
			__param_str_##name, &param_ops_##type, perm, -1, 0, &value  \
		};                                                              \
	__MODULE_INFO(parmtype, name##type, #name ":" #type)
#define module_param(name, type, perm) module_param_named(name, name, type, perm)

/* export.h: ARM32 absolute records. */
struct kernel_symbol {
	unsigned long value;
	const char *name;
};
#define __EXPORT_SYMBOL(sym, sec)                                             \
	extern typeof(sym) sym;                                                 \
	static const char __kstrtab_##sym[]                                     \
		__attribute__((section("__ksymtab_strings"), used, aligned(1))) = #sym; \
	static const struct kernel_symbol __ksymtab_##sym                       \
		__attribute__((section("__ksymtab" sec), used, aligned(4))) = {  \
			(unsigned long)&sym, __kstrtab_##sym                        \
		}
#define EXPORT_SYMBOL(sym) __EXPORT_SYMBOL(sym, "")
#define EXPORT_SYMBOL_GPL(sym) __EXPORT_SYMBOL(sym, "_gpl")

#endif
