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

/*
 * The devices' time base: the host TSC, never going back. A VM's vCPUs run
 * on several CPUs, whose TSCs may disagree by a little; a device that saw
 * a later count on one CPU must not see time run backwards on another
 * (the RTC would count a day of updates, the PIT a full wrap).
 */
uint64_t x86_pcdev_tsc(void)
{
	static uint64_t latest;
	uint64_t now = rdtsc();
	uint64_t seen = __atomic_load_n(&latest, __ATOMIC_RELAXED);

	do {
		if (now <= seen) {
			return seen;
		}
	} while (!__atomic_compare_exchange_n(&latest, &seen, now, true,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return now;
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
