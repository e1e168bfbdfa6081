/* Compiled with -marm in the mixed variants: calls into Thumb code (BL
 * becomes BLX), takes the address of a Thumb function (bit 0 set). */
#include "kernel.h"

int (*const arm_to_thumb_ptr)(int) = thumb_side_scale;

int __attribute__((noinline)) arm_side_sum(const int *v, int n)
{
	int s = 0;
	while (n-- > 0)
		s += *v++;
	return s;
}

int arm_side_call(int x)
{
	int v[4] = { x, thumb_side_scale(x), 3, 4 };
	int r = arm_side_sum(v, 4) + arm_to_thumb_ptr(x);
	printk("arm_side %d\n", r);
	return r + 1;
}
