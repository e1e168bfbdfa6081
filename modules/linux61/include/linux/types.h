/* Linux 6.1 include/linux/types.h, include/uapi/asm-generic/int-ll64.h (the subset used). */
#ifndef _LINUX61_TYPES_H
#define _LINUX61_TYPES_H

typedef unsigned char u8;
typedef signed char s8;
typedef unsigned short u16;
typedef signed short s16;
typedef unsigned int u32;
typedef signed int s32;
typedef unsigned long long u64;
typedef signed long long s64;
typedef unsigned int size_t;
typedef int ssize_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

struct list_head {
	struct list_head *next, *prev;
};

#define __pure __attribute__((__pure__))
#define __used __attribute__((__used__))
#define __maybe_unused __attribute__((__unused__))
#define __section(s) __attribute__((__section__(s)))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __cold __attribute__((__cold__))
#define asmlinkage

#endif
