/* Unwind tables: recursion, and a large frame saving many registers so
 * the unwind opcodes do not fit in .ARM.exidx and go to .ARM.extab. */
#include "kernel.h"

int __attribute__((noinline)) unwind_deep(int depth)
{
	if (depth <= 0)
		return printk("bottom\n");
	return unwind_deep(depth - 1) + depth;
}

int __attribute__((noinline)) unwind_big_frame(int seed)
{
	volatile int frame[300];
	int a = seed, b = seed * 3, c = seed ^ 0x55, d = seed + 9, e = seed - 2;
	int i;
	for (i = 0; i < 300; i++)
		frame[i] = i * seed;
	for (i = 0; i < 300; i += 7) {
		a += frame[i];
		b ^= frame[(i * 3) % 300] + a;
		c += b * d;
		d -= printk("%d %d %d\n", a, b, c);
		e += a * d;
	}
	return a + b + c + d + e;
}
