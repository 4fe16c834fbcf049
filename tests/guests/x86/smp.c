// SPDX-License-Identifier: MIT
/*
 * smp: the boot vCPU starts vCPU 1 the way a PC does, only through the
 * local APIC: INIT, then two start-up IPIs with vector 0x08, so that the
 * AP starts in real mode at 0800:0000, where a trampoline copied there
 * (lib/ap64.c) takes it through protected mode into long mode on the boot
 * vCPU's page tables; the second SIPI must be ignored. The AP reports its
 * APIC IDs (xAPIC ID register, CPUID.1:EBX, CPUID 0xB), then halts and
 * answers IPIs: fixed ones sent by physical and logical (flat) destination
 * and by the all-excluding-self and all-including-self shorthands, and
 * two NMIs (the second after the first one's IRET). An INIT puts it back
 * in wait-for-SIPI (an IPI sent then is lost with its reset APIC) and a
 * SIPI starts it again; it answers in the cluster logical model and to a
 * lowest-priority IPI, then both vCPUs switch to x2APIC mode and the
 * physical, logical (cluster, from the x2APIC ID) and broadcast IPIs go
 * through the ICR MSR. Every wait is for an interrupt, never for time.
 */
#include "guest.h"
#include "x86.h"

#define VEC_HELLO	0x60
#define VEC_PING	0x70
#define VEC_PONG	0x71
#define VEC_X2ON	0x72	/* the AP switches itself to x2APIC mode */
#define ICR_LOWEST	(1U << 8)

static uint8_t ap_stack[16384] __attribute__((aligned(16)));
static volatile uint32_t ap_apic_id = ~0U, ap_cpuid_id = ~0U, ap_x2_id = ~0U;
static volatile uint64_t ap_base;
static volatile unsigned long ap_pings, bsp_pings, ap_nmis;

/* This vCPU's APIC in x2APIC mode? (Each reads its own MSR.) */
static bool x2(void)
{
	return rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD;
}

static unsigned int my_apic_id(void)
{
	return x2() ? (unsigned int)rdmsr(MSR_X2APIC(APIC_ID)) :
		      apic_read(APIC_ID) >> 24;
}

static void eoi(void)
{
	if (x2()) {
		wrmsr(MSR_X2APIC(APIC_EOI), 0);
	} else {
		apic_write(APIC_EOI, 0);
	}
}

/* An IPI to @dest (xAPIC: 8 bits; x2APIC: 32) in this vCPU's mode. */
static void send_ipi(uint32_t dest, uint32_t icr)
{
	if (x2()) {
		wrmsr(MSR_X2APIC(APIC_ICR), ((uint64_t)dest << 32) | icr);
	} else {
		apic_send_ipi(dest, icr);
	}
}

static void eoi_hook(struct exc_frame *f)
{
	(void)f;
	eoi();
}

static void x2on_hook(struct exc_frame *f)
{
	(void)f;
	eoi();
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EXTD);
	send_ipi(0, VEC_PONG);
}

/* Both vCPUs take VEC_PING; the AP answers the boot vCPU with VEC_PONG. */
static void ping_hook(struct exc_frame *f)
{
	(void)f;
	if (my_apic_id() == 0) {
		bsp_pings++;
	} else {
		ap_pings++;
		send_ipi(0, VEC_PONG);
	}
	eoi();
}

static void nmi_hook(struct exc_frame *f)
{
	(void)f;
	if (my_apic_id() != 0) {
		ap_nmis++;
		send_ipi(0, VEC_PONG);
	}
}

static void ap_main(void)
{
	uint32_t r[4];

	idt_load();
	ap_apic_id = my_apic_id();
	cpuid2(1, 0, r);
	ap_cpuid_id = r[1] >> 24;
	cpuid2(0xb, 0, r);
	ap_x2_id = r[3];
	ap_base = rdmsr(MSR_APIC_BASE);
	apic_write(APIC_SVR, 0x1ff);
	if (ap_entries() == 1) {
		apic_write(APIC_LDR, 0x02000000);	/* flat: bit 1 */
	} else {
		apic_write(APIC_DFR, 0x0fffffff);	/* cluster model */
		apic_write(APIC_LDR, 0x34000000);	/* cluster 3, bit 2 */
	}
	send_ipi(0, VEC_HELLO);
	for (;;) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
}

static void expect_pong(unsigned long want, const char *how)
{
	wait_irq(&irq_count[VEC_PONG], want);
	EXPECT(irq_count[VEC_PONG] == want, "%s: %lu answers for %lu", how,
	       irq_count[VEC_PONG], want);
}

