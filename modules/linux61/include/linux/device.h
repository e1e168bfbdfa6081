/*
 * Linux 6.1 include/linux/device.h, include/linux/dev_printk.h (the subset used).
 *
 * struct device: the fields dev_printk reads, at the offsets of Debian's 6.1 armmp build
 * (kernel/src/module/linux61/device.rs says where each comes from: struct kobject is 36
 * bytes; parent +36, init_name +44, bus +52, driver +56 in 6.1's member order; class +456,
 * from Debian's videodev.ko). Everything else is opaque here.
 */
#ifndef _LINUX61_DEVICE_H
#define _LINUX61_DEVICE_H

#include <linux/types.h>
#include <linux/printk.h>

struct device_driver {
	const char *name; /* +0 */
};

struct bus_type {
	const char *name; /* +0 */
};

struct class {
	const char *name; /* +0 */
};

struct kobject {
	const char *name; /* +0 */
	unsigned char __opaque[36 - 4];
};

struct device {
	struct kobject kobj; /* +0 */
	struct device *parent; /* +36 */
	void *p; /* +40 */
	const char *init_name; /* +44 */
	const void *type; /* +48 */
	struct bus_type *bus; /* +52 */
	struct device_driver *driver; /* +56 */
	unsigned char __opaque_60[456 - 60];
	struct class *class; /* +456 */
	unsigned char __opaque_460[4];
};

_Static_assert(__builtin_offsetof(struct device, init_name) == 44, "init_name at +44");
_Static_assert(__builtin_offsetof(struct device, bus) == 52, "bus at +52");
_Static_assert(__builtin_offsetof(struct device, driver) == 56, "driver at +56");
_Static_assert(__builtin_offsetof(struct device, class) == 456, "class at +456");

__printf(3, 4) __cold void _dev_printk(const char *level, const struct device *dev, const char *fmt, ...);
__printf(2, 3) __cold void _dev_emerg(const struct device *dev, const char *fmt, ...);
__printf(2, 3) __cold void _dev_alert(const struct device *dev, const char *fmt, ...);
__printf(2, 3) __cold void _dev_crit(const struct device *dev, const char *fmt, ...);
__printf(2, 3) __cold void _dev_err(const struct device *dev, const char *fmt, ...);
__printf(2, 3) __cold void _dev_warn(const struct device *dev, const char *fmt, ...);
__printf(2, 3) __cold void _dev_notice(const struct device *dev, const char *fmt, ...);
__printf(2, 3) __cold void _dev_info(const struct device *dev, const char *fmt, ...);

#define dev_fmt(fmt) fmt
#define dev_printk(level, dev, fmt, ...) _dev_printk(level, dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_emerg(dev, fmt, ...) _dev_emerg(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_crit(dev, fmt, ...) _dev_crit(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_alert(dev, fmt, ...) _dev_alert(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_err(dev, fmt, ...) _dev_err(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_warn(dev, fmt, ...) _dev_warn(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_notice(dev, fmt, ...) _dev_notice(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_info(dev, fmt, ...) _dev_info(dev, dev_fmt(fmt), ##__VA_ARGS__)

#endif
