/*
 * HZ: timer ticks per second (Linux's asm/param.h via linux/param.h).
 * Kobold's module ABI is Linux 3.18's for vexpress: CONFIG_HZ=100, and the
 * kernel's timer interrupt really runs at that rate (kernel/src/time/jiffies.rs).
 * A module bakes HZ into its code, so it must match the kernel it loads into.
 */
#ifndef _LINUX_PARAM_H
#define _LINUX_PARAM_H

#define HZ 100
#define USER_HZ 100

#endif
