/* Linux's include/linux/typecheck.h: a compile-time warning when x is not of type `type`. */
#ifndef _LINUX_TYPECHECK_H
#define _LINUX_TYPECHECK_H

#define typecheck(type, x) \
({	type __dummy; \
	typeof(x) __dummy2; \
	(void)(&__dummy == &__dummy2); \
	1; \
})

#endif
