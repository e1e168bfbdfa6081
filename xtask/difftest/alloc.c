/* Allocation through the kernel: kmalloc/kfree/memcpy/memset, a struct
 * copy GCC lowers to memcpy, tentative definitions (COMMON under
 * -fcommon), a widget list in bss. */
#include "kernel.h"

int counter;
char scratch[64];
long long big_common;

static struct widget *widgets[8];
static int nwidgets;
static const struct widget widget_template = {
	.id = -1,
	.name = "template",
	.payload = { 1, 2, 3, 4, 5, 6, 7, 8 },
};

static int widget_default_poke(struct widget *w, int how)
{
	return w->id * how + w->payload[how & 7];
}

struct widget *widget_new(int id, const char *name)
{
	struct widget *w = kmalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return 0;
	*w = widget_template;
	w->id = id;
	w->name = name;
	w->poke = widget_default_poke;
	memset(scratch, id, sizeof(scratch));
	memcpy(w->payload + 8, scratch, 16);
	if (nwidgets < 8)
		widgets[nwidgets++] = w;
	counter++;
	big_common += id;
	return w;
}

void widget_free(struct widget *w)
{
	kfree(w);
	counter--;
}

int widget_poke_all(int how)
{
	int i, sum = 0;
	for (i = 0; i < nwidgets; i++)
		sum += widgets[i]->poke(widgets[i], how);
	return sum;
}
