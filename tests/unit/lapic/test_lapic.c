// SPDX-License-Identifier: MIT
/*
 * Host tests of the x86 local APIC (arch/x86/lapic.c): the register file
 * through both front ends, IPI delivery between the vCPUs of one VM, and
 * the timer against a fake guest TSC, one behaviour per test.
 */
#include <string.h>

#include <arch/cpu.h>
#include <arch/irqchip.h>
#include <arch/lapic.h>
#include <vmm/vm.h>
#include "harness.h"

#define BASE		0xfee00000ULL

static struct vm vm;
static uint64_t fake_tsc = 1000000;

/* The guest's TSC as lapic.c sees it (vmx_run.c in the hypervisor). */
uint64_t vmx_guest_tsc(const struct vcpu *v)
{
	(void)v;
	return fake_tsc;
}

/*
 * The IOAPIC is not linked here (tests/unit/irqchip tests the EOI that
 * reaches it); no test here makes a level-triggered vector.
 */
void x86_ioapic_eoi(struct vm *v, unsigned int vector)
{
	(void)v;
	(void)vector;
	CHECK(!"an EOI broadcast for an edge vector");
}

/* Nor the 8259 pair: its INTR is low (no ExtINT message is kept). */
bool x86_pic_intr(const struct vm *v)
{
	(void)v;
	return false;
}

/* vmm/run.c's kick: which vCPUs an interrupt delivery woke. */
static unsigned int kicked[8];

void vcpu_kick(struct vcpu *v)
{
	kicked[v->id]++;
}

static struct vcpu *setup(unsigned int nr)
{
	memset(&vm, 0, sizeof(vm));
	vm.nr_vcpus = nr;
	for (unsigned int i = 0; i < nr; i++) {
		struct vcpu *v = &vm.vcpus[i];

		v->vm = &vm;
		v->id = i;
		v->state = i ? VCPU_OFF : VCPU_RUNNABLE;
		v->arch.mp = i ? X86_MP_WAIT_SIPI : X86_MP_RUNNING;
		lapic_power_on(v);
	}
	return &vm.vcpus[0];
}

static uint32_t rd(struct vcpu *v, uint32_t reg)
{
	uint64_t val = 0;

	lapic_mmio_access(v, BASE + reg, 4, false, &val);
	return (uint32_t)val;
}

static void wr(struct vcpu *v, uint32_t reg, uint32_t val)
{
	uint64_t x = val;

	lapic_mmio_access(v, BASE + reg, 4, true, &x);
}

static void enable(struct vcpu *v)
{
	wr(v, 0xf0, 0x1ff);
}

/* The BSP starts enabled at 0xfee00000 with BSP set; an AP without BSP. */
static void power_on_base(void)
{
	struct vcpu *v = setup(2);
	uint64_t b0, b1;

	CHECK(lapic_msr_read(&vm.vcpus[0], MSR_IA32_APIC_BASE, &b0));
	CHECK(lapic_msr_read(&vm.vcpus[1], MSR_IA32_APIC_BASE, &b1));
	CHECK_EQ(b0, BASE | 0x900);
	CHECK_EQ(b1, BASE | 0x800);
	CHECK_EQ(rd(v, 0x20), 0);
	CHECK_EQ(rd(&vm.vcpus[1], 0x20), 1U << 24);
}

/* A fixed self-IPI lands in IRR; ack moves it to ISR; EOI clears it. */
static void self_ipi_irr_isr_eoi(void)
{
	struct vcpu *v = setup(1);

	enable(v);
	wr(v, 0x300, (1U << 18) | 0x45);
	CHECK_EQ(lapic_pending_vector(v), 0x45);
	CHECK_EQ(rd(v, 0x220), 1U << 5);
	lapic_ack(v, 0x45);
	CHECK_EQ(rd(v, 0x220), 0);
	CHECK_EQ(rd(v, 0x120), 1U << 5);
	CHECK_EQ(rd(v, 0xa0), 0x40);
	wr(v, 0xb0, 0);
	CHECK_EQ(rd(v, 0x120), 0);
	CHECK_EQ(lapic_pending_vector(v), -1);
}

