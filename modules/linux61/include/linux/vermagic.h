/*
 * Linux 6.1 include/linux/vermagic.h: UTS_RELEASE " " then the flags of the build.
 * Debian's armmp config gives "SMP mod_unload modversions ARMv7 p2v8 " (CONFIG_SMP,
 * CONFIG_MODULE_UNLOAD, CONFIG_MODVERSIONS, MODULE_ARCH_VERMAGIC for ARMv7 with
 * CONFIG_ARM_PATCH_PHYS_VIRT). Kobold's loader (loader/src/linux61.rs, LINUX61_VERMAGIC)
 * accepts any release starting "6.1." with exactly these flags.
 */
#ifndef _LINUX61_VERMAGIC_H
#define _LINUX61_VERMAGIC_H

#define UTS_RELEASE "6.1.0-57-armmp"
#define VERMAGIC_STRING UTS_RELEASE " SMP mod_unload modversions ARMv7 p2v8 "

#endif
