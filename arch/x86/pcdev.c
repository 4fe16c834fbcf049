// SPDX-License-Identifier: MIT
/*
 * The time-driven lines of the legacy PC devices (docs/x86-pc-devices.md):
 * the PIT's IRQ 0 and the RTC's IRQ 8 are brought up to date before each
 * entry and in a halted vCPU's wait, and the preemption timer is armed for
 * the earliest next edge of either.
 */
#include <arch/cpu.h>
#include <arch/pcdev.h>
#include <vmm/vm.h>

uint64_t x86_pcdev_tsc(void)
{
	return rdtsc();
}

void x86_pcdev_poll(struct vm *vm)
{
	x86_pit_poll(vm);
	x86_rtc_poll(vm);
}

uint64_t x86_pcdev_next_tsc(struct vm *vm)
{
	uint64_t pit = x86_pit_next_tsc(vm), rtc = x86_rtc_next_tsc(vm);

	if (!pit || !rtc) {
		return pit | rtc;
	}
	return pit < rtc ? pit : rtc;
}
