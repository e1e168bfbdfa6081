/* Linux compatibility: the C string functions are in one header; the
 * kmalloc'ing duplicators are declared here, as in Linux's linux/string.h. */
#ifndef _KOBOLD_LINUX_STRING_H
#define _KOBOLD_LINUX_STRING_H
#include <kobold/module_api.h>

char *kstrdup(const char *s, gfp_t gfp);
char *kstrndup(const char *s, size_t max, gfp_t gfp);
void *kmemdup(const void *src, size_t len, gfp_t gfp);
#endif
