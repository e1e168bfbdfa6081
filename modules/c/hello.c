// SPDX-License-Identifier: GPL-2.0
/*
 * hello: the classic first module, with two parameters.
 *
 *   insmod /lib/modules/hello.ko count=3 who=Kobold
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

static int count = 1;
module_param(count, int, 0644);
MODULE_PARM_DESC(count, "How many greetings (0: silent)");

static char *who = "world";
module_param(who, charp, 0444);
MODULE_PARM_DESC(who, "Whom to greet");

static int __init hello_init(void)
{
	int i;

	for (i = 0; i < count; i++)
		pr_info("Hello, %s! (%d of %d)\n", who, i + 1, count);
	if (count > 0)
		pr_info("hello: init_module is %pS, loaded at %p\n", hello_init, &count);
	return 0;
}

static void __exit hello_exit(void)
{
	if (count > 0)
		pr_info("Goodbye, %s\n", who);
}

module_init(hello_init);
module_exit(hello_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Kobold developers");
MODULE_DESCRIPTION("Greets, with parameters");