/* Only a class above the PPR is delivered; TPR and ISR both count. */
static void priority_class_rules(void)
{
	struct vcpu *v = setup(1);

	enable(v);
	wr(v, 0x80, 0x50);
	wr(v, 0x300, (1U << 18) | 0x5f);
	CHECK_EQ(lapic_pending_vector(v), -1);
	wr(v, 0x300, (1U << 18) | 0x61);
	CHECK_EQ(lapic_pending_vector(v), 0x61);
	lapic_ack(v, 0x61);
	wr(v, 0x80, 0);
	CHECK_EQ(lapic_pending_vector(v), -1);	/* 0x5f under ISR 0x61 */
	wr(v, 0xb0, 0);
	CHECK_EQ(lapic_pending_vector(v), 0x5f);
	lapic_write_cr8(v, 6);
	CHECK_EQ(rd(v, 0x80), 0x60);
	CHECK_EQ(lapic_read_cr8(v), 6);
	CHECK_EQ(lapic_pending_vector(v), -1);
}

/* A software-disabled APIC drops fixed IPIs and keeps LVTs masked. */
static void software_disable(void)
{
	struct vcpu *v = setup(1);

	wr(v, 0x300, (1U << 18) | 0x45);
	CHECK_EQ(lapic_pending_vector(v), -1);
	wr(v, 0x320, 0x40);
	CHECK_EQ(rd(v, 0x320), 0x10040);
}

/* Vectors 0-15 are illegal: ESR after its write-then-read protocol. */
static void esr_illegal_vector(void)
{
	struct vcpu *v = setup(1);

	enable(v);
	wr(v, 0x300, (1U << 18) | 3);
	CHECK_EQ(rd(v, 0x280), 0);
	wr(v, 0x280, 0);
	CHECK_EQ(rd(v, 0x280), 1U << 5);
	wr(v, 0x280, 0);
	CHECK_EQ(rd(v, 0x280), 0);
	rd(v, 0x2f0);			/* no CMCI LVT: illegal register */
	wr(v, 0x280, 0);
	CHECK_EQ(rd(v, 0x280), 1U << 7);
}

/* INIT sends an AP to wait-for-SIPI; one SIPI starts it at VV00:0000. */
static void init_sipi_start(void)
{
	struct vcpu *v = setup(2), *ap = &vm.vcpus[1];

	ap->state = VCPU_RUNNABLE;
	ap->arch.mp = X86_MP_RUNNING;
	wr(v, 0x310, 1U << 24);
	wr(v, 0x300, (5U << 8) | (1U << 14));
	CHECK_EQ(ap->state, VCPU_OFF);
	CHECK_EQ(ap->arch.mp, X86_MP_WAIT_SIPI);
	wr(v, 0x300, (6U << 8) | 0x9a);
	CHECK_EQ(ap->state, VCPU_RUNNABLE);
	CHECK(ap->arch.reset.pending);
	CHECK_EQ(ap->arch.reset.sel, 0x9a00);
	CHECK_EQ(ap->arch.reset.base, 0x9a000);
	CHECK_EQ(ap->arch.reset.ip, 0);
	ap->arch.reset.pending = false;
	wr(v, 0x300, (6U << 8) | 0x10);	/* running: ignored */
	CHECK(!ap->arch.reset.pending);
}

/* INIT to the BSP restarts it at the reset vector, not wait-for-SIPI. */
static void init_bsp_reset_vector(void)
{
	struct vcpu *v = setup(1);

	wr(v, 0x300, (1U << 18) | (5U << 8) | (1U << 14));
	CHECK_EQ(v->state, VCPU_RUNNABLE);
	CHECK(v->arch.reset.pending);
	CHECK_EQ(v->arch.reset.sel, 0xf000);
	CHECK_EQ(v->arch.reset.ip, 0xfff0);
}

