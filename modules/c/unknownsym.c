// SPDX-License-Identifier: GPL-2.0
/* unknownsym: calls a function no kernel exports. */
#include <linux/kernel.h>
#include <linux/module.h>

void no_such_kernel_function(void);

static int __init unknownsym_init(void)
{
	no_such_kernel_function();
	return 0;
}

module_init(unknownsym_init);
MODULE_LICENSE("GPL");
