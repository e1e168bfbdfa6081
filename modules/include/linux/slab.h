/* Linux compatibility: kmalloc and friends are in one header; slab.h users
 * often duplicate strings, which Linux declares in linux/string.h. */
#include <kobold/module_api.h>
#include <linux/string.h>
