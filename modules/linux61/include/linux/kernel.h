/* Linux 6.1 include/linux/kernel.h (the subset used). */
#ifndef _LINUX61_KERNEL_H
#define _LINUX61_KERNEL_H

#include <linux/types.h>
#include <linux/printk.h>

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))

/* The string functions 6.1 exports (lib/string.c), as include/linux/string.h declares them. */
extern void *memset(void *, int, size_t);
extern void *memcpy(void *, const void *, size_t);
extern int memcmp(const void *, const void *, size_t);
extern size_t strlen(const char *);

/* lib/vsprintf.c */
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);

#endif
