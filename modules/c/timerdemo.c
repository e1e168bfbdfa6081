// SPDX-License-Identifier: GPL-2.0
/*
 * timerdemo: jiffies, msleep, udelay/mdelay and time_after, as a textbook
 * module uses them. Its init prints what it measured; the QEMU case
 * `timer_tick` checks the figures against HZ.
 *
 * msleep(100) must let at least msecs_to_jiffies(100) = 100 * HZ / 1000
 * jiffies pass (it waits one more, since the current tick is already
 * partly over). mdelay busy-waits on the kernel's 24 MHz counter, not on
 * jiffies; the jiffies it spans are printed for information only.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/jiffies.h>
#include <linux/delay.h>

static int __init timerdemo_init(void)
{
	unsigned long before, after, wrapped;
	u64 j64;
	int ok = 1;

	pr_info("timerdemo: HZ=%d msecs_to_jiffies(100)=%lu jiffies_to_msecs(%d)=%u usecs_to_jiffies(%d)=%lu\n",
		HZ, msecs_to_jiffies(100), HZ, jiffies_to_msecs(HZ),
		1000000 / HZ + 1, usecs_to_jiffies(1000000 / HZ + 1));

	before = jiffies;
	msleep(100);
	after = jiffies;
	pr_info("timerdemo: msleep(100) slept %lu jiffies\n", after - before);
	if (after - before < msecs_to_jiffies(100))
		ok = 0;

	before = jiffies;
	mdelay(30);
	udelay(500);
	pr_info("timerdemo: mdelay(30) + udelay(500) spanned %lu jiffies\n",
		jiffies - before);

	pr_info("timerdemo: msleep_interruptible(20) left %lu ms\n",
		msleep_interruptible(20));

	/* time_after is right across the wrap, where < is wrong. */
	wrapped = 5;
	before = (unsigned long)-10;
	pr_info("timerdemo: time_after(5, -10)=%d time_before(5, -10)=%d (5 > -10 unsigned: %d)\n",
		time_after(wrapped, before), time_before(wrapped, before),
		wrapped > before);
	if (!time_after(wrapped, before))
		ok = 0;

	/* jiffies is the low word of jiffies_64. */
	j64 = get_jiffies_64();
	after = jiffies;
	pr_info("timerdemo: jiffies - (u32)get_jiffies_64() = %lu, jiffies - INITIAL_JIFFIES = %lu\n",
		after - (unsigned long)j64, after - INITIAL_JIFFIES);
	if (after - (unsigned long)j64 > 1)
		ok = 0;

	pr_info("timerdemo: %s\n", ok ? "all checks passed" : "FAILED");
	return ok ? 0 : -EINVAL;
}

static void __exit timerdemo_exit(void)
{
	pr_info("timerdemo: bye\n");
}

module_init(timerdemo_init);
module_exit(timerdemo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("jiffies, msleep, udelay and time_after");
