// SPDX-License-Identifier: GPL-2.0
/*
 * hugebss: a 3 MB module in a file of a few kilobytes. Its .bss takes 768
 * pages of the module window, which module_alloc must find, map and zero;
 * rmmod must give every one of them back (the issue-8 QEMU case compares
 * MemFree before insmod and after rmmod). bss13m.c builds the same code
 * with 13 MB, nearly the whole 14 MB module window.
 *
 *   insmod /lib/modules/hugebss.ko
 */
#include <linux/kernel.h>
#include <linux/module.h>

#ifndef HUGEBSS_MB
#define HUGEBSS_MB 3
#endif
#define SIZE (HUGEBSS_MB << 20)
#define PAGE 4096

static u8 big[SIZE];

static int __init hugebss_init(void)
{
	unsigned int i, nonzero = 0;

	/* The loader must hand over zeroed .bss; then every page is written. */
	for (i = 0; i < SIZE; i += PAGE) {
		nonzero += big[i] != 0 || big[i + PAGE - 1] != 0;
		big[i] = (u8)(i / PAGE);
		big[i + PAGE - 1] = (u8)~(i / PAGE);
	}
	for (i = 0; i < SIZE; i += PAGE)
		nonzero += big[i] != (u8)(i / PAGE) || big[i + PAGE - 1] != (u8)~(i / PAGE);
	pr_info("%s: %u pages of .bss at %p, %u bad\n", KBUILD_MODNAME, SIZE / PAGE, big, nonzero);
	return nonzero ? -EIO : 0;
}

static void __exit hugebss_exit(void)
{
	pr_info("%s: unloading\n", KBUILD_MODNAME);
}

module_init(hugebss_init);
module_exit(hugebss_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("Kobold developers");
MODULE_DESCRIPTION("A .bss of several megabytes in a small file");
