// SPDX-License-Identifier: GPL-2.0
/*
 * thumbdemo: built as Thumb-2 (-mthumb -O2) against the ARM kernel. Calls
 * to printk become BLX, and tail calls (B.W) to ARM code go through PLT
 * veneers the loader writes.
 */
#include <linux/kernel.h>
#include <linux/module.h>

static int __attribute__((noinline)) triple(int x)
{
	return 3 * x;
}

int thumbdemo_say(int x)
{
	/* A tail call into the ARM kernel: B.W printk, needs a veneer. */
	return printk(KERN_INFO "thumbdemo: triple(%d) = %d\n", x, triple(x));
}

static int __init thumbdemo_init(void)
{
	thumbdemo_say(14);
	return 0;
}

static void __exit thumbdemo_exit(void)
{
	pr_info("thumbdemo: bye\n");
}

module_init(thumbdemo_init);
module_exit(thumbdemo_exit);
MODULE_LICENSE("GPL");
