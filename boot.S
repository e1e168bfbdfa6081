/*
 * boot.S — Kobold's first instructions, the counterpart of Linux's
 * arch/arm/kernel/head.S.
 *
 * QEMU boots us exactly as it boots a Linux image (hw/arm/boot.c): a tiny stub
 * at 0x60000000 jumps here in SVC mode with the MMU and caches off and
 *     r0 = 0, r1 = machine type (0x8e0, vexpress), r2 = physical address of
 *     the ATAG list (0x60000100) or of the DTB when -dtb is given.
 * A uImage is loaded where its header says (0x60008000); a raw Image is
 * loaded at 0x60010000, so we first move ourselves to 0x60008000.
 *
 * Then, still at physical addresses:
 *   1. zero .bss;
 *   2. build the first-level table swapper_pg_dir at physical 0x60004000 with
 *      1 MB sections: an identity map of the section we run in, the kernel at
 *      PAGE_OFFSET, the ATAG/DTB block at its linear address, and the debug
 *      UART (as Linux's DEBUG_LL) so the first printk works;
 *   3. program TTBCR, TTBR0, DACR, PRRR/NMRR (TEX remap) like proc-v7.S and
 *      turn on the MMU, caches, branch prediction and high vectors;
 *   4. jump to the virtual address __mmap_switched, set up the stacks and
 *      call start_kernel(machine, boot_params_phys). Rust removes the
 *      identity map once it runs high.
 *
 * All numbers come from Rust (kobold-layout and mm::pgtable) through the
 * absolute symbols KOBOLD_* that arch/armv7/boot.rs defines; `ldr rX, =SYM`
 * lets the linker fill them in. The code runs before the MMU is on, so it
 * uses only PC-relative addressing (adr) and converts link-time virtual
 * addresses to physical ones with the offset it measures itself (r8).
 */
    .syntax unified
    .arm

    .section .head.text, "ax"
    .globl  _start
    .type   _start, %function
_start:
    cpsid   aif                         @ no interrupts, no imprecise aborts
    cps     #0x13                       @ SVC mode (QEMU already starts us there)
    mov     r10, r1                     @ r10 = machine type
    mov     r11, r2                     @ r11 = ATAG/DTB pointer (physical)

    /* 0. Run at KERNEL_RAM_PADDR: a raw Image arrives 0x8000 too high. */
    adr     r4, _start                  @ where we are
    ldr     r5, =KOBOLD_KERNEL_RAM_PADDR @ where we must be
    cmp     r4, r5
    bne     __relocate_image
__at_home:
    /* r8 = PAGE_OFFSET - PHYS_OFFSET, measured: virt(_start) - phys(_start). */
    ldr     r8, =_start
    adr     r0, _start
    sub     r8, r8, r0

    /* 1. Zero .bss (physical addresses). */
    ldr     r0, =__bss_start
    ldr     r1, =__bss_stop
    sub     r0, r0, r8
    sub     r1, r1, r8
    mov     r2, #0
1:  cmp     r0, r1
    strlo   r2, [r0], #4
    blo     1b

    /* 2. The first-level table: r4 = physical swapper_pg_dir, cleared. */
    ldr     r4, =swapper_pg_dir
    sub     r4, r4, r8
    mov     r0, r4
    add     r1, r4, #0x4000
    mov     r2, #0
