/* Compiled with -mthumb in the mixed variants: calls into ARM code (BL
 * becomes BLX), takes the address of an ARM function. */
#include "kernel.h"

int (*const thumb_to_arm_ptr)(const int *, int) = arm_side_sum;

int __attribute__((noinline)) thumb_side_scale(int x)
{
	return x * 5 + counter;
}

int thumb_side_call(int x)
{
	int v[3] = { x, x + 1, thumb_side_scale(x) };
	int r = arm_side_sum(v, 3) + thumb_to_arm_ptr(v, 2);
	printk("thumb_side %d\n", r);
	return r + 2;
}
