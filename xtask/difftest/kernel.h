/* The "kernel" API the difftest modules link against: every name here is
 * left undefined in the module and resolved from the symbol file that
 * xtask/src/difftest.rs generates (and from --defsym for GNU ld). */
#ifndef DIFFTEST_KERNEL_H
#define DIFFTEST_KERNEL_H

typedef unsigned int size_t;

extern int printk(const char *fmt, ...);
extern void *kmalloc(size_t size, unsigned int flags);
extern void kfree(const void *p);
extern void *memcpy(void *dst, const void *src, size_t n);
extern void *memset(void *dst, int c, size_t n);
extern int strcmp(const char *a, const char *b);
extern void panic(const char *fmt, ...) __attribute__((noreturn));
extern volatile unsigned long jiffies;
extern int console_loglevel;
extern const char linux_banner[];

#define __init __attribute__((section(".init.text")))
#define __exit __attribute__((section(".exit.text")))
#define __initdata __attribute__((section(".init.data")))
#define __ro_after_init __attribute__((section(".data..ro_after_init")))
#define MODINFO(tag, text)                                                     \
	static const char __modinfo_##tag[]                                    \
		__attribute__((section(".modinfo"), used, aligned(1))) = text

#define GFP_KERNEL 0xcc0u

/* The module's own cross-file API. */
struct widget {
	int id;
	const char *name;
	int (*poke)(struct widget *w, int how);
	unsigned char payload[40];
};

int dispatch(int op, int arg);
const char *op_name(int op);
int classify(int c);
struct widget *widget_new(int id, const char *name);
void widget_free(struct widget *w);
int widget_poke_all(int how);
int arm_side_sum(const int *v, int n);
int arm_side_call(int x);
int thumb_side_scale(int x);
int thumb_side_call(int x);
int unwind_deep(int depth);
int unwind_big_frame(int seed);
int asm_arm_prel(void);
int asm_thumb_prel(void);
int asm_sum(void);

extern int counter;
extern char scratch[64];
extern long long big_common;

#endif
