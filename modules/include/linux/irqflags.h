/*
 * IRQ masking as Linux's arch/arm/include/asm/irqflags.h for ARMv7: inline
 * CPSR accesses. flags is the whole CPSR; IRQs are masked when its I bit
 * (0x80) is set. local_irq_restore puts the I bit back as it was saved.
 */
#ifndef _LINUX_IRQFLAGS_H
#define _LINUX_IRQFLAGS_H

#define PSR_I_BIT 0x00000080

static inline unsigned long arch_local_save_flags(void)
{
	unsigned long flags;

	__asm__ volatile("mrs %0, cpsr" : "=r"(flags) : : "memory", "cc");
	return flags;
}

static inline unsigned long arch_local_irq_save(void)
{
	unsigned long flags;

	__asm__ volatile("mrs %0, cpsr\n\tcpsid i" : "=r"(flags) : : "memory", "cc");
	return flags;
}

static inline void arch_local_irq_restore(unsigned long flags)
{
	__asm__ volatile("msr cpsr_c, %0" : : "r"(flags) : "memory", "cc");
}

static inline int arch_irqs_disabled_flags(unsigned long flags)
{
	return flags & PSR_I_BIT;
}

#define local_irq_enable() __asm__ volatile("cpsie i" : : : "memory", "cc")
#define local_irq_disable() __asm__ volatile("cpsid i" : : : "memory", "cc")
#define local_save_flags(flags) do { (flags) = arch_local_save_flags(); } while (0)
#define local_irq_save(flags) do { (flags) = arch_local_irq_save(); } while (0)
#define local_irq_restore(flags) arch_local_irq_restore(flags)
#define irqs_disabled_flags(flags) (arch_irqs_disabled_flags(flags) != 0)
#define irqs_disabled() irqs_disabled_flags(arch_local_save_flags())
#endif
