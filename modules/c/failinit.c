// SPDX-License-Identifier: GPL-2.0
/* failinit: init fails, so the module must leave nothing behind. */
#include <linux/kernel.h>
#include <linux/module.h>

static int __init failinit_init(void)
{
	pr_err("failinit: no such device, giving up\n");
	return -ENODEV;
}

module_init(failinit_init);
MODULE_LICENSE("GPL");
