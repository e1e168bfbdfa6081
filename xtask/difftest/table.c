/* Pointer tables and a jump table: arrays of function pointers (const in
 * .rodata and writable in .data), arrays of string pointers, a dense
 * switch that GCC turns into a jump table, a pointer to kernel data. */
#include "kernel.h"

static int op_add(int a) { return a + 1; }
static int op_sub(int a) { return a - 1; }
static int op_mul(int a) { return a * 3; }
static int op_log(int a) { return printk("op_log %d\n", a); }

static int (*const ops[])(int) = { op_add, op_sub, op_mul, op_log };
int (*hooks[])(int) = { op_log, op_mul, 0, op_add };
static const char *const op_names[] = { "add", "subtract", "multiply", "log" };
const char *mutable_names[] = { "alpha", "beta", "gamma" };
volatile unsigned long *const jiffies_ptr = &jiffies;
int *const loglevel_ptr = &console_loglevel;
void *(*const allocator)(size_t, unsigned int) = kmalloc;

const char *op_name(int op)
{
	return op_names[op & 3];
}

int dispatch(int op, int arg)
{
	int r = ops[op & 3](arg);
	if (hooks[op & 3])
		r += hooks[op & 3](r);
	/* A variable divisor: a call to the kernel's __aeabi_idiv. */
	return r / (arg | 1) + (int)*jiffies_ptr + *loglevel_ptr;
}

int classify(int c)
{
	switch (c) {
	case 'a': return 10;
	case 'b': return 21;
	case 'c': return 32;
	case 'd': return printk("d\n");
	case 'e': return 54;
	case 'f': return 65 + c;
	case 'g': return strcmp(mutable_names[0], "gee");
	case 'h': return 87;
	case 'i': return 98 * c;
	case 'j': return 109;
	case 'k': return (int)allocator(8, 0);
	default: return -1;
	}
}
