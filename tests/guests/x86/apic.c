// SPDX-License-Identifier: MIT
/*
 * apic: the local APIC of one vCPU, one behaviour per check, judged by the
 * interrupts taken and the registers read, never by time: IA32_APIC_BASE
 * and the IDs CPUID reports, the version register, self-IPIs through the
 * ICR with IRR/ISR/PPR before and after EOI, priority order, TPR (and CR8)
 * masking, the error status register, the timer in one-shot, periodic and
 * TSC-deadline modes waking HLT, a masked timer, relocation of the xAPIC
 * page, then x2APIC mode (IDs, LDR, SELF_IPI, ICR, #GP on reserved bits
 * and write-only registers) and the mode transitions IA32_APIC_BASE
 * refuses.
 */
#include "guest.h"
#include "x86.h"

#define VEC_A		0x41
#define VEC_LOW		0x61
#define VEC_HIGH	0x81
#define VEC_TIMER	0x50
#define VEC_ERROR	0xfe
#define VEC_X2		0x42

/* Order in which hooked vectors ran, and what the APIC said inside. */
static volatile unsigned int order[8], n_order;
static volatile bool isr_seen, ppr_ok;

static void eoi_hook(struct exc_frame *f)
{
	if (n_order < 8) {
		order[n_order++] = (unsigned int)f->vector;
	}
	isr_seen = apic_bit(APIC_ISR, (unsigned int)f->vector);
	ppr_ok = (apic_read(APIC_PPR) & 0xf0) == (f->vector & 0xf0);
	apic_write(APIC_EOI, 0);
}

/* An interrupt that does not EOI: the test inspects ISR afterwards. */
static void no_eoi_hook(struct exc_frame *f)
{
	(void)f;
}

static void x2_eoi_hook(struct exc_frame *f)
{
	(void)f;
	wrmsr(MSR_X2APIC(APIC_EOI), 0);
}

static void check_base_and_ids(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	uint32_t r[4], ver;

	EXPECT((base & ~0xfffUL) == APIC_DEFAULT, "APIC base 0x%lx",
	       (unsigned long)base);
	EXPECT((base & (APIC_BASE_EN | APIC_BASE_BSP | APIC_BASE_EXTD)) ==
	       (APIC_BASE_EN | APIC_BASE_BSP), "APIC base flags 0x%lx",
	       (unsigned long)base);
	cpuid2(1, 0, r);
	EXPECT(r[3] & (1U << 9), "CPUID.1:EDX.APIC clear with the APIC on");
	EXPECT(r[2] & (1U << 21), "CPUID.1:ECX.x2APIC clear");
	EXPECT(r[2] & (1U << 24), "CPUID.1:ECX.TSC-deadline clear");
	EXPECT((r[1] >> 24) == apic_read(APIC_ID) >> 24,
	       "CPUID.1:EBX[31:24] %u, APIC ID register %u", r[1] >> 24,
	       apic_read(APIC_ID) >> 24);
	ver = apic_read(APIC_VER);
	EXPECT((ver & 0xff) >= 0x10 && ((ver >> 16) & 0xff) >= 3,
	       "version register 0x%x", ver);
	EXPECT(apic_read(APIC_DFR) == 0xffffffff, "DFR 0x%x at reset",
	       apic_read(APIC_DFR));
	EXPECT((apic_read(APIC_SVR) & 0x1ff) == 0xff, "SVR 0x%x at reset",
	       apic_read(APIC_SVR));
	EXPECT(apic_read(APIC_LVT_TIMER) & LVT_MASKED,
	       "LVT timer not masked at reset");
}

static void check_self_ipi(void)
{
	idt_hook(VEC_A, no_eoi_hook);
	irq_disable();
	apic_write(APIC_ICR, ICR_SELF | VEC_A);
	EXPECT(apic_bit(APIC_IRR, VEC_A), "self-IPI not in IRR");
	EXPECT(!apic_bit(APIC_ISR, VEC_A), "self-IPI in ISR before delivery");
	EXPECT(irq_count[VEC_A] == 0, "self-IPI taken with IF clear");
	EXPECT(!(apic_read(APIC_ICR) & (1U << 12)), "ICR delivery pending");
	irq_window();
	EXPECT(irq_count[VEC_A] == 1, "self-IPI taken %lu times",
	       irq_count[VEC_A]);
	EXPECT(!apic_bit(APIC_IRR, VEC_A), "self-IPI still in IRR");
	EXPECT(apic_bit(APIC_ISR, VEC_A), "self-IPI not in ISR in service");
	EXPECT((apic_read(APIC_PPR) & 0xf0) == (VEC_A & 0xf0),
	       "PPR 0x%x in service of 0x%x", apic_read(APIC_PPR), VEC_A);
	apic_write(APIC_EOI, 0);
	EXPECT(!apic_bit(APIC_ISR, VEC_A), "ISR bit left after EOI");
	EXPECT(apic_read(APIC_PPR) == 0, "PPR 0x%x after EOI",
	       apic_read(APIC_PPR));
}

