// SPDX-License-Identifier: GPL-2.0
/* provider: exports symbols that consumer.ko uses (a dependency pair). */
#include <linux/kernel.h>
#include <linux/module.h>

static int calls;

int provider_add(int a, int b)
{
	calls++;
	return a + b;
}
EXPORT_SYMBOL(provider_add);

const char *provider_greeting(void)
{
	return "greetings from provider";
}
EXPORT_SYMBOL_GPL(provider_greeting);

static int __init provider_init(void)
{
	pr_info("provider: exporting provider_add and provider_greeting\n");
	return 0;
}

static void __exit provider_exit(void)
{
	pr_info("provider: provider_add was called %d times\n", calls);
}

module_init(provider_init);
module_exit(provider_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Exports symbols for consumer");
