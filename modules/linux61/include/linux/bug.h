/*
 * Linux 6.1 include/asm-generic/bug.h (the subset used): ARM has no __WARN_FLAGS, so WARN()
 * and WARN_ON() call warn_slowpath_fmt with the file, the line and TAINT_WARN.
 */
#ifndef _LINUX61_BUG_H
#define _LINUX61_BUG_H

#include <linux/types.h>

#define TAINT_WARN 9

__printf(4, 5) __cold void warn_slowpath_fmt(const char *file, const int line, unsigned taint,
					     const char *fmt, ...);

#define __WARN_printf(taint, arg...) warn_slowpath_fmt(__FILE__, __LINE__, taint, arg)
#define __WARN() __WARN_printf(TAINT_WARN, NULL)

#define WARN_ON(condition) ({						\
	int __ret_warn_on = !!(condition);				\
	if (__builtin_expect(__ret_warn_on, 0))				\
		__WARN();						\
	__builtin_expect(__ret_warn_on, 0);				\
})

#define WARN(condition, format...) ({					\
	int __ret_warn_on = !!(condition);				\
	if (__builtin_expect(__ret_warn_on, 0))				\
		__WARN_printf(TAINT_WARN, format);			\
	__builtin_expect(__ret_warn_on, 0);				\
})

#endif
