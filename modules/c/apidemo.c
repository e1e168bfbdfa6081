// SPDX-License-Identifier: GPL-2.0
/*
 * apidemo: the textbook module API in one place — a list of kmalloc'ed
 * nodes with kasprintf'ed names, walked and freed with the list_head
 * helpers; a mutex; a spinlock held with IRQs masked; the snprintf family
 * (truncation, scnprintf, a va_list passed on); kstrdup and friends.
 * The list lives until rmmod, so /proc/meminfo shows it come and go.
 *
 * misuse=1 then makes each mistake the kernel's lock and list debugging
 * catches (a double add, a double list_del, a recursive mutex_lock, an
 * unlock of a free mutex, a recursive spin_lock) and shows that each is
 * refused: the list and the locks stay as they were.
 */
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

static int nodes = 5;
module_param(nodes, int, 0444);
MODULE_PARM_DESC(nodes, "How many list nodes to build");

static bool misuse;
module_param(misuse, bool, 0444);
MODULE_PARM_DESC(misuse, "Make the mistakes lock and list debugging catch");

struct demo_node {
	struct list_head list;
	int id;
	char *name;
};

static LIST_HEAD(demo_list);
static DEFINE_MUTEX(demo_lock);
static DEFINE_SPINLOCK(demo_spin);

/* A variadic function of the module's own that hands its va_list on. */
static __attribute__((format(printf, 3, 4))) int demo_format(char *buf, size_t size,
							      const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vscnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static __attribute__((format(printf, 1, 2))) char *demo_strdup_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = kvasprintf(GFP_KERNEL, fmt, ap);
	va_end(ap);
	return s;
}

static int count_nodes(void)
{
	struct list_head *pos;
	int n = 0;

	list_for_each(pos, &demo_list)
		n++;
	return n;
}

static void free_nodes(void)
{
	struct demo_node *node, *tmp;
	int n = 0;

	list_for_each_entry_safe(node, tmp, &demo_list, list) {
		list_del(&node->list);
		kfree(node->name);
		kfree(node);
		n++;
	}
	pr_info("apidemo: freed %d nodes, list empty %d\n", n, list_empty(&demo_list));
}

static int build_list(void)
{
	struct demo_node *node, *first, *last;
	long sum = 0;
	int i, n = 0;

	for (i = 0; i < nodes; i++) {
		node = kmalloc(sizeof(*node), GFP_KERNEL);
		if (!node)
			return -ENOMEM;
		node->id = i;
		node->name = kasprintf(GFP_KERNEL, "node-%d", i);
		if (!node->name) {
			kfree(node);
			return -ENOMEM;
		}
		list_add_tail(&node->list, &demo_list);
	}
	list_for_each_entry(node, &demo_list, list) {
		sum += node->id;
		n++;
	}
	if (list_empty(&demo_list)) {
		pr_info("apidemo: empty list\n");
		return 0;
	}
	first = list_first_entry(&demo_list, struct demo_node, list);
	last = list_last_entry(&demo_list, struct demo_node, list);
	pr_info("apidemo: walked %d nodes, ids sum to %ld, first %s, last %s\n", n, sum,
		first->name, last->name);
	return 0;
}

static int strings(void)
{
	char buf[8], line[32];
	char *dup, *ndup, *fmt;
	u32 *mem;
	static const u32 words[2] = { 0xdeadbeef, 42 };
	int n, sn, scn, scn0;

	sn = snprintf(buf, sizeof(buf), "%s", "truncated-text");
	scn = scnprintf(buf, sizeof(buf), "%s", "truncated-text");
	scn0 = scnprintf(buf, 0, "%s", "anything");
	pr_info("apidemo: snprintf returned %d, scnprintf returned %d (size 0: %d), buf \"%s\"\n",
		sn, scn, scn0, buf);

	n = demo_format(line, sizeof(line), "%d %lld %s", 7, -4294967296LL, "ok");
	pr_info("apidemo: vscnprintf \"%s\" (%d)\n", line, n);

	dup = kstrdup("hello", GFP_KERNEL);
	ndup = kstrndup("hello", 3, GFP_KERNEL);
	mem = kmemdup(words, sizeof(words), GFP_KERNEL);
	fmt = demo_strdup_fmt("%s+%u=%llu", "kvasprintf", 1u, 2ULL);
	if (!dup || !ndup || !mem || !fmt) {
		kfree(dup);
		kfree(ndup);
		kfree(mem);
		kfree(fmt);
		return -ENOMEM;
	}
	pr_info("apidemo: kstrdup \"%s\", kstrndup \"%s\", kmemdup %x %u, %s\n", dup, ndup, mem[0],
		mem[1], fmt);
	kfree(dup);
	kfree(ndup);
	kfree(mem);
	kfree(fmt);
	return 0;
}

