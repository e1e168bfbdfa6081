/*
 * Delays (Linux 3.18's include/linux/delay.h and arch/arm/include/asm/delay.h).
 *
 * udelay() busy-waits; on ARM it is a macro calling through the exported
 * `arm_delay_ops`: a constant n becomes const_udelay(n * UDELAY_MULT)
 * computed at compile time, so UDELAY_MULT and HZ here are part of the
 * module ABI. A constant above MAX_UDELAY_MS ms does not link
 * (__bad_udelay does not exist, on purpose). mdelay() loops udelay(1000).
 *
 * msleep() sleeps at least msecs ms, rounded up to jiffies (plus one:
 * the current tick is partly over). Linux runs another task meanwhile;
 * Kobold has none, so the CPU waits for the timer interrupt with `wfi`.
 */
#ifndef _LINUX_DELAY_H
#define _LINUX_DELAY_H

#include <kobold/module_api.h>
#include <linux/param.h>

#define MAX_UDELAY_MS	2
#define UDELAY_MULT	((2199023UL * HZ) >> 11)
#define UDELAY_SHIFT	30

extern struct arm_delay_ops {
	void (*delay)(unsigned long);
	void (*const_udelay)(unsigned long);
	void (*udelay)(unsigned long);
	unsigned long ticks_per_jiffy;
} arm_delay_ops;

#define __delay(n)		arm_delay_ops.delay(n)
extern void __bad_udelay(void);
#define __udelay(n)		arm_delay_ops.udelay(n)
#define __const_udelay(n)	arm_delay_ops.const_udelay(n)

#define udelay(n)							\
	(__builtin_constant_p(n) ?					\
	  ((n) > (MAX_UDELAY_MS * 1000) ? __bad_udelay() :		\
			__const_udelay((n) * UDELAY_MULT)) :		\
	  __udelay(n))

#define mdelay(n) (\
	(__builtin_constant_p(n) && (n)<=MAX_UDELAY_MS) ? udelay((n)*1000) : \
	({unsigned long __ms=(n); while (__ms--) udelay(1000);}))

static inline void ndelay(unsigned long x)
{
	udelay((x + 999) / 1000);
}

void msleep(unsigned int msecs);
unsigned long msleep_interruptible(unsigned int msecs);
void usleep_range(unsigned long min, unsigned long max);

static inline void ssleep(unsigned int seconds)
{
	msleep(seconds * 1000);
}

#endif
