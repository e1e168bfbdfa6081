// SPDX-License-Identifier: GPL-2.0
/* consumer: uses provider's exports, so provider cannot go first. */
#include <linux/kernel.h>
#include <linux/module.h>

int provider_add(int a, int b);
const char *provider_greeting(void);

static int __init consumer_init(void)
{
	pr_info("consumer: provider_add(40, 2) = %d, \"%s\"\n",
		provider_add(40, 2), provider_greeting());
	return 0;
}

static void __exit consumer_exit(void)
{
	pr_info("consumer: bye\n");
}

module_init(consumer_init);
module_exit(consumer_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(depends, "provider");
