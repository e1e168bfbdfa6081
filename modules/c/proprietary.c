/* proprietary: a non-GPL module that wants a GPL-only symbol. */
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/module.h>

static int __init proprietary_init(void)
{
	char buf[KSYM_SYMBOL_LEN];

	sprint_symbol(buf, (unsigned long)proprietary_init);
	pr_info("proprietary: %s\n", buf);
	return 0;
}

module_init(proprietary_init);
MODULE_LICENSE("Proprietary");
