/*
 * Mutexes as Linux 6.1's (kernel/locking/mutex.c), laid out as its non-debug
 * armhf SMP build lays struct mutex out (20 bytes), so the kernel's
 * functions serve Kobold's modules and Linux 6.1's alike. owner is the
 * holder's task pointer, 0 when free.
 *
 * Kobold has one task and no scheduler, so a mutex is never contended.
 * Locking one the task already holds prints lockdep's "WARNING: possible
 * recursive locking detected" and is refused (mutex_lock_interruptible
 * returns -EDEADLK); unlocking one it does not hold prints "WARNING: bad
 * unlock balance detected!" and is refused. See docs/module-api.md.
 */
#ifndef _LINUX_MUTEX_H
#define _LINUX_MUTEX_H
#include <kobold/module_api.h>
#include <linux/spinlock.h>
#include <linux/list.h>

struct optimistic_spin_queue {
	atomic_t tail;
};

struct mutex {
	atomic_long_t owner;
	raw_spinlock_t wait_lock;
	struct optimistic_spin_queue osq;
	struct list_head wait_list;
};

_Static_assert(sizeof(struct mutex) == 20 && offsetof(struct mutex, wait_list) == 12,
	       "struct mutex as Linux 6.1's non-debug ARM build");

/* lockdep's class key: empty without CONFIG_LOCKDEP. */
struct lock_class_key {
};

#define __MUTEX_INITIALIZER(lockname)                                          \
	{ .owner = { 0 }, .wait_lock = __RAW_SPIN_LOCK_UNLOCKED(lockname.wait_lock), \
	  .osq = { { 0 } }, .wait_list = LIST_HEAD_INIT(lockname.wait_list) }
#define DEFINE_MUTEX(mutexname) struct mutex mutexname = __MUTEX_INITIALIZER(mutexname)

void __mutex_init(struct mutex *lock, const char *name, struct lock_class_key *key);
#define mutex_init(mutex)                                                      \
	do {                                                                    \
		static struct lock_class_key __key;                             \
		__mutex_init((mutex), #mutex, &__key);                          \
	} while (0)

void mutex_lock(struct mutex *lock);
int mutex_lock_interruptible(struct mutex *lock);
int mutex_trylock(struct mutex *lock);
void mutex_unlock(struct mutex *lock);
bool mutex_is_locked(struct mutex *lock);
#endif
