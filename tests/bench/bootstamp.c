// SPDX-License-Identifier: MIT
/*
 * bootstamp: the /init of the Linux boot benchmark (tests/bench/
 * linux_boot.py). Its first instructions read the virtual counter, which on
 * QEMU `-icount shift=0` advances with the instructions the machine has
 * executed since reset (EL2's included; Strata keeps CNTVOFF_EL2 at 0, so a
 * guest's virtual counter is the physical one). It prints
 *   STRATA-BOOTSTAMP cntvct=N cntfrq=F
 * and powers the machine off (reboot(2), LINUX_REBOOT_CMD_POWER_OFF).
 *
 * A static aarch64 Linux executable without a C library: Linux opens
 * /dev/console as descriptors 0-2 of init, and enables EL0 reads of the
 * virtual counter (CNTKCTL_EL1.EL0VCTEN) for its vDSO.
 */
#include <stdint.h>

#define SYS_WRITE	64
#define SYS_REBOOT	142
#define SYS_EXIT	93

static long syscall4(long nr, long a, long b, long c, long d)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;

	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2),
			 "r"(x3) : "memory");
	return x0;
}

static char *put_dec(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n) {
		*p++ = tmp[--n];
	}
	return p;
}

static char *put_str(char *p, const char *s)
{
	while (*s) {
		*p++ = *s++;
	}
	return p;
}

void _start(void)
{
	uint64_t cnt, frq;
	char buf[96], *p = buf;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(cnt));
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frq));
	p = put_str(p, "STRATA-BOOTSTAMP cntvct=");
	p = put_dec(p, cnt);
	p = put_str(p, " cntfrq=");
	p = put_dec(p, frq);
	*p++ = '\n';
	syscall4(SYS_WRITE, 1, (long)buf, p - buf, 0);
	syscall4(SYS_REBOOT, 0xfee1dead, 672274793, 0x4321fedc, 0);
	for (;;) {
		syscall4(SYS_EXIT, 0, 0, 0, 0);
	}
}
