// SPDX-License-Identifier: GPL-2.0
/* bigmod: large enough (~100 KB of rodata and data) to span many pages. */
#include <linux/kernel.h>
#include <linux/module.h>

#define N 16384
/* 64 KB of read-only data, computed by the compiler. */
#define E(i) ((i) * 2654435761u)
#define E4(i) E(i), E(i + 1), E(i + 2), E(i + 3)
#define E16(i) E4(i), E4(i + 4), E4(i + 8), E4(i + 12)
#define E64(i) E16(i), E16(i + 16), E16(i + 32), E16(i + 48)
#define E256(i) E64(i), E64(i + 64), E64(i + 128), E64(i + 192)
#define E1K(i) E256(i), E256(i + 256), E256(i + 512), E256(i + 768)
#define E4K(i) E1K(i), E1K(i + 1024), E1K(i + 2048), E1K(i + 3072)
static const u32 table[N] = { E4K(0), E4K(4096), E4K(8192), E4K(12288) };
/* 32 KB of data and 16 KB of bss. */
static u32 data[8192] = { 1 };
static u32 bss[4096];

static int __init bigmod_init(void)
{
	u32 sum = 0;
	int i, bad = 0;

	for (i = 0; i < N; i++) {
		sum += table[i];
		bad += table[i] != E(i);
	}
	data[8191] = sum;
	bss[4095] = sum;
	pr_info("bigmod: table %p (%d bytes), data %p, bss %p, checksum %08x, %d bad\n",
		table, (int)sizeof(table), data, bss, sum, bad);
	return bad ? -EIO : 0;
}

static void __exit bigmod_exit(void)
{
}

module_init(bigmod_init);
module_exit(bigmod_exit);
MODULE_LICENSE("GPL");