static void locks(void)
{
	unsigned long flags, outer;
	int held, busy, before, inside, after, nested, spinheld, ret;

	mutex_lock(&demo_lock);
	held = mutex_is_locked(&demo_lock);
	busy = mutex_trylock(&demo_lock);
	mutex_unlock(&demo_lock);
	ret = mutex_lock_interruptible(&demo_lock);
	if (!ret)
		mutex_unlock(&demo_lock);
	pr_info("apidemo: mutex locked %d, trylock while held %d, after unlock %d, interruptible %d\n",
		held, busy, mutex_is_locked(&demo_lock), ret);

	/*
	 * With IRQs on (whatever they were, saved and put back around this),
	 * irqsave must turn them off and irqrestore on again; inside an
	 * IRQs-off section, irqrestore must leave them off.
	 */
	local_irq_save(outer);
	local_irq_enable();
	before = irqs_disabled();
	spin_lock_irqsave(&demo_spin, flags);
	inside = irqs_disabled();
	spinheld = spin_is_locked(&demo_spin);
	spin_unlock_irqrestore(&demo_spin, flags);
	after = irqs_disabled();
	local_irq_disable();
	spin_lock_irqsave(&demo_spin, flags);
	spin_unlock_irqrestore(&demo_spin, flags);
	nested = irqs_disabled();
	local_irq_restore(outer);
	pr_info("apidemo: spinlock irqs off before %d, inside %d, after %d, nested %d; locked %d, after unlock %d, trylock %d\n",
		before, inside, after, nested, spinheld, spin_is_locked(&demo_spin),
		spin_trylock(&demo_spin));
	spin_unlock(&demo_spin);
}

static void mistakes(void)
{
	struct demo_node *first = list_first_entry(&demo_list, struct demo_node, list);
	struct demo_node *spare = kmalloc(sizeof(*spare), GFP_KERNEL);
	int before = count_nodes();

	pr_info("apidemo: misuse: adding the first node again\n");
	list_add(&first->list, &demo_list);
	pr_info("apidemo: misuse: list still has %d of %d nodes\n", count_nodes(), before);

	if (spare) {
		pr_info("apidemo: misuse: list_del twice\n");
		list_add(&spare->list, &demo_list);
		list_del(&spare->list);
		list_del(&spare->list);
		kfree(spare);
		pr_info("apidemo: misuse: list still has %d of %d nodes\n", count_nodes(), before);
	}

	pr_info("apidemo: misuse: mutex_lock twice\n");
	mutex_lock(&demo_lock);
	mutex_lock(&demo_lock);
	pr_info("apidemo: misuse: interruptible returns %d\n", mutex_lock_interruptible(&demo_lock));
	mutex_unlock(&demo_lock);
	pr_info("apidemo: misuse: mutex_unlock of a free mutex\n");
	mutex_unlock(&demo_lock);
	pr_info("apidemo: misuse: mutex locked %d\n", mutex_is_locked(&demo_lock));

	pr_info("apidemo: misuse: spin_lock twice\n");
	spin_lock(&demo_spin);
	spin_lock(&demo_spin);
	spin_unlock(&demo_spin);
	spin_unlock(&demo_spin);
	pr_info("apidemo: misuse: spinlock locked %d\n", spin_is_locked(&demo_spin));
}

static int __init apidemo_init(void)
{
	int ret = build_list();

	if (!ret)
		ret = strings();
	if (ret) {
		free_nodes();
		return ret;
	}
	locks();
	if (misuse && !list_empty(&demo_list))
		mistakes();
	return 0;
}

static void __exit apidemo_exit(void)
{
	free_nodes();
}

module_init(apidemo_init);
module_exit(apidemo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("The textbook module API: lists, locks, kasprintf, scnprintf, kstrdup");