static void check_priority(void)
{
	idt_hook(VEC_LOW, eoi_hook);
	idt_hook(VEC_HIGH, eoi_hook);
	n_order = 0;
	irq_disable();
	apic_write(APIC_ICR, ICR_SELF | VEC_LOW);
	apic_write(APIC_ICR, ICR_SELF | VEC_HIGH);
	irq_window();
	EXPECT(n_order == 2 && order[0] == VEC_HIGH && order[1] == VEC_LOW,
	       "priority order: %u taken, first 0x%x", n_order, order[0]);
	EXPECT(isr_seen && ppr_ok, "ISR/PPR inside the handler");
}

static void check_tpr(void)
{
	unsigned long before = irq_count[VEC_LOW];
	uint64_t cr8;

	apic_write(APIC_TPR, 0x70);
	__asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
	EXPECT(cr8 == 7, "CR8 %lu with TPR 0x70", (unsigned long)cr8);
	irq_enable();
	apic_write(APIC_ICR, ICR_SELF | VEC_LOW);
	__asm__ volatile("nop; nop; nop" ::: "memory");
	EXPECT(irq_count[VEC_LOW] == before, "TPR 0x70 let 0x%x through",
	       VEC_LOW);
	EXPECT(apic_bit(APIC_IRR, VEC_LOW), "masked vector not in IRR");
	EXPECT(apic_read(APIC_PPR) == 0x70, "PPR 0x%x with TPR 0x70",
	       apic_read(APIC_PPR));
	/* Lowering TPR through CR8 delivers it. */
	__asm__ volatile("mov %0, %%cr8" : : "r"(5UL) : "memory");
	__asm__ volatile("nop" ::: "memory");
	irq_disable();
	EXPECT(irq_count[VEC_LOW] == before + 1,
	       "0x%x not taken after CR8 = 5", VEC_LOW);
	EXPECT(apic_read(APIC_TPR) == 0x50, "TPR 0x%x after CR8 = 5",
	       apic_read(APIC_TPR));
	apic_write(APIC_TPR, 0);
}

static void check_esr(void)
{
	uint32_t esr;

	apic_write(APIC_ESR, 0);
	(void)apic_read(APIC_ESR);
	apic_write(APIC_ICR, ICR_SELF | 5);	/* vectors 0-15 are illegal */
	apic_write(APIC_ESR, 0);
	esr = apic_read(APIC_ESR);
	EXPECT(esr & (1U << 5), "send illegal vector: ESR 0x%x", esr);
	(void)apic_read(0x040);			/* a reserved register */
	apic_write(APIC_ESR, 0);
	esr = apic_read(APIC_ESR);
	EXPECT(esr & (1U << 7), "illegal register address: ESR 0x%x", esr);
	apic_write(APIC_ESR, 0);
	EXPECT(apic_read(APIC_ESR) == 0, "ESR not cleared by its write");
	/* LVT error signals it. */
	idt_hook(VEC_ERROR, eoi_hook);
	apic_write(APIC_LVT_ERROR, VEC_ERROR);
	irq_enable();
	apic_write(APIC_ICR, ICR_SELF | 3);
	__asm__ volatile("nop" ::: "memory");
	irq_disable();
	EXPECT(irq_count[VEC_ERROR] == 1, "LVT error taken %lu times",
	       irq_count[VEC_ERROR]);
	apic_write(APIC_LVT_ERROR, LVT_MASKED);
	apic_write(APIC_ESR, 0);
}

static void check_timer_oneshot(void)
{
	uint32_t c1, c2;

	idt_hook(VEC_TIMER, eoi_hook);
	apic_write(APIC_TIMER_DCR, 0xb);		/* divide by 1 */
	apic_write(APIC_LVT_TIMER, VEC_TIMER);
	apic_write(APIC_TIMER_ICR, 400000);
	c1 = apic_read(APIC_TIMER_CCR);
	c2 = apic_read(APIC_TIMER_CCR);
	EXPECT(c1 <= 400000 && c2 < c1 && c2 > 0,
	       "one-shot counts down: %u then %u", c1, c2);
	wait_irq(&irq_count[VEC_TIMER], 1);
	EXPECT(apic_read(APIC_TIMER_CCR) == 0, "one-shot CCR %u after expiry",
	       apic_read(APIC_TIMER_CCR));
	EXPECT(apic_read(APIC_TIMER_ICR) == 400000, "ICR %u after expiry",
	       apic_read(APIC_TIMER_ICR));
	/* Long past its one expiry, still one interrupt. */
	apic_write(APIC_TIMER_DCR, 0x3);		/* divide by 16 */
	apic_write(APIC_TIMER_ICR, 5000);
	wait_irq(&irq_count[VEC_TIMER], 2);
	for (volatile unsigned int i = 0; i < 200000; i++) {
		irq_enable();
	}
	irq_disable();
	EXPECT(irq_count[VEC_TIMER] == 2, "one-shot fired %lu times for 2",
	       irq_count[VEC_TIMER]);
}

