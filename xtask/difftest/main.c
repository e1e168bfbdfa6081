/* Module entry and exit: .init.text/.exit.text, .init.data, .modinfo,
 * .data..ro_after_init, static data and bss, calls into every other file
 * and into the kernel (printk, panic), kernel data (jiffies). */
#include "kernel.h"

MODINFO(license, "license=GPL");
MODINFO(name, "name=difftest");
MODINFO(desc, "description=kobold modlink differential test module");

static int initcalls[4] __initdata = { 3, 1, 4, 1 };
static int ro_after_init_cookie __ro_after_init = 0x5eed;
static int loaded_at_jiffies;
static int zeroed_table[32];
int module_state = 1;
static const char *const stage_names[] = { "stage: probe", "stage: bind",
					    "stage: start", "stage: ready" };

static int __attribute__((noinline)) run_stage(int i)
{
	printk("difftest: %s (%d)\n", stage_names[i & 3], initcalls[i & 3]);
	zeroed_table[i & 31] += initcalls[i & 3];
	return dispatch(i, initcalls[i & 3]) + classify('a' + i);
}

int __init init_module(void)
{
	int i, total = 0;
	struct widget *w;

	loaded_at_jiffies = (int)jiffies;
	for (i = 0; i < 4; i++)
		total += run_stage(i);
	w = widget_new(7, op_name(2));
	if (!w)
		panic("difftest: no memory for widget %d\n", 7);
	total += widget_poke_all(3);
	total += arm_side_call(total) + thumb_side_call(total);
	total += unwind_deep(3) + unwind_big_frame(total) + asm_sum();
	counter += total;
	scratch[0] = (char)total;
	module_state = 2;
	printk("difftest: loaded, total %d cookie %x loglevel %d %s\n", total,
	       ro_after_init_cookie, console_loglevel, linux_banner);
	return 0;
}

void __exit cleanup_module(void)
{
	printk("difftest: unloading after %lu jiffies, counter %d\n",
	       jiffies - (unsigned long)loaded_at_jiffies, counter);
	module_state = 0;
}