int guest_main(void)
{
	uint32_t r[4];

	idt_init();
	idt_hook(VEC_HELLO, eoi_hook);
	idt_hook(VEC_PONG, eoi_hook);
	idt_hook(VEC_PING, ping_hook);
	idt_hook(VEC_X2ON, x2on_hook);
	idt_hook(2, nmi_hook);
	apic_write(APIC_SVR, 0x1ff);
	cpuid2(1, 0, r);
	EXPECT(((r[1] >> 16) & 0xff) >= 2, "CPUID.1:EBX logical count %u",
	       (r[1] >> 16) & 0xff);
	EXPECT(my_apic_id() == 0 && (r[1] >> 24) == 0, "boot vCPU APIC ID %u",
	       my_apic_id());
	EXPECT(r[3] & (1U << 28), "CPUID.1:EDX.HTT clear with 2 vCPUs");
	cpuid2(4, 0, r);
	EXPECT(!(r[0] & 0x1f) || (r[0] >> 26) + 1 >= 2,
	       "CPUID.4: %u cores per package", (r[0] >> 26) + 1);

	ap_start(1, ap_main, ap_stack + sizeof(ap_stack));
	wait_irq(&irq_count[VEC_HELLO], 1);
	EXPECT(ap_entries() == 1, "AP entered the trampoline %u times",
	       ap_entries());
	EXPECT(ap_apic_id == 1 && ap_cpuid_id == 1 && ap_x2_id == 1,
	       "AP IDs: APIC %u, CPUID.1 %u, CPUID.0xB %u", ap_apic_id,
	       ap_cpuid_id, ap_x2_id);
	EXPECT((ap_base & (APIC_BASE_EN | APIC_BASE_BSP)) == APIC_BASE_EN,
	       "AP IA32_APIC_BASE 0x%lx", (unsigned long)ap_base);

	send_ipi(1, VEC_PING);				/* physical */
	expect_pong(1, "physical IPI");
	send_ipi(2, ICR_LOGICAL | VEC_PING);		/* flat logical */
	expect_pong(2, "logical IPI");
	send_ipi(1, ICR_LOGICAL | VEC_PING);		/* not the AP's bit */
	send_ipi(0, ICR_OTHERS | VEC_PING);
	expect_pong(3, "all-excluding-self IPI");
	EXPECT(bsp_pings == 0, "boot vCPU hit by its own broadcast");
	send_ipi(0, ICR_ALL | VEC_PING);
	expect_pong(4, "all-including-self IPI");
	EXPECT(bsp_pings == 1 && ap_pings == 4, "pings: boot vCPU %lu, AP %lu",
	       bsp_pings, ap_pings);
	send_ipi(1, ICR_NMI);
	expect_pong(5, "NMI");
	/* A second NMI: the first one's IRET must have ended NMI blocking. */
	send_ipi(1, ICR_NMI);
	expect_pong(6, "second NMI");
	EXPECT(ap_nmis == 2, "AP took %lu NMIs", ap_nmis);

	/* INIT: back to wait-for-SIPI; a fixed IPI now is lost. */
	send_ipi(1, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
	send_ipi(1, VEC_PING);
	send_ipi(1, ICR_SIPI | (AP_TRAMPOLINE >> 12));
	wait_irq(&irq_count[VEC_HELLO], 2);
	EXPECT(ap_entries() == 2, "AP entered the trampoline %u times",
	       ap_entries());
	send_ipi(1, VEC_PING);
	expect_pong(7, "IPI after the restart");
	EXPECT(ap_pings == 5, "AP took %lu pings, expected 5 (one lost)",
	       ap_pings);
	/* The AP is in the cluster model now: cluster 3, member bit 2. */
	send_ipi(0x31, ICR_LOGICAL | VEC_PING);		/* other member */
	send_ipi(0x24, ICR_LOGICAL | VEC_PING);		/* other cluster */
	send_ipi(0x34, ICR_LOGICAL | VEC_PING);
	expect_pong(8, "cluster logical IPI");
	send_ipi(1, ICR_LOWEST | VEC_PING);
	expect_pong(9, "lowest-priority IPI");
	EXPECT(ap_pings == 7, "AP took %lu pings, expected 7", ap_pings);

	/* Both in x2APIC mode: 32-bit destinations through the ICR MSR. */
	send_ipi(1, VEC_X2ON);
	expect_pong(10, "x2APIC switch of the AP");
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EXTD);
	send_ipi(1, VEC_PING);				/* x2APIC ID 1 */
	expect_pong(11, "x2APIC physical IPI");
	send_ipi(0x10002, ICR_LOGICAL | VEC_PING);	/* cluster 1: nobody */
	send_ipi(0x00002, ICR_LOGICAL | VEC_PING);	/* cluster 0, ID 1 */
	expect_pong(12, "x2APIC logical IPI");
	send_ipi(0, ICR_OTHERS | VEC_PING);
	expect_pong(13, "x2APIC all-excluding-self IPI");
	EXPECT(ap_pings == 10 && bsp_pings == 1,
	       "pings in x2APIC mode: AP %lu, boot vCPU %lu", ap_pings,
	       bsp_pings);
	gprintf("smp: AP started %u times, APIC ID %u, CPUID.1 ID %u, "
		"x2APIC ID %u\n", ap_entries(), ap_apic_id, ap_cpuid_id,
		ap_x2_id);
	return checks_result("smp");
}
