/*
 * jiffies: timer ticks since boot, HZ of them a second (Linux 3.18's
 * include/linux/jiffies.h; the functions are exported by the kernel,
 * kernel/src/module/exports.rs, with 3.18's arithmetic).
 *
 * `jiffies` is the low word of `jiffies_64` (the same address: ARM is
 * little-endian). Both start at INITIAL_JIFFIES, so `jiffies` wraps five
 * minutes after boot: compare with time_after() and friends, never with <.
 */
#ifndef _LINUX_JIFFIES_H
#define _LINUX_JIFFIES_H

#include <kobold/module_api.h>
#include <linux/param.h>
#include <linux/typecheck.h>

extern u64 jiffies_64;
extern unsigned long volatile jiffies;

u64 get_jiffies_64(void);

/*
 * time_after(a,b) is true if time a is after time b; right across the
 * wrap as long as a and b are less than LONG_MAX ticks apart.
 */
#define time_after(a,b)		\
	(typecheck(unsigned long, a) && \
	 typecheck(unsigned long, b) && \
	 ((long)((b) - (a)) < 0))
#define time_before(a,b)	time_after(b,a)

#define time_after_eq(a,b)	\
	(typecheck(unsigned long, a) && \
	 typecheck(unsigned long, b) && \
	 ((long)((a) - (b)) >= 0))
#define time_before_eq(a,b)	time_after_eq(b,a)

#define time_in_range(a,b,c) \
	(time_after_eq(a,b) && \
	 time_before_eq(a,c))
#define time_in_range_open(a,b,c) \
	(time_after_eq(a,b) && \
	 time_before(a,c))

#define time_after64(a,b)	\
	(typecheck(u64, a) &&	\
	 typecheck(u64, b) && \
	 ((s64)((b) - (a)) < 0))
#define time_before64(a,b)	time_after64(b,a)
#define time_after_eq64(a,b)	\
	(typecheck(u64, a) && \
	 typecheck(u64, b) && \
	 ((s64)((a) - (b)) >= 0))
#define time_before_eq64(a,b)	time_after_eq64(b,a)

#define time_is_before_jiffies(a) time_after(jiffies, a)
#define time_is_after_jiffies(a) time_before(jiffies, a)
#define time_is_before_eq_jiffies(a) time_after_eq(jiffies, a)
#define time_is_after_eq_jiffies(a) time_before_eq(jiffies, a)

/* -300 seconds of ticks: jiffies wraps five minutes after boot. */
#define INITIAL_JIFFIES ((unsigned long)(unsigned int) (-300*HZ))

#ifndef LONG_MAX
#define LONG_MAX ((long)(~0UL >> 1))
#endif
#define MAX_JIFFY_OFFSET ((LONG_MAX >> 1)-1)

unsigned int jiffies_to_msecs(const unsigned long j);
unsigned int jiffies_to_usecs(const unsigned long j);
unsigned long msecs_to_jiffies(const unsigned int m);
unsigned long usecs_to_jiffies(const unsigned int u);

#endif
