// SPDX-License-Identifier: GPL-2.0
/*
 * bss13m: hugebss with a 13 MB .bss. It fits the module window (14 MB with
 * HIGHMEM, as in Linux 3.18, which loads it too); while it is loaded,
 * another multi-megabyte module no longer fits and insmod says ENOMEM.
 */
#define HUGEBSS_MB 13
#include "hugebss.c"
