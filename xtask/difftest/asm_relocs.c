/* The relocation types GCC does not emit for C code like the rest of the
 * corpus, written as top-level assembly (in both instruction sets whatever
 * the variant, so their states are known):
 *   R_ARM_MOVW_PREL_NC / R_ARM_MOVT_PREL and their Thumb-2 forms
 *     (PC-relative addresses, with non-zero addends),
 *   R_ARM_REL32 (self-relative tables, to kernel, module and COMMON data),
 *   R_ARM_TARGET1 (absolute, as in .init_array),
 *   R_ARM_PC24 (the pre-EABI BL/B/Bcond; to ARM code only: it cannot
 *     change state, and the kernel may be Thumb-2),
 *   R_ARM_V4BX (BX in ARMv4 code; gas emits it under -Wa,--fix-v4bx).
 * Every function has .fnstart/.fnend like the C code, so GNU ld finds each
 * text section covered by .ARM.exidx and leaves the tables alone. */
#include "kernel.h"

extern const int asm_rel_table[];

__asm__(
	"	.pushsection .text.asm_arm, \"ax\", %progbits\n"
	"	.arm\n"
	"	.align	2\n"
	"	.globl	asm_arm_prel\n"
	"	.type	asm_arm_prel, %function\n"
	"asm_arm_prel:\n"
	"	.fnstart\n"
	"	movw	r0, #:lower16:(jiffies - .)\n"
	"	movt	r0, #:upper16:(jiffies - .)\n"
	"	movw	r1, #:lower16:(asm_rel_table - . + 12)\n"
	"	movt	r1, #:upper16:(asm_rel_table - . + 12)\n"
	"	movw	r2, #:lower16:(printk - . - 0x100)\n"
	"	movt	r2, #:upper16:(printk - . - 0x100)\n"
	"	.reloc	., R_ARM_PC24, asm_arm_leaf\n"
	"	.word	0xebfffffe\n" /* bl asm_arm_leaf */
	"	.reloc	., R_ARM_PC24, asm_arm_leaf\n"
	"	.word	0x1a000000\n" /* bne asm_arm_leaf + 8 */
	"	.arch	armv4t\n"
	"	bx	lr\n"
	"	.arch	armv7-a\n"
	"	.fnend\n"
	"	.size	asm_arm_prel, . - asm_arm_prel\n"
	"	.type	asm_arm_leaf, %function\n"
	"asm_arm_leaf:\n"
	"	.fnstart\n"
	"	.arch	armv4t\n"
	"	bxne	r3\n"
	"	.arch	armv7-a\n"
	"	bx	lr\n"
	"	.fnend\n"
	"	.size	asm_arm_leaf, . - asm_arm_leaf\n"
	"\n"
	"	.section .text.asm_thumb, \"ax\", %progbits\n"
	"	.thumb\n"
	"	.align	2\n"
	"	.globl	asm_thumb_prel\n"
	"	.type	asm_thumb_prel, %function\n"
	"	.thumb_func\n"
	"asm_thumb_prel:\n"
	"	.fnstart\n"
	"	nop\n" /* the MOVW/MOVT pairs at a 2-mod-4 place */
	"	movw	r0, #:lower16:(console_loglevel - .)\n"
	"	movt	r0, #:upper16:(console_loglevel - .)\n"
	"	movw	r1, #:lower16:(asm_arm_prel - . + 0x20)\n"
	"	movt	r1, #:upper16:(asm_arm_prel - . + 0x20)\n"
	"	movw	r2, #:lower16:(asm_rel_table - . - 4)\n"
	"	movt	r2, #:upper16:(asm_rel_table - . - 4)\n"
	"	bx	lr\n"
	"	.fnend\n"
	"	.size	asm_thumb_prel, . - asm_thumb_prel\n"
	"\n"
	"	.section .rodata.asm_rel_table, \"a\", %progbits\n"
	"	.align	2\n"
	"	.globl	asm_rel_table\n"
	"	.type	asm_rel_table, %object\n"
	"asm_rel_table:\n"
	"	.word	printk - .\n"
	"	.word	jiffies - . + 8\n"
	"	.word	asm_thumb_prel - .\n"
	"	.word	asm_arm_leaf - .\n"
	"	.word	counter - . + 16\n"
	"	.word	printk(target1)\n"
	"	.word	asm_thumb_prel(target1)\n"
	"	.word	counter(target1)\n"
	"	.size	asm_rel_table, . - asm_rel_table\n"
	"	.popsection\n"
#ifdef __thumb__
	"	.thumb\n"
#else
	"	.arm\n"
#endif
);

int asm_sum(void)
{
	return asm_arm_prel() + asm_thumb_prel() + asm_rel_table[0];
}