static void check_timer_periodic(void)
{
	unsigned long base = irq_count[VEC_TIMER], start = base;

	apic_write(APIC_TIMER_DCR, 0xb);
	apic_write(APIC_LVT_TIMER, VEC_TIMER | LVT_PERIODIC);
	apic_write(APIC_TIMER_ICR, 100000);
	wait_irq(&irq_count[VEC_TIMER], base + 5);
	EXPECT(apic_read(APIC_TIMER_CCR) > 0, "periodic CCR 0 while running");
	apic_write(APIC_TIMER_ICR, 0);		/* stops it */
	EXPECT(apic_read(APIC_TIMER_CCR) == 0, "CCR %u after ICR = 0",
	       apic_read(APIC_TIMER_CCR));
	/* One expiry may be pending from before the stop: take it first. */
	irq_enable();
	__asm__ volatile("nop" ::: "memory");
	irq_disable();
	base = irq_count[VEC_TIMER];
	for (volatile unsigned int i = 0; i < 300000; i++) {
		irq_enable();
	}
	irq_disable();
	EXPECT(irq_count[VEC_TIMER] == base, "stopped periodic timer fired");
	gprintf("apic: periodic timer gave %lu interrupts\n",
		irq_count[VEC_TIMER] - start);
}

static void check_timer_deadline(void)
{
	unsigned long base;

	apic_write(APIC_LVT_TIMER, VEC_TIMER | LVT_DEADLINE);
	apic_write(APIC_TIMER_ICR, 1234);	/* ignored in this mode */
	EXPECT(apic_read(APIC_TIMER_ICR) == 0, "ICR %u in TSC-deadline mode",
	       apic_read(APIC_TIMER_ICR));
	base = irq_count[VEC_TIMER];
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 300000);
	EXPECT(rdmsr(MSR_TSC_DEADLINE) != 0, "deadline reads 0 when armed");
	wait_irq(&irq_count[VEC_TIMER], base + 1);
	EXPECT(rdmsr(MSR_TSC_DEADLINE) == 0, "deadline not cleared on expiry");
	/* A deadline in the past fires at once. */
	irq_enable();
	wrmsr(MSR_TSC_DEADLINE, 1);
	__asm__ volatile("nop" ::: "memory");
	irq_disable();
	EXPECT(irq_count[VEC_TIMER] == base + 2, "past deadline: %lu taken",
	       irq_count[VEC_TIMER] - base);
	/* Disarm by writing 0: nothing more. */
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 100000);
	wrmsr(MSR_TSC_DEADLINE, 0);
	for (volatile unsigned int i = 0; i < 200000; i++) {
		irq_enable();
	}
	irq_disable();
	EXPECT(irq_count[VEC_TIMER] == base + 2, "disarmed deadline fired");
	/* Leaving the mode disarms; the MSR reads 0 outside it. */
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 100000);
	apic_write(APIC_LVT_TIMER, VEC_TIMER | LVT_MASKED);
	EXPECT(rdmsr(MSR_TSC_DEADLINE) == 0, "deadline outside its mode");
}

static void check_timer_masked(void)
{
	unsigned long base = irq_count[VEC_TIMER];

	apic_write(APIC_LVT_TIMER, VEC_TIMER | LVT_MASKED);
	apic_write(APIC_TIMER_DCR, 0xb);
	apic_write(APIC_TIMER_ICR, 20000);
	irq_enable();
	while (apic_read(APIC_TIMER_CCR)) {
		__asm__ volatile("pause");
	}
	irq_disable();
	EXPECT(irq_count[VEC_TIMER] == base, "masked timer interrupted");
	EXPECT(!apic_bit(APIC_IRR, VEC_TIMER), "masked timer set IRR");
}

static void check_relocation(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	volatile uint32_t *moved = (volatile uint32_t *)(0xfed00000UL + APIC_VER);

	wrmsr(MSR_APIC_BASE, (base & 0xfff) | 0xfed00000UL);
	EXPECT((*moved & 0xff) >= 0x10, "no APIC at the new base (0x%x)",
	       *moved);
	EXPECT(apic_read(APIC_VER) == 0, "APIC still at the old base");
	wrmsr(MSR_APIC_BASE, base);
	EXPECT((apic_read(APIC_VER) & 0xff) >= 0x10, "APIC not back");
}

