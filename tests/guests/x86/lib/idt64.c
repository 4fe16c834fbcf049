// SPDX-License-Identifier: MIT
/* The 64-bit test guests' IDT: counted exceptions, hooks and step-over. */
#include "guest.h"

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

extern const uint64_t isr_table[32];
extern const char irq_stubs[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static exc_hook_t hooks[256];
volatile unsigned long exc_count[32];
volatile unsigned long irq_count[256];
volatile unsigned int exc_skip;

void idt_hook(unsigned int vector, exc_hook_t fn)
{
	if (vector < 256) {
		hooks[vector] = fn;
	}
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1,
					   (uint64_t)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void idt_init(void)
{

	for (unsigned int v = 0; v < 256; v++) {
		uint64_t a = v < 32 ? isr_table[v] :
			     (uint64_t)(uintptr_t)irq_stubs + 16 * (v - 32);

		idt[v] = (struct idt_gate){
			.off_lo = (uint16_t)a,
			.sel = GUEST_SEL_CODE,
			.type = 0x8e,		/* present, interrupt gate */
			.off_mid = (uint16_t)(a >> 16),
			.off_hi = (uint32_t)(a >> 32),
		};
	}
	idt_load();
}

void exc_dispatch(struct exc_frame *f);

void exc_dispatch(struct exc_frame *f)
{
	unsigned int v = (unsigned int)f->vector & 255;

	if (v >= 32) {
		/* An interrupt: counted, its hook runs; EOI is the hook's. */
		irq_count[v]++;
		if (hooks[v]) {
			hooks[v](f);
		}
		return;
	}
	exc_count[v & 31]++;
	if (hooks[v & 31]) {
		hooks[v & 31](f);
		return;
	}
	if (exc_skip) {
		f->rip += exc_skip;
		exc_skip = 0;
		return;
	}
	gprintf("FAIL: unexpected exception %u (error 0x%lx) at RIP 0x%lx\n",
		v, (unsigned long)f->error, (unsigned long)f->rip);
	power_off(100 + v);
}
