/* Linux compatibility: the common API is in one header; the printf
 * family that takes a va_list is declared here, as in Linux's
 * linux/kernel.h (linux/sprintf.h from 6.x on). */
#ifndef _KOBOLD_LINUX_KERNEL_H
#define _KOBOLD_LINUX_KERNEL_H
#include <kobold/module_api.h>
#include <stdarg.h>

int scnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list args) __attribute__((format(printf, 3, 0)));
int vscnprintf(char *buf, size_t size, const char *fmt, va_list args) __attribute__((format(printf, 3, 0)));
int vsprintf(char *buf, const char *fmt, va_list args) __attribute__((format(printf, 2, 0)));
char *kasprintf(gfp_t gfp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *kvasprintf(gfp_t gfp, const char *fmt, va_list args) __attribute__((format(printf, 2, 0)));
#endif
