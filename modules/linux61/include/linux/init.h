/* Linux 6.1 include/linux/init.h: section markers (the module case: no discarding). */
#ifndef _LINUX61_INIT_H
#define _LINUX61_INIT_H

#define __init __section(".init.text") __cold
#define __exit __section(".exit.text") __cold
#define __initdata __section(".init.data")

typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);

#endif
