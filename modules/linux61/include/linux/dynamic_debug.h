/*
 * Linux 6.1 include/linux/dynamic_debug.h (the subset used): struct _ddebug as it sits in a
 * module's __dyndbg section (32 bytes, aligned 8), and the print functions a pr_debug or
 * dev_dbg site calls once it is enabled.
 */
#ifndef _LINUX61_DYNAMIC_DEBUG_H
#define _LINUX61_DYNAMIC_DEBUG_H

#include <linux/types.h>

struct device;

struct _ddebug {
	const char *modname;
	const char *function;
	const char *filename;
	const char *format;
	unsigned int lineno:18;
	unsigned int class_id:6;
	unsigned int flags:8;
	struct { int enabled; unsigned long type; } key; /* struct static_key */
} __aligned(8);

#define _DPRINTK_CLASS_DFLT 63
#define _DPRINTK_FLAGS_PRINT (1 << 0)
#define _DPRINTK_FLAGS_INCL_MODNAME (1 << 1)
#define _DPRINTK_FLAGS_INCL_FUNCNAME (1 << 2)
#define _DPRINTK_FLAGS_INCL_LINENO (1 << 3)
#define _DPRINTK_FLAGS_INCL_TID (1 << 4)

__printf(2, 3) void __dynamic_pr_debug(struct _ddebug *descriptor, const char *fmt, ...);
__printf(3, 4) void __dynamic_dev_dbg(struct _ddebug *descriptor, const struct device *dev,
				     const char *fmt, ...);

#endif
