/* aeabi_div.S - integer division for ARMv7-A without a divide instruction, small.
 *
 * Cortex-A8/A9 (the armhf baseline, -march=armv7-a) have no udiv/sdiv, so the compiler calls
 * the run-time ABI's __aeabi_uidiv(mod) / __aeabi_idiv(mod) and, for 64 bits,
 * __aeabi_uldivmod / __aeabi_ldivmod. libgcc's are unrolled for speed: 1,316 bytes for 32
 * bits, 482 for 64. These are shift-and-subtract loops (32 bits: at most 32 steps, CLZ skips
 * the leading zeros; 64 bits: 64 steps): 198 bytes, fast enough for a phone daemon's
 * few divisions (a 64-bit one is under 1 us at 1 GHz). Same results as libgcc for every
 * divisor but 0 (undefined in C: here quotient and remainder 0, no __aeabi_idiv0 call). Built
 * only where the target has Thumb-2 and no hardware divide; empty elsewhere.
 * tests/unit/test_aeabi_div.c checks them (on armhf under qemu-user: tests/cross).
 */
#if defined(__arm__) && defined(__thumb2__) && !defined(__ARM_ARCH_EXT_IDIV__) && defined(__ELF__)

	.syntax unified
	.thumb
	.text

/* unsigned: r0 = n, r1 = d -> r0 = n / d, r1 = n % d (uses r2, r3, ip only, no stack) */
	.align	2
	.global	__aeabi_uidiv
	.global	__aeabi_uidivmod
	.type	__aeabi_uidiv, %function
	.type	__aeabi_uidivmod, %function
	.thumb_func
__aeabi_uidiv:
	.thumb_func
__aeabi_uidivmod:
	mov	r2, r0			@ r2: the remainder so far
	movs	r0, #0			@ r0: the quotient
	cbz	r1, 2f			@ d == 0: 0, 0
	clz	r3, r1
	clz	ip, r2
	subs	r3, r3, ip		@ r3: how far d shifts left under n
	bmi	3f			@ d > n: 0, n
	lsls	r1, r1, r3
	adds	r3, r3, #1		@ one step per quotient bit
1:	lsls	r0, r0, #1
	cmp	r2, r1
	itt	hs
	subhs	r2, r2, r1
	addhs	r0, r0, #1
	lsrs	r1, r1, #1
	subs	r3, r3, #1
	bne	1b
	b	3f
2:	movs	r2, #0
3:	mov	r1, r2
	bx	lr
	.size	__aeabi_uidivmod, . - __aeabi_uidivmod
	.size	__aeabi_uidiv, . - __aeabi_uidiv

/* signed: r0 = n, r1 = d -> r0 = n / d (toward zero), r1 = n % d (the sign of n) */
	.align	2
	.global	__aeabi_idiv
	.global	__aeabi_idivmod
	.type	__aeabi_idiv, %function
	.type	__aeabi_idivmod, %function
	.thumb_func
__aeabi_idiv:
	.thumb_func
__aeabi_idivmod:
	push	{r4, r5, r6, lr}	@ 4 registers: the stack stays 8-byte aligned
	eor	r4, r0, r1		@ r4 < 0: a negative quotient
	mov	r5, r0			@ r5 < 0: a negative remainder
	cmp	r0, #0
	it	lt
	rsblt	r0, r0, #0
	cmp	r1, #0
	it	lt
	rsblt	r1, r1, #0
	bl	__aeabi_uidivmod
	cmp	r4, #0
	it	lt
	rsblt	r0, r0, #0
	cmp	r5, #0
	it	lt
	rsblt	r1, r1, #0
	pop	{r4, r5, r6, pc}
	.size	__aeabi_idivmod, . - __aeabi_idivmod
	.size	__aeabi_idiv, . - __aeabi_idiv

/* unsigned 64-bit: r1:r0 = n, r3:r2 = d -> r1:r0 = n / d, r3:r2 = n % d. Restoring division,
 * 64 steps: n shifts left into the remainder (r5:r4), the quotient bit into n's low bit. */
	.align	2
	.global	__aeabi_uldivmod
	.type	__aeabi_uldivmod, %function
	.thumb_func
__aeabi_uldivmod:
	push	{r4, r5, r6, lr}
	movs	r4, #0
	movs	r5, #0
	orrs	r6, r2, r3
	beq	3f			@ d == 0: 0, 0
	movs	r6, #64
1:	adds	r0, r0, r0		@ remainder:n <<= 1
	adcs	r1, r1, r1
	adcs	r4, r4, r4
	adcs	r5, r5, r5
	bcs	2f			@ the remainder passed 2^64: more than d
	cmp	r4, r2
	sbcs	ip, r5, r3		@ C: remainder >= d
	bcc	4f
2:	subs	r4, r4, r2
	sbc	r5, r5, r3
	orr	r0, r0, #1
4:	subs	r6, r6, #1
	bne	1b
	b	5f
3:	movs	r0, #0
	movs	r1, #0
5:	mov	r2, r4
	mov	r3, r5
	pop	{r4, r5, r6, pc}
	.size	__aeabi_uldivmod, . - __aeabi_uldivmod

/* signed 64-bit: r1:r0 = n, r3:r2 = d -> r1:r0 = n / d (toward zero), r3:r2 = n % d (the sign
 * of n). A 64-bit negation: rsbs lo; sbc hi, hi, hi, lsl #1 (= -hi - borrow). */
	.align	2
	.global	__aeabi_ldivmod
	.type	__aeabi_ldivmod, %function
	.thumb_func
__aeabi_ldivmod:
	push	{r4, r5, r6, lr}
	eor	r4, r1, r3		@ r4 < 0: a negative quotient
	mov	r5, r1			@ r5 < 0: a negative remainder
	cmp	r1, #0
	bge	1f
	rsbs	r0, r0, #0
	sbc	r1, r1, r1, lsl #1
1:	cmp	r3, #0
	bge	2f
	rsbs	r2, r2, #0
	sbc	r3, r3, r3, lsl #1
2:	bl	__aeabi_uldivmod
	cmp	r4, #0
	bge	3f
	rsbs	r0, r0, #0
	sbc	r1, r1, r1, lsl #1
3:	cmp	r5, #0
	bge	4f
	rsbs	r2, r2, #0
	sbc	r3, r3, r3, lsl #1
4:	pop	{r4, r5, r6, pc}
	.size	__aeabi_ldivmod, . - __aeabi_ldivmod

#endif

#if defined(__ELF__)
	.section .note.GNU-stack, "", %progbits
#endif
