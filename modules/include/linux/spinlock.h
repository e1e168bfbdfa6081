/*
 * Spinlocks as Linux's on 32-bit ARM SMP without lock debugging: spinlock_t
 * is one word of tickets ({u16 owner; u16 next;}), and spin_lock() and
 * friends call the kernel's out-of-line _raw_spin_* functions. (Linux
 * inlines _raw_spin_unlock and _raw_spin_unlock_irq into non-preemptible
 * kernels' modules; Kobold's headers call them, as a CONFIG_PREEMPT
 * kernel's do, so every unlock is checked.)
 *
 * spin_lock_irqsave really masks IRQs (CPSR.I) and returns the old CPSR in
 * flags. Kobold has one CPU and one task: taking a lock that is held, or
 * releasing a free one, prints Linux's "BUG: spinlock recursion" /
 * "BUG: spinlock already unlocked" and is refused instead of hanging.
 * See docs/module-api.md.
 */
#ifndef _LINUX_SPINLOCK_H
#define _LINUX_SPINLOCK_H
#include <kobold/module_api.h>
#include <linux/irqflags.h>

typedef struct {
	union {
		u32 slock;
		struct __raw_tickets {
			u16 owner;
			u16 next;
		} tickets;
	};
} arch_spinlock_t;

typedef struct raw_spinlock {
	arch_spinlock_t raw_lock;
} raw_spinlock_t;

typedef struct spinlock {
	union {
		struct raw_spinlock rlock;
	};
} spinlock_t;

_Static_assert(sizeof(spinlock_t) == 4, "spinlock_t is one word, as Linux's on ARM");

#define __ARCH_SPIN_LOCK_UNLOCKED { { 0 } }
#define __RAW_SPIN_LOCK_UNLOCKED(lockname) { .raw_lock = __ARCH_SPIN_LOCK_UNLOCKED }
#define __SPIN_LOCK_UNLOCKED(lockname) { { .rlock = __RAW_SPIN_LOCK_UNLOCKED(lockname) } }
#define DEFINE_SPINLOCK(x) spinlock_t x = __SPIN_LOCK_UNLOCKED(x)
#define DEFINE_RAW_SPINLOCK(x) raw_spinlock_t x = __RAW_SPIN_LOCK_UNLOCKED(x)
#define raw_spin_lock_init(lock) do { (lock)->raw_lock.slock = 0; } while (0)
#define spin_lock_init(lock) raw_spin_lock_init(&(lock)->rlock)

/* kernel/locking/spinlock.c */
void _raw_spin_lock(raw_spinlock_t *lock);
void _raw_spin_unlock(raw_spinlock_t *lock);
int _raw_spin_trylock(raw_spinlock_t *lock);
unsigned long _raw_spin_lock_irqsave(raw_spinlock_t *lock);
void _raw_spin_unlock_irqrestore(raw_spinlock_t *lock, unsigned long flags);
void _raw_spin_lock_irq(raw_spinlock_t *lock);
void _raw_spin_unlock_irq(raw_spinlock_t *lock);
void _raw_spin_lock_bh(raw_spinlock_t *lock);
void _raw_spin_unlock_bh(raw_spinlock_t *lock);
int _raw_spin_trylock_bh(raw_spinlock_t *lock);

#define raw_spin_lock(lock) _raw_spin_lock(lock)
#define raw_spin_unlock(lock) _raw_spin_unlock(lock)
#define raw_spin_trylock(lock) _raw_spin_trylock(lock)
#define raw_spin_lock_irqsave(lock, flags) do { flags = _raw_spin_lock_irqsave(lock); } while (0)
#define raw_spin_unlock_irqrestore(lock, flags) _raw_spin_unlock_irqrestore(lock, flags)
#define raw_spin_lock_irq(lock) _raw_spin_lock_irq(lock)
#define raw_spin_unlock_irq(lock) _raw_spin_unlock_irq(lock)
#define raw_spin_lock_bh(lock) _raw_spin_lock_bh(lock)
#define raw_spin_unlock_bh(lock) _raw_spin_unlock_bh(lock)

static inline void spin_lock(spinlock_t *lock) { _raw_spin_lock(&lock->rlock); }
static inline void spin_unlock(spinlock_t *lock) { _raw_spin_unlock(&lock->rlock); }
static inline int spin_trylock(spinlock_t *lock) { return _raw_spin_trylock(&lock->rlock); }
static inline void spin_lock_irq(spinlock_t *lock) { _raw_spin_lock_irq(&lock->rlock); }
static inline void spin_unlock_irq(spinlock_t *lock) { _raw_spin_unlock_irq(&lock->rlock); }
static inline void spin_lock_bh(spinlock_t *lock) { _raw_spin_lock_bh(&lock->rlock); }
static inline void spin_unlock_bh(spinlock_t *lock) { _raw_spin_unlock_bh(&lock->rlock); }
static inline int spin_trylock_bh(spinlock_t *lock) { return _raw_spin_trylock_bh(&lock->rlock); }
#define spin_lock_irqsave(lock, flags) raw_spin_lock_irqsave(&(lock)->rlock, flags)
static inline void spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	_raw_spin_unlock_irqrestore(&lock->rlock, flags);
}
static inline int spin_is_locked(spinlock_t *lock)
{
	arch_spinlock_t l = READ_ONCE(lock->rlock.raw_lock);
	return l.tickets.owner != l.tickets.next;
}

#endif