1:  str     r2, [r0], #4
    cmp     r0, r1
    blo     1b

    ldr     r7, =KOBOLD_PMD_SECT_KERNEL @ normal memory, WBWA, kernel RWX

    /* 2a. Identity map of the section holding this code (removed later). */
    adr     r0, _start
    mov     r0, r0, lsr #20
    orr     r3, r7, r0, lsl #20
    str     r3, [r4, r0, lsl #2]

    /* 2b. The kernel: PAGE_OFFSET .. _end onto PHYS_OFFSET .. */
    ldr     r2, =KOBOLD_PAGE_OFFSET
    add     r0, r4, r2, lsr #18         @ &pgd[PAGE_OFFSET >> 20]
    ldr     r1, =_end
    sub     r1, r1, #1
    sub     r1, r1, r2
    mov     r1, r1, lsr #20             @ sections to map, minus one
    ldr     r3, =KOBOLD_PHYS_OFFSET
    orr     r3, r7, r3
1:  str     r3, [r0], #4
    add     r3, r3, #1 << 20
    subs    r1, r1, #1
    bpl     1b

    /* 2c. The ATAG list / DTB: two sections at its linear address, as
     *     head.S does, in case it crosses a section boundary. Skipped when
     *     r2 does not point into the first 1 GB of RAM. */
    ldr     r3, =KOBOLD_PHYS_OFFSET
    sub     r0, r11, r3                 @ offset into RAM
    cmp     r0, #0x40000000
    bhs     2f
    mov     r0, r0, lsr #20             @ section number within RAM
    ldr     r2, =KOBOLD_PAGE_OFFSET
    add     r1, r0, r2, lsr #20         @ virtual section number
    add     r1, r4, r1, lsl #2          @ its L1 entry
    orr     r3, r3, r0, lsl #20         @ physical section base
    orr     r3, r3, r7
    str     r3, [r1], #4
    add     r3, r3, #1 << 20
    str     r3, [r1]
2:
    /* 2d. The debug UART's 1 MB of motherboard peripherals (DEBUG_LL). */
    ldr     r0, =KOBOLD_DEBUG_LL_VIRT
    ldr     r1, =KOBOLD_DEBUG_LL_PHYS
    ldr     r3, =KOBOLD_PMD_SECT_DEVICE
    orr     r3, r3, r1
    mov     r0, r0, lsr #20
    str     r3, [r4, r0, lsl #2]

    /* 3. Caches and TLBs clean of anything stale, then the MMU registers. */
    mov     r0, #0
    mcr     p15, 0, r0, c8, c7, 0       @ TLBIALL
    mcr     p15, 0, r0, c7, c5, 0       @ ICIALLU
    mcr     p15, 0, r0, c7, c5, 6       @ BPIALL
    dsb
    isb
    mcr     p15, 0, r0, c2, c0, 2       @ TTBCR = 0: TTBR0 translates all 4 GB
    ldr     r0, =KOBOLD_TTB_FLAGS
    orr     r0, r4, r0
    mcr     p15, 0, r0, c2, c0, 0       @ TTBR0 = swapper_pg_dir | walk attributes
    ldr     r0, =KOBOLD_DACR
    mcr     p15, 0, r0, c3, c0, 0       @ domains: kernel, user, io = client
    ldr     r0, =KOBOLD_PRRR
    mcr     p15, 0, r0, c10, c2, 0      @ PRRR: TEX remap, memory types
    ldr     r0, =KOBOLD_NMRR
    mcr     p15, 0, r0, c10, c2, 1      @ NMRR: TEX remap, cache policies
    mrc     p15, 0, r0, c1, c0, 0       @ SCTLR
    ldr     r1, =KOBOLD_SCTLR_CLEAR
    bic     r0, r0, r1
    ldr     r1, =KOBOLD_SCTLR_SET
    orr     r0, r0, r1
    ldr     lr, =__mmap_switched        @ a virtual address
    dsb
    mcr     p15, 0, r0, c1, c0, 0       @ MMU on
    isb
    bx      lr                          @ leave the identity map

/*
 * Move the image [r4, r4 + size) to r5 and continue at __at_home there.
 * The copy loop must not overwrite itself, so it is first copied just past
 * the end of the current image (free RAM: QEMU puts the initrd and DTB far
 * above the kernel) and runs from there. Copies forwards when moving down
 * and backwards when moving up, so overlapping ranges are safe.
 */
__relocate_image:
    ldr     r6, =__kobold_image_size
    add     r6, r6, #3
    bic     r6, r6, #3                  @ r6 = bytes to copy
    add     r0, r4, r6
    add     r0, r0, #63
    bic     r0, r0, #63                 @ r0 = where the trampoline goes
    adr     r1, __reloc_tramp
    adr     r2, __reloc_tramp_end
    mov     r3, r0
1:  ldr     r12, [r1], #4
    str     r12, [r3], #4
    cmp     r1, r2
    blo     1b
    ldr     r9, =__at_home - _start
    add     r9, r5, r9                  @ r9 = __at_home in the copy
    bx      r0

__reloc_tramp:                          @ position independent
    cmp     r5, r4
    bhi     2f
1:  ldr     r12, [r4], #4               @ moving down: forwards
    str     r12, [r5], #4
    subs    r6, r6, #4
    bne     1b
    b       3f
2:  add     r4, r4, r6                  @ moving up: backwards
    add     r5, r5, r6
1:  ldr     r12, [r4, #-4]!
    str     r12, [r5, #-4]!
    subs    r6, r6, #4
    bne     1b
3:  mov     r0, #0
    mcr     p15, 0, r0, c7, c5, 0       @ ICIALLU: the code moved
    dsb
    isb
    bx      r9
__reloc_tramp_end:
    .ltorg

/*
 * Running at virtual addresses now. Give each exception mode its own small
 * stack (the handlers move to the SVC stack at once), then the boot stack,
 * and enter Rust.
 */
    .type   __mmap_switched, %function
__mmap_switched:
    ldr     r0, =__exc_stacks_bottom
    cps     #0x12                       @ IRQ
    add     sp, r0, #256
    cps     #0x17                       @ ABT
    add     sp, r0, #512
    cps     #0x1b                       @ UND
    add     sp, r0, #768
    cps     #0x13                       @ SVC
    ldr     sp, =__svc_stack_top
    mov     r0, r10                     @ machine type
    mov     r1, r11                     @ ATAG/DTB physical address
    mov     fp, #0                      @ (fp is r11: only now)
    bl      start_kernel
1:  wfi
    b       1b
    .ltorg
