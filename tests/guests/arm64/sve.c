// SPDX-License-Identifier: MIT
/*
 * sve: SVE as the CPU has it. The ID registers say whether it is there
 * (ID_AA64PFR0_EL1.SVE, through Strata's trap); without it the guest says
 * so and stops. With it: the vector length the guest can choose through
 * ZCR_EL1 is capped at 512 bits (Strata's ZCR_EL2, arch/arm64/sve.c) and
 * smaller choices are honoured; then two vCPUs of this VM, which share
 * one physical CPU (QEMU -smp 1), each fill Z0-Z31, P0-P15 and FFR with
 * their own pattern and keep it live while the other one runs: vCPU 0
 * loads, waits until vCPU 1 has loaded its own, and only then reads its
 * registers back; vCPU 1 reads back after vCPU 0 has. Any register Strata
 * does not switch shows the other vCPU's pattern (or zeros). The order is
 * judged from the two vCPUs' flags, never from time.
 */
#include "guest.h"

#define VL		64			/* the cap, in bytes */
#define ZBYTES		(32 * VL)
#define PBYTES		(16 * VL / 8)

struct sve_state {
	uint8_t z[ZBYTES] __attribute__((aligned(16)));
	uint8_t p[PBYTES] __attribute__((aligned(16)));
	uint64_t ffr;
};

/* sve_fill(z, p, n): Z from z, P from p, FFR = the first n elements. */
void sve_fill(const uint8_t *z, const uint8_t *p, uint64_t n);
/* sve_dump(z, p, ffr): Z to z, P to p, FFR to *ffr. */
void sve_dump(uint8_t *z, uint8_t *p, uint64_t *ffr);
uint64_t sve_vl(void);

__asm__(
"	.arch_extension sve\n"
"	.text\n"
"	.globl	sve_fill, sve_dump, sve_vl\n"
"sve_fill:\n"
"	whilelo	p0.b, xzr, x2\n"
"	wrffr	p0.b\n"
"	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"	ldr	p\\n, [x1, #\\n, mul vl]\n"
"	.endr\n"
"	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
"	ldr	z\\n, [x0, #\\n, mul vl]\n"
"	.endr\n"
"	ret\n"
"sve_dump:\n"
"	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
"	str	z\\n, [x0, #\\n, mul vl]\n"
"	.endr\n"
"	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"	str	p\\n, [x1, #\\n, mul vl]\n"
"	.endr\n"
"	rdffr	p0.b\n"
"	str	p0, [x2]\n"
"	ret\n"
"sve_vl:\n"
"	rdvl	x0, #1\n"
"	ret\n");

static struct cpu_boot boot1;
static uint8_t stack1[4096] __attribute__((aligned(16)));
static volatile uint64_t loaded[2], checked[2];
static volatile unsigned int bad[2];
static struct sve_state want[2], got[2];

static void pattern(unsigned int id, struct sve_state *s)
{
	for (unsigned int i = 0; i < ZBYTES; i++) {
		s->z[i] = (uint8_t)(0x30 + id * 0x51 + i * 7);
	}
	for (unsigned int i = 0; i < PBYTES; i++) {
		s->p[i] = (uint8_t)(0xa5 ^ (id * 0x3c) ^ (i * 13));
	}
	s->ffr = (1UL << (20 + id * 17)) - 1;	/* 20 or 37 elements */
}

static void sve_enable(void)
{
	uint64_t cpacr;

	__asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
	cpacr |= 3UL << 16 | 3UL << 20;		/* ZEN, FPEN: no traps */
	__asm__ volatile("msr cpacr_el1, %0\n\tisb" : : "r"(cpacr));
}

static void set_len(uint64_t len)
{
	__asm__ volatile("msr s3_0_c1_c2_0, %0\n\tisb" : : "r"(len));
}

/* Load this vCPU's pattern, let the other vCPU run, read it back. */
static void keep_state(unsigned int id)
{
	unsigned int other = !id;
	unsigned int n = 0;

	pattern(id, &want[id]);
	sve_fill(want[id].z, want[id].p, 20 + id * 17);
	loaded[id] = 1;
	/* Nothing here touches FP/SIMD or SVE (-mgeneral-regs-only). */
	while (!(id == 0 ? loaded[other] : checked[other])) {
		__asm__ volatile("yield");
	}
	sve_dump(got[id].z, got[id].p, &got[id].ffr);
	for (unsigned int i = 0; i < ZBYTES; i++) {
		n += got[id].z[i] != want[id].z[i];
	}
	for (unsigned int i = 0; i < PBYTES; i++) {
		n += got[id].p[i] != want[id].p[i];
	}
	n += got[id].ffr != want[id].ffr;
	bad[id] = n;
	checked[id] = 1;
}

void secondary_main(struct cpu_boot *b)
{
	(void)b;
	sve_enable();
	set_len(0xf);
	keep_state(1);
	hvc(PSCI_CPU_OFF, 0, 0, 0);
}

int guest_main(void *dtb)
{
	uint64_t pfr0, zfr0, vl, vl_small;
	int64_t st;

	(void)dtb;
	__asm__ volatile("mrs %0, id_aa64pfr0_el1" : "=r"(pfr0));
	__asm__ volatile("mrs %0, s3_0_c0_c4_4" : "=r"(zfr0));
	if (!((pfr0 >> 32) & 0xf)) {
		check(zfr0 == 0, "sve: no SVE but ID_AA64ZFR0_EL1 0x%lx", zfr0);
		puts("sve: not present\n");
		if (failures) {
			return 1;
		}
		puts("sve: PASS\n");
		return 0;
	}
	sve_enable();
	set_len(0xf);
	vl = sve_vl();
	set_len(1);
	vl_small = sve_vl();
	set_len(0xf);
	printf("sve: present, vector length %lu bits (ZCR_EL1.LEN 1: %lu)\n",
	       vl * 8, vl_small * 8);
	check(vl == VL, "sve: vector length %lu bytes, want the cap %u", vl,
	      VL);
	check(vl_small == 32, "sve: LEN 1 gives %lu bytes, want 32", vl_small);

	boot1.sp = (uint64_t)(stack1 + sizeof(stack1));
	boot1.id = 1;
	st = hvc(PSCI_CPU_ON, 1, (uint64_t)secondary_start,
		 (uint64_t)&boot1).status;
	if (!check(st == 0, "sve: CPU_ON(1) returned %ld", st)) {
		return 1;
	}
	keep_state(0);
	while (!checked[1]) {
		__asm__ volatile("yield");
	}
	printf("sve: vCPU 0 kept its registers while vCPU 1 ran: %s; vCPU 1: %s\n",
	       bad[0] ? "NO" : "yes", bad[1] ? "NO" : "yes");
	check(!bad[0] && !bad[1], "sve: %u and %u bytes differ", bad[0],
	      bad[1]);
	if (failures) {
		return 1;
	}
	puts("sve: PASS\n");
	return 0;
}