static void check_x2apic(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE), v;
	uint32_t r[4];

	EXPECT(rdmsr_faults(MSR_X2APIC(APIC_ID), NULL),
	       "x2APIC MSR readable in xAPIC mode");
	EXPECT(wrmsr_faults(MSR_APIC_BASE, base | (1UL << 9)),
	       "reserved bit 9 of IA32_APIC_BASE accepted");
	EXPECT(wrmsr_faults(MSR_APIC_BASE, (base & ~APIC_BASE_EN) |
			    APIC_BASE_EXTD), "EXTD without EN accepted");
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	cpuid2(0xb, 0, r);
	EXPECT(rdmsr(MSR_X2APIC(APIC_ID)) == r[3],
	       "x2APIC ID %lu, CPUID.0xB:EDX %u",
	       (unsigned long)rdmsr(MSR_X2APIC(APIC_ID)), r[3]);
	EXPECT(rdmsr(MSR_X2APIC(APIC_LDR)) == 1, "x2APIC LDR 0x%lx",
	       (unsigned long)rdmsr(MSR_X2APIC(APIC_LDR)));
	EXPECT(apic_read(APIC_VER) == 0, "xAPIC page live in x2APIC mode");
	EXPECT(wrmsr_faults(MSR_X2APIC(APIC_ID), 5), "x2APIC ID writable");
	EXPECT(wrmsr_faults(MSR_X2APIC(APIC_EOI), 1), "non-zero EOI accepted");
	EXPECT(rdmsr_faults(MSR_X2APIC(APIC_SELF_IPI), NULL),
	       "SELF_IPI readable");
	EXPECT(wrmsr_faults(MSR_X2APIC(APIC_TPR), 0x100),
	       "reserved TPR bits accepted");
	EXPECT(rdmsr_faults(MSR_X2APIC(APIC_DFR), NULL), "DFR in x2APIC mode");
	EXPECT(rdmsr_faults(MSR_X2APIC(APIC_ICR_HI), NULL),
	       "ICR high half in x2APIC mode");
	idt_hook(VEC_X2, x2_eoi_hook);
	irq_enable();
	wrmsr(MSR_X2APIC(APIC_SELF_IPI), VEC_X2);
	__asm__ volatile("nop" ::: "memory");
	EXPECT(irq_count[VEC_X2] == 1, "SELF_IPI taken %lu times",
	       irq_count[VEC_X2]);
	wrmsr(MSR_X2APIC(APIC_ICR), ((uint64_t)0 << 32) | VEC_X2);
	__asm__ volatile("nop" ::: "memory");
	EXPECT(irq_count[VEC_X2] == 2, "ICR to x2APIC ID 0 taken %lu times",
	       irq_count[VEC_X2]);
	wrmsr(MSR_X2APIC(APIC_ICR), (0xffffffffULL << 32) | ICR_LOGICAL |
	      VEC_X2);
	__asm__ volatile("nop" ::: "memory");
	irq_disable();
	EXPECT(irq_count[VEC_X2] == 3, "logical broadcast taken %lu times",
	       irq_count[VEC_X2]);
	v = rdmsr(MSR_X2APIC(APIC_ISR) + 2);
	EXPECT(v == 0, "ISR word 2 0x%lx after the EOIs", (unsigned long)v);
	/* x2APIC to xAPIC directly is refused; through disabled it works. */
	EXPECT(wrmsr_faults(MSR_APIC_BASE, base), "x2APIC -> xAPIC accepted");
	wrmsr(MSR_APIC_BASE, base & ~(APIC_BASE_EN | APIC_BASE_EXTD));
	cpuid2(1, 0, r);
	EXPECT(!(r[3] & (1U << 9)), "CPUID.1:EDX.APIC set while disabled");
	EXPECT(apic_read(APIC_VER) == 0, "xAPIC page live while disabled");
	EXPECT(wrmsr_faults(MSR_APIC_BASE, base | APIC_BASE_EXTD),
	       "disabled -> x2APIC accepted");
	wrmsr(MSR_APIC_BASE, base);
	EXPECT((apic_read(APIC_SVR) & 0x1ff) == 0xff,
	       "SVR 0x%x after re-enable: not reset", apic_read(APIC_SVR));
	EXPECT(apic_read(APIC_LVT_TIMER) & LVT_MASKED,
	       "LVT timer unmasked after re-enable");
}

int guest_main(void)
{
	idt_init();
	check_base_and_ids();
	apic_write(APIC_SVR, 0x1ff);		/* software enable */
	check_self_ipi();
	check_priority();
	check_tpr();
	check_esr();
	check_timer_oneshot();
	check_timer_periodic();
	check_timer_deadline();
	check_timer_masked();
	check_relocation();
	check_x2apic();
	return checks_result("apic");
}
