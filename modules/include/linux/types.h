/* Linux compatibility: everything lives in one header. */
#include <kobold/module_api.h>
