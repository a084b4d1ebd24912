/* aeabi_div.S - 32-bit integer division for ARMv7-A without a divide instruction, small.
 *
 * Cortex-A8/A9 (the armhf baseline, -march=armv7-a) have no udiv/sdiv, so the compiler calls
 * the run-time ABI's __aeabi_uidiv(mod) / __aeabi_idiv(mod). libgcc's versions are unrolled
 * for speed: 1,264 bytes. These are a shift-and-subtract loop of at most 32 steps (CLZ skips
 * the leading zeros): about 100 bytes, fast enough for a phone daemon's few divisions.
 * Same results as libgcc for every divisor but 0 (undefined in C: here quotient and remainder
 * 0, no __aeabi_idiv0 call). Built only where the target has Thumb-2 and no hardware divide;
 * empty elsewhere. Checked against 64-bit division: tests/cross/aeabi-div.c under qemu-arm.
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

#endif

#if defined(__ELF__)
	.section .note.GNU-stack, "", %progbits
#endif
