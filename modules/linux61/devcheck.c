// SPDX-License-Identifier: GPL-2.0
/*
 * devcheck: proof that the 6.1 personality's device printing, dynamic debug and delays
 * behave as Linux 6.1's.
 *
 * Built against Kobold's Linux 6.1 ABI headers (modules/linux61/include). At init it prints
 * through _dev_info/_dev_err/_dev_warn/_dev_notice/_dev_printk, __dynamic_pr_debug and
 * __dynamic_dev_dbg with devices and descriptors laid out as 6.1's, and the QEMU case
 * (linux61_devprintk) compares the lines with the format Linux documents
 * (Documentation/core-api/printk-basics.rst, drivers/base/core.c __dev_printk:
 * "<driver> <device name>: message", the driver being dev->driver's name, else the bus's,
 * else the class's, else ""; "(NULL device *): message" for NULL;
 * Documentation/admin-guide/dynamic-debug-howto.rst: the m, f, l flags prefix the module,
 * function and line, "module:function:line: ").
 *
 * print_hex_dump of 20 bytes, rows of 16, offsets and ASCII: lib/hexdump.c's documented layout
 * ("40 41 42 43 ... 3f  @ABC456789:;<=>?", the ASCII column at rowsize * 2 + rowsize /
 * groupsize + 1), and in groups of 4 (little-endian words on ARM).
 *
 * WARN(1, ...) and WARN_ON(1): kernel/panic.c's report (the cut line, "WARNING: CPU: 0 PID: N
 * at FILE:LINE CALLER", the message, "Modules linked in:", the end marker), and WARN's value
 * is its condition's.
 *
 * Then udelay: 50 udelay(2000) (a constant: arm_delay_ops.const_udelay) and 50 of a variable
 * 2000 (arm_delay_ops.udelay) must each let at least 100 ms of 250 Hz jiffies pass (25
 * ticks; 24 allowed for the tick in progress at the start). Only a lower bound: a slow host
 * makes the delay longer, never shorter.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/device.h>
#include <linux/delay.h>
#include <linux/dynamic_debug.h>
#include <linux/bug.h>

static struct device_driver drv = { .name = "devcheck_drv" };
static struct bus_type bus = { .name = "devcheck_bus" };
static struct class cls = { .name = "devcheck_class" };

/* A driver bound, named by init_name (dev_name's first choice). */
static struct device dev_drv = { .init_name = "devcheck.0", .driver = &drv, .bus = &bus };
/* No driver: the bus names it; the name comes from the kobject. */
static struct device dev_bus = { .kobj = { .name = "dc1" }, .bus = &bus, .class = &cls };
/* Neither driver nor bus: the class. */
static struct device dev_cls = { .kobj = { .name = "dc2" }, .class = &cls };
/* Nothing: an empty driver string. */
static struct device dev_none = { .kobj = { .name = "dc3" } };

/* As pr_debug's DEFINE_DYNAMIC_DEBUG_METADATA puts them, enabled with +pmfl and +p. */
static struct _ddebug __used __aligned(8) __section("__dyndbg") dd_pmfl = {
	.modname = KBUILD_MODNAME,
	.function = "devcheck_init",
	.filename = "devcheck.c",
	.format = "debug %s\n",
	.lineno = 4242,
	.class_id = _DPRINTK_CLASS_DFLT,
	.flags = _DPRINTK_FLAGS_PRINT | _DPRINTK_FLAGS_INCL_MODNAME |
		 _DPRINTK_FLAGS_INCL_FUNCNAME | _DPRINTK_FLAGS_INCL_LINENO,
};
static struct _ddebug __used __aligned(8) __section("__dyndbg") dd_p = {
	.modname = KBUILD_MODNAME,
	.function = "devcheck_init",
	.filename = "devcheck.c",
	.format = "dbg %d\n",
	.lineno = 4343,
	.class_id = _DPRINTK_CLASS_DFLT,
	.flags = _DPRINTK_FLAGS_PRINT,
};

static volatile unsigned long usecs = 2000;

static const char hexdata[] = "@ABC456789:;<=>?@ABC";

static int __init devcheck_init(void)
{
	unsigned long c0, c1, c2;
	int i;

	dev_info(&dev_drv, "info %d\n", 42);
	dev_err(&dev_bus, "err %s\n", "bus");
	dev_warn(&dev_cls, "warn %x\n", 0xbeef);
	dev_notice(&dev_none, "notice\n");
	dev_notice(NULL, "null %d\n", -1);
	dev_printk(KERN_INFO, &dev_drv, "printk %u\n", 7u);
	__dynamic_pr_debug(&dd_pmfl, "debug %s\n", "on");
	__dynamic_dev_dbg(&dd_p, &dev_drv, "dbg %d\n", 7);
	__dynamic_dev_dbg(&dd_pmfl, &dev_bus, "dbg %s\n", "pmfl");

	print_hex_dump(KERN_INFO, "devcheck: ", DUMP_PREFIX_OFFSET, 16, 1, hexdata, 20, true);
	print_hex_dump(KERN_INFO, "devcheck4: ", DUMP_PREFIX_NONE, 16, 4, hexdata, 8, false);

	if (WARN(usecs == 2000, "devcheck: warn %d\n", 5) && !WARN_ON(usecs != 2000))
		pr_info("devcheck: WARN returns its condition: pass\n");

	/*
	 * 50 x 2 ms must take at least 100 ms of the delay timer (24 MHz:
	 * 2,400,000 counts), however loaded the host: the counter is read
	 * directly, where jiffies would lag behind a late timer interrupt.
	 */
	read_current_timer(&c0);
	for (i = 0; i < 50; i++)
		udelay(2000);
	read_current_timer(&c1);
	for (i = 0; i < 50; i++)
		udelay(usecs);
	read_current_timer(&c2);
	pr_info("devcheck: udelay const: %s\n", c1 - c0 >= 2400000 ? "pass" : "fail");
	pr_info("devcheck: udelay: %s\n", c2 - c1 >= 2400000 ? "pass" : "fail");
	pr_info("devcheck: read_current_timer of NULL: %d\n", read_current_timer(NULL));
	return 0;
}

static void __exit devcheck_exit(void)
{
	pr_info("devcheck: unloaded\n");
}

module_init(devcheck_init);
module_exit(devcheck_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Checks the 6.1 personality's dev_printk, dynamic debug and udelay");
