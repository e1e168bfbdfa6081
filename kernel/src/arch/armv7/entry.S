/*
 * entry.S — exception vectors and entry/exit stubs (Linux: entry-armv.S).
 *
 * The vector page is the 4 KB page `.vectors`, mapped at 0xffff0000 with
 * SCTLR.V = 1 ("high vectors", ARM ARM B1.8.1). Each vector loads an absolute
 * address from the literal pool inside the same page, so the page works
 * wherever it is mapped.
 *
 * Every stub does the same thing, whatever mode the exception entered:
 *   - correct the return address (ARM ARM B1.8.3, table B1-7: data abort
 *     lr-8, prefetch abort and undef lr-4, IRQ/FIQ lr-4, SVC lr);
 *   - SRSDB: push {return address, SPSR} onto the *SVC* stack, then switch to
 *     SVC mode, so every handler runs on the kernel stack of the interrupted
 *     code, as Linux's `svc_entry` does;
 *   - save r0-r12, the interrupted sp and lr: the block is a `PtRegs`
 *     (r0..r12, sp, lr, pc, cpsr — 17 words, Linux's pt_regs without orig_r0);
 *   - call handle_exception(&mut PtRegs, kind) with an 8-byte aligned stack;
 *   - restore everything (the handler may change the registers) and return
 *     with RFE, which reloads pc and cpsr in one go.
 * The kind numbers are ExceptionKind's discriminants in exception.rs.
 *
 * Why this file is not part of the top-level boot.S: the two are Linux's two
 * files and run in two different worlds. boot.S (head.S) runs once, before
 * the MMU is on, at physical addresses, position-independent, from
 * .head.text, and is never entered again. This
 * file (entry-armv.S) runs on every exception, with the MMU on, at virtual
 * addresses: its vector page is mapped at 0xffff0000, and its stubs are
 * bound to the Rust beside them — the frame layout is ptregs.rs's PtRegs,
 * the kind numbers exception.rs's ExceptionKind. So it lives in the arch
 * wing with them, and boot.S stays at the top level with linker.ld.
 */
    .syntax unified
    .arm

    .section .vectors, "ax"
    .globl  __vectors
__vectors:
    ldr     pc, =__vec_reset            @ 0x00 reset (not taken at run time)
    ldr     pc, =__vec_und              @ 0x04 undefined instruction
    ldr     pc, =__vec_svc              @ 0x08 supervisor call
    ldr     pc, =__vec_pabt             @ 0x0c prefetch abort
    ldr     pc, =__vec_dabt             @ 0x10 data abort
    ldr     pc, =__vec_reserved         @ 0x14 (unused)
    ldr     pc, =__vec_irq              @ 0x18 IRQ
    ldr     pc, =__vec_fiq              @ 0x1c FIQ
    .ltorg

    .text
.macro  exception_entry, name, lr_adjust, kind
    .globl  \name
    .type   \name, %function
\name:
    .if \lr_adjust
    sub     lr, lr, #\lr_adjust
    .endif
    srsdb   sp!, #0x13                  @ {pc, cpsr} onto the SVC stack
    cps     #0x13
    sub     sp, sp, #60                 @ r0-r12, sp, lr
    stmia   sp, {r0-r12}
    add     r0, sp, #68
    str     r0, [sp, #52]               @ sp before the exception
    str     lr, [sp, #56]               @ lr_svc
    mov     r0, sp                      @ arg 0: &mut PtRegs
    mov     r1, #\kind                  @ arg 1: ExceptionKind
    mov     r4, sp
    bic     sp, sp, #7                  @ AAPCS: 8-byte aligned at calls
    bl      handle_exception
    mov     sp, r4
    ldr     lr, [sp, #56]
    ldmia   sp, {r0-r12}
    add     sp, sp, #60
    rfeia   sp!                         @ pc and cpsr from the frame
.endm

    exception_entry __vec_reset,    0, 0
    exception_entry __vec_und,      4, 1
    exception_entry __vec_svc,      0, 2
    exception_entry __vec_pabt,     4, 3
    exception_entry __vec_dabt,     8, 4
    exception_entry __vec_reserved, 0, 5
    exception_entry __vec_irq,      4, 6
    exception_entry __vec_fiq,      4, 7
