// SPDX-License-Identifier: MIT
/*
 * The x86-64 identity and the way a run ends. Test builds end the emulator
 * run: QEMU through isa-debug-exit (port 0xf4; QEMU exits with
 * (status << 1) | 1), Bochs through its magic breakpoint (exit 0, with a
 * continue file holding `c` then `q`) for success or the "Shutdown" string
 * on port 0x8900 (exit 1) for failure. Each is harmless where absent.
 */
#include <arch/cpu.h>
#include <arch/x86.h>
#include <core/arch.h>
#include <drivers/uart16550.h>
#include <lib/printk.h>

#define QEMU_DEBUG_EXIT_PORT	0xf4
#define BOCHS_SHUTDOWN_PORT	0x8900

const char arch_name[] = "x86_64";

#ifdef CONFIG_TEST
static void bochs_shutdown(void)
{
	static const char msg[] = "Shutdown";

	for (unsigned int i = 0; i < sizeof(msg) - 1; i++) {
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)msg[i]);
	}
}

void x86_end_run(int status)
{
	uart16550_drain();
	outb(QEMU_DEBUG_EXIT_PORT, (uint8_t)status);
	if (status == 0) {
		__asm__ volatile("xchg %%bx, %%bx" ::: "memory");
	} else {
		bochs_shutdown();
	}
}
#else
void x86_end_run(int status)
{
	(void)status;
}
#endif

void arch_stop(int status)
{
	pr_info("Strata: stopped (status %d)\n", status);
	x86_end_run(status);
	cpu_halt_forever();
}