/* Logical flat and cluster destinations, and the shorthands. */
static void logical_and_shorthands(void)
{
	struct vcpu *v = setup(3);

	for (unsigned int i = 0; i < 3; i++) {
		enable(&vm.vcpus[i]);
		wr(&vm.vcpus[i], 0xd0, (1U << i) << 24);
	}
	memset(kicked, 0, sizeof(kicked));
	wr(v, 0x310, 0x06U << 24);
	wr(v, 0x300, (1U << 11) | 0x50);
	CHECK_EQ(lapic_pending_vector(&vm.vcpus[0]), -1);
	CHECK_EQ(lapic_pending_vector(&vm.vcpus[1]), 0x50);
	CHECK_EQ(lapic_pending_vector(&vm.vcpus[2]), 0x50);
	/* Each target is kicked (out of its HLT or guest on another CPU). */
	CHECK_EQ(kicked[0], 0);
	CHECK_EQ(kicked[1], 1);
	CHECK_EQ(kicked[2], 1);
	wr(v, 0x300, (3U << 18) | 0x60);
	CHECK_EQ(lapic_pending_vector(&vm.vcpus[0]), -1);
	CHECK_EQ(lapic_pending_vector(&vm.vcpus[2]), 0x60);
	/* Cluster model on vCPU 2: cluster 1, member bit 0. */
	wr(&vm.vcpus[2], 0xe0, 0x0fffffff);
	wr(&vm.vcpus[2], 0xd0, 0x11000000);
	wr(v, 0x310, 0x11U << 24);
	wr(v, 0x300, (1U << 11) | 0x70);
	CHECK_EQ(lapic_pending_vector(&vm.vcpus[2]), 0x70);
	CHECK_EQ(lapic_pending_vector(&vm.vcpus[1]), 0x60);
}

/* One-shot: counts down, one interrupt at expiry, then reads 0. */
static void timer_one_shot(void)
{
	struct vcpu *v = setup(1);

	enable(v);
	wr(v, 0x3e0, 0x0);		/* divide by 2 */
	wr(v, 0x320, 0x40);
	wr(v, 0x380, 1000);
	CHECK_EQ(lapic_next_expiry(v), fake_tsc + 2000);
	fake_tsc += 600;
	CHECK_EQ(rd(v, 0x390), 700);
	fake_tsc += 1400;
	lapic_update_timer(v);
	CHECK_EQ(lapic_pending_vector(v), 0x40);
	CHECK_EQ(rd(v, 0x390), 0);
	lapic_ack(v, 0x40);
	wr(v, 0xb0, 0);
	fake_tsc += 100000;
	lapic_update_timer(v);
	CHECK_EQ(lapic_pending_vector(v), -1);
}

/* Periodic: reloads keeping its phase; writing ICR 0 stops it. */
static void timer_periodic(void)
{
	struct vcpu *v = setup(1);
	uint64_t t0 = fake_tsc;

	enable(v);
	wr(v, 0x3e0, 0xb);		/* divide by 1 */
	wr(v, 0x320, 0x20040);
	wr(v, 0x380, 100);
	fake_tsc = t0 + 250;
	lapic_update_timer(v);
	CHECK_EQ(lapic_pending_vector(v), 0x40);
	CHECK_EQ(rd(v, 0x390), 50);
	CHECK_EQ(lapic_next_expiry(v), 0);	/* still pending */
	lapic_ack(v, 0x40);
	wr(v, 0xb0, 0);
	CHECK_EQ(lapic_next_expiry(v), t0 + 300);
	wr(v, 0x380, 0);
	CHECK_EQ(rd(v, 0x390), 0);
	CHECK_EQ(lapic_next_expiry(v), 0);
}

/* TSC deadline: fires at the deadline, clears it; ignored outside it. */
static void timer_tsc_deadline(void)
{
	struct vcpu *v = setup(1);
	uint64_t d;

	enable(v);
	CHECK(lapic_msr_write(v, MSR_IA32_TSC_DEADLINE, fake_tsc + 10));
	CHECK(lapic_msr_read(v, MSR_IA32_TSC_DEADLINE, &d));
	CHECK_EQ(d, 0);			/* one-shot mode: ignored */
	wr(v, 0x320, 0x40040);
	CHECK(lapic_msr_write(v, MSR_IA32_TSC_DEADLINE, fake_tsc + 10));
	wr(v, 0x380, 5);		/* ignored in this mode */
	CHECK_EQ(rd(v, 0x380), 0);
	fake_tsc += 10;
	lapic_update_timer(v);
	CHECK_EQ(lapic_pending_vector(v), 0x40);
	CHECK(lapic_msr_read(v, MSR_IA32_TSC_DEADLINE, &d));
	CHECK_EQ(d, 0);
}

