/* Linux 6.1 arch/arm/include/asm/delay.h (the subset used; HZ 250 as Debian's armmp). */
#ifndef _LINUX61_DELAY_H
#define _LINUX61_DELAY_H

#define HZ 250
#define MAX_UDELAY_MS 2
#define UDELAY_MULT (2147 * HZ + 483648 * HZ / 1000000)
#define UDELAY_SHIFT 31

extern struct arm_delay_ops {
	void (*delay)(unsigned long);
	void (*const_udelay)(unsigned long);
	void (*udelay)(unsigned long);
	unsigned long ticks_per_jiffy;
} arm_delay_ops;

#define __delay(n) arm_delay_ops.delay(n)
#define __udelay(n) arm_delay_ops.udelay(n)
#define __const_udelay(n) arm_delay_ops.const_udelay(n)

/* Without __bad_udelay's link-time check: the callers here stay below 2 ms. */
#define udelay(n) \
	(__builtin_constant_p(n) ? __const_udelay((n) * UDELAY_MULT) : __udelay(n))

extern volatile unsigned long jiffies;

/* The delay timer's count (asm/timex.h's get_cycles() reads it). */
int read_current_timer(unsigned long *timer_val);

#endif
