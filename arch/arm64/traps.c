// SPDX-License-Identifier: MIT
/*
 * Unexpected EL2 exceptions: print what the CPU reported and every general
 * register, then stop. Nothing at EL2 takes exceptions on purpose yet, so any
 * exception is a hypervisor bug (or `selftest=fault`), and continuing could
 * only make things worse.
 */
#include <arch/sysreg.h>
#include <arch/traps.h>
#include <core/arch.h>
#include <lib/printk.h>

/* Status for arch_stop() after an unexpected exception. */
#define STOP_EXCEPTION	3

static const char *const vector_group[] = {
	[VEC_CUR_SP0] = "current EL with SP_EL0",
	[VEC_CUR_SPX] = "current EL with SP_EL2",
	[VEC_LOWER_A64] = "lower EL (AArch64)",
	[VEC_LOWER_A32] = "lower EL (AArch32)",
};

static const char *const vector_type[] = {
	"synchronous", "IRQ", "FIQ", "SError",
};

static const char *ec_name(unsigned int ec)
{
	switch (ec) {
	case 0x00: return "unknown reason";
	case 0x01: return "WFI/WFE";
	case 0x07: return "FP/SIMD access";
	case 0x0e: return "illegal execution state";
	case 0x15: return "SVC (AArch64)";
	case 0x16: return "HVC (AArch64)";
	case 0x17: return "SMC (AArch64)";
	case 0x18: return "system register access";
	case 0x19: return "SVE access";
	case 0x20: return "instruction abort from a lower EL";
	case 0x21: return "instruction abort at EL2";
	case 0x22: return "PC alignment fault";
	case 0x24: return "data abort from a lower EL";
	case 0x25: return "data abort at EL2";
	case 0x26: return "SP alignment fault";
	case 0x2f: return "SError";
	case 0x3c: return "BRK";
	default: return "other";
	}
}

static void dump_regs(const struct el2_frame *f)
{
	for (unsigned int i = 0; i < 31; i += 2) {
		if (i == 30) {
			pr_err("  x30 %016llx  sp  %016llx\n",
			       (unsigned long long)f->x[30],
			       (unsigned long long)f->sp);
			break;
		}
		pr_err("  x%-2u %016llx  x%-2u %016llx\n", i,
		       (unsigned long long)f->x[i], i + 1,
		       (unsigned long long)f->x[i + 1]);
	}
}

void el2_unexpected_exception(struct el2_frame *f, unsigned int kind)
{
	static volatile bool in_handler;
	unsigned int ec = (unsigned int)(f->esr >> ESR_EC_SHIFT) & ESR_EC_MASK;

	if (in_handler) {
		/* The report itself faulted: do not recurse. */
		arch_stop(STOP_EXCEPTION);
	}
	in_handler = true;

	pr_err("EL2 exception: %s from the %s\n", vector_type[kind & 3],
	       vector_group[(kind >> 2) & 3]);
	pr_err("  EC 0x%02x (%s)  ESR_EL2 0x%016llx\n", ec, ec_name(ec),
	       (unsigned long long)f->esr);
	pr_err("  FAR_EL2  0x%016llx\n", (unsigned long long)f->far);
	pr_err("  ELR_EL2  0x%016llx\n", (unsigned long long)f->elr);
	pr_err("  SPSR_EL2 0x%016llx\n", (unsigned long long)f->spsr);
	dump_regs(f);
	pr_err("Strata: halted on an unexpected EL2 exception\n");
	arch_stop(STOP_EXCEPTION);
}
