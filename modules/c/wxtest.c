// SPDX-License-Identifier: GPL-2.0
/*
 * wxtest: proves W^X on module memory by breaking it (the kernel oopses).
 *
 *   insmod /lib/modules/wxtest.ko mode=text   write into our own .text
 *   insmod /lib/modules/wxtest.ko mode=data   execute from our own .data
 *   insmod /lib/modules/wxtest.ko mode=roafter; rmmod wxtest
 *                  write a __ro_after_init variable during init (allowed),
 *                  then again in exit, after init locked it (oops)
 *   insmod /lib/modules/wxtest.ko             (mode=none) just load
 */
#include <linux/kernel.h>
#include <linux/module.h>

static char *mode = "none";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "text: write to text; data: execute data; roafter: write ro-after-init data in exit; none");

static int sealed __ro_after_init = 1;

/* mov r0, #0; bx lr */
static u32 code_in_data[2] = { 0xe3a00000, 0xe12fff1e };

static int __attribute__((noinline)) wxtest_target(void)
{
	return 1;
}

static int __init wxtest_init(void)
{
	if (!strcmp(mode, "text")) {
		pr_info("wxtest: writing to my own text at %p\n", wxtest_target);
		*(volatile u32 *)wxtest_target = 0;
	} else if (!strcmp(mode, "data")) {
		int (*fn)(void) = (int (*)(void))code_in_data;

		pr_info("wxtest: calling code in my data at %p\n", code_in_data);
		return fn();
	} else if (!strcmp(mode, "roafter")) {
		sealed = 2; /* still writable: init has not returned */
		pr_info("wxtest: wrote %d to my ro_after_init data at %p during init\n", sealed, &sealed);
	}
	return wxtest_target() - 1;
}

static void __exit wxtest_exit(void)
{
	if (!strcmp(mode, "roafter")) {
		pr_info("wxtest: writing my ro_after_init data at %p after init\n", &sealed);
		*(volatile int *)&sealed = 3;
	}
}

module_init(wxtest_init);
module_exit(wxtest_exit);
MODULE_LICENSE("GPL");
