// SPDX-License-Identifier: GPL-2.0
/*
 * memuser: kmalloc, kzalloc and vmalloc from a module. It keeps a vmalloc
 * buffer while loaded, so /proc/vmallocinfo shows it next to the module.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

static unsigned int size = 64 * 1024;
module_param(size, uint, 0444);
MODULE_PARM_DESC(size, "Bytes to vmalloc");

static u32 *buffer;

static int __init memuser_init(void)
{
	char *small = kmalloc(100, GFP_KERNEL);
	u32 *zeroed = kzalloc(32 * sizeof(u32), GFP_KERNEL);
	unsigned int i, bad = 0;

	if (!small || !zeroed) {
		kfree(small);
		kfree(zeroed);
		return -ENOMEM;
	}
	snprintf(small, 100, "%s-%d", "kmalloc", 42);
	for (i = 0; i < 32; i++)
		bad += zeroed[i] != 0;
	pr_info("memuser: kmalloc'd \"%s\", kzalloc'd %d words (%u non-zero)\n", small, 32, bad);
	kfree(small);
	kfree(zeroed);

	buffer = vmalloc(size);
	if (!buffer)
		return -ENOMEM;
	for (i = 0; i < size / 4; i++)
		buffer[i] = i * 2654435761u;
	for (i = 0; i < size / 4; i++)
		bad += buffer[i] != i * 2654435761u;
	pr_info("memuser: vmalloc(%u) = %p, %u bad words\n", size, buffer, bad);
	return bad ? -EIO : 0;
}

static void __exit memuser_exit(void)
{
	vfree(buffer);
	pr_info("memuser: vfree'd\n");
}

module_init(memuser_init);
module_exit(memuser_exit);
MODULE_LICENSE("GPL");