/* A mode change of LVT timer disarms the timer. */
static void timer_mode_change_disarms(void)
{
	struct vcpu *v = setup(1);

	enable(v);
	wr(v, 0x320, 0x40);
	wr(v, 0x380, 100);
	wr(v, 0x320, 0x20040);
	CHECK_EQ(rd(v, 0x380), 0);
	CHECK_EQ(lapic_next_expiry(v), 0);
}

/* x2APIC: IDs, LDR, #GP cases, SELF_IPI; the page is not decoded. */
static void x2apic_mode(void)
{
	struct vcpu *v = setup(VM_MAX_CPUS);
	struct vcpu *w = &vm.vcpus[VM_MAX_CPUS - 1];
	uint64_t val, x = 0;

	CHECK(!lapic_msr_read(v, 0x802, &val));
	CHECK(!lapic_msr_write(w, MSR_IA32_APIC_BASE, BASE | 0x400));
	CHECK(lapic_msr_write(w, MSR_IA32_APIC_BASE, BASE | 0xc00));
	CHECK(lapic_msr_read(w, 0x802, &val));
	CHECK_EQ(val, VM_MAX_CPUS - 1);
	CHECK(lapic_msr_read(w, 0x80d, &val));
	CHECK_EQ(val, ((VM_MAX_CPUS - 1) >> 4 << 16) |
		 (1U << ((VM_MAX_CPUS - 1) & 15)));
	CHECK(!lapic_mmio_access(w, BASE + 0x30, 4, false, &x));
	CHECK(!lapic_msr_write(w, 0x80b, 1));
	CHECK(!lapic_msr_read(w, 0x83f, &val));
	CHECK(!lapic_msr_write(w, 0x808, 0x100));
	CHECK(!lapic_msr_write(w, 0x808, 1ULL << 32));
	CHECK(lapic_msr_write(w, 0x80f, 0x1ff));
	CHECK(lapic_msr_write(w, 0x83f, 0x99));
	CHECK_EQ(lapic_pending_vector(w), 0x99);
	CHECK(!lapic_msr_write(w, MSR_IA32_APIC_BASE, BASE | 0x800));
	CHECK(lapic_msr_write(w, MSR_IA32_APIC_BASE, BASE));
	CHECK_EQ(lapic_pending_vector(w), -1);	/* reset by the disable */
	CHECK(!lapic_msr_write(w, MSR_IA32_APIC_BASE, BASE | 0xc00));
	CHECK(!lapic_msr_write(w, MSR_IA32_APIC_BASE, BASE | 0x800 | 1));
}

/* Sub-dword and misaligned xAPIC accesses: loads read bytes, stores drop. */
static void xapic_access_widths(void)
{
	struct vcpu *v = setup(1);
	uint64_t x = 0xff;

	CHECK(lapic_mmio_access(v, BASE + 0x31, 1, false, &x));
	CHECK_EQ(x, 0x00);
	CHECK(lapic_mmio_access(v, BASE + 0x30, 1, false, &x));
	CHECK_EQ(x, 0x14);
	CHECK(lapic_mmio_access(v, BASE + 0x30, 8, false, &x));
	CHECK_EQ(x, rd(v, 0x30));
	x = 0x80;
	CHECK(lapic_mmio_access(v, BASE + 0x80, 1, true, &x));
	CHECK_EQ(rd(v, 0x80), 0);
	CHECK(!lapic_mmio_access(v, BASE + 0x1000, 4, false, &x));
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "lapic");
	RUN_TEST(power_on_base);
	RUN_TEST(self_ipi_irr_isr_eoi);
	RUN_TEST(priority_class_rules);
	RUN_TEST(software_disable);
	RUN_TEST(esr_illegal_vector);
	RUN_TEST(init_sipi_start);
	RUN_TEST(init_bsp_reset_vector);
	RUN_TEST(logical_and_shorthands);
	RUN_TEST(timer_one_shot);
	RUN_TEST(timer_periodic);
	RUN_TEST(timer_tsc_deadline);
	RUN_TEST(timer_mode_change_disarms);
	RUN_TEST(x2apic_mode);
	RUN_TEST(xapic_access_widths);
	return test_done();
}
