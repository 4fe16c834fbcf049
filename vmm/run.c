// SPDX-License-Identifier: MIT
/*
 * The run loop, one per physical CPU (docs/smp.md): each CPU time-slices
 * the vCPUs placed on it (the architecture ends a slice with its timer: the
 * VMX preemption timer, the EL2 physical timer); a vCPU waiting in WFI/HLT
 * is skipped until something for it arrives; a CPU with nothing to run
 * waits for an interrupt. vCPUs are spread over the CPUs Strata uses, or
 * pinned by strata.cfg (`pin`). A VM ends when its guest powers it off or
 * Strata stops it for an error; the others keep running. A reset the guest
 * asked for is done between slices, by whichever CPU sees it first once no
 * vCPU of the VM is on a CPU. The boot CPU also does the housekeeping:
 * the keys typed on Strata's console (vmm/vconsole.c), the console lines
 * and virtio work left over. When all VMs have ended it waits for the other
 * CPUs to leave their loops and reports how many ended well.
 */
#include <core/percpu.h>
#include <lib/bug.h>
#include <lib/printk.h>
#include <vmm/virtio.h>
#include <vmm/vm.h>
#include <vmm/vmm.h>

struct vmm_tally vmm_tally;
struct pcpu pcpus[PCPU_MAX];
unsigned int nr_pcpus = 1;

/* What every CPU's loop runs, set by vmm_run() before it lets them go. */
static struct vm *run_vms;
static unsigned int run_nr;
static bool run_go;

void vcpu_kick(struct vcpu *v)
{
	struct pcpu *c = vcpu_pcpu(v);
	struct pcpu *self = this_pcpu();

	__atomic_store_n(&v->kicked, 1, __ATOMIC_RELEASE);
	if (c != self) {
		arch_kick_cpu(c);
		self->kicks_sent++;
		__atomic_fetch_add(&v->vm->ctr[STRATA_CTR_KICKS], 1,
				   __ATOMIC_RELAXED);
	}
}

void vm_kick_all(struct vm *vm, const struct vcpu *self)
{
	if (!run_go) {
		return;		/* before vmm_run(): nothing placed yet */
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (&vm->vcpus[i] != self) {
			vcpu_kick(&vm->vcpus[i]);
		}
	}
}

bool vcpu_kick_sync(struct vcpu *v)
{
	uint64_t seq = __atomic_load_n(&v->guest_seq, __ATOMIC_ACQUIRE);

	/* Even: it left the guest already and waits for the VM lock. */
	if (!v->in_guest || !(seq & 1)) {
		return false;
	}
	__atomic_store_n(&v->sync_seq, seq, __ATOMIC_RELEASE);
	v->vm->ctr[STRATA_CTR_REMOTE_FLUSHES]++;
	vcpu_kick(v);
	return true;
}

bool vm_vcpu_must_sync(const struct vcpu *v)
{
	const struct vm *vm = v->vm;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *t = &vm->vcpus[i];
		uint64_t want = __atomic_load_n(&t->sync_seq, __ATOMIC_ACQUIRE);

		if (t != v && want &&
		    __atomic_load_n(&t->guest_seq, __ATOMIC_ACQUIRE) == want) {
			return true;
		}
	}
	return false;
}

bool vm_vcpu_wait_synced(struct vcpu *v)
{
	if (!vm_vcpu_must_sync(v)) {
		return false;
	}
	vm_unlock(v->vm);
	while (vm_vcpu_must_sync(v)) {
		rwlock_relax();
	}
	vm_lock(v->vm);
	return true;
}

uint64_t vmm_block_bound(void)
{
	return arch_ticks() + arch_ticks_hz() / 1000;	/* 1 ms */
}

static void end_vm(struct vm *vm, enum vm_state state, const char *fmt,
		   va_list ap)
{
	if (vm->state != VM_RUNNING) {
		return;		/* the first end wins */
	}
	vm_console_flush(vm);
	vm->state = state;
	kvsnprintf(vm->end_reason, sizeof(vm->end_reason), fmt, ap);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].state = VCPU_STOPPED;
	}
	vm_kick_all(vm, NULL);	/* the others leave their slices */
	printk(LOG_OUT, "vm %s: ended: %s\n",
	       vm->name, vm->end_reason);
}

static void end_vmf(struct vm *vm, enum vm_state state, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	end_vm(vm, state, fmt, ap);
	va_end(ap);
}

void vm_power_off(struct vm *vm, long status)
{
	end_vmf(vm, status ? VM_ENDED_ERROR : VM_ENDED_OK,
		"powered off (status %ld)", status);
}

void vm_fail(struct vm *vm, const char *fmt, ...)
{
	char reason[80];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	end_vmf(vm, VM_ENDED_ERROR, "stopped: %s", reason);
}

void vm_request_reset(struct vm *vm, const char *why)
{
	if (!vm_running(vm) || vm->reset_reason) {
		return;		/* the first request wins */
	}
	if (vm->cfg->reset_stops) {
		end_vmf(vm, VM_ENDED_OK, "reset requested (%s); on_reset = stop",
			why);
		return;
	}
	vm->reset_reason = why;
	/* No vCPU runs again until vm_reset() made them anew. */
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].state = VCPU_STOPPED;
	}
	vm_kick_all(vm, NULL);
}

/*
 * Under the VM lock: a pending reset is done once no vCPU of the VM is on a
 * CPU (they were stopped and kicked by vm_request_reset()).
 */
static void try_reset(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].on_cpu) {
			return;
		}
	}
	vm_reset(vm);
}

/*
 * Under the VM lock: whether @v may run now. A blocked vCPU runs again
 * when kicked or when its wake-up time passed; *@until gets the earliest
 * time a blocked one wants to run.
 */
static bool may_run(struct vcpu *v, uint64_t now, uint64_t *until)
{
	if (!vm_running(v->vm) || v->state != VCPU_RUNNABLE) {
		return false;
	}
	if (v->blocked) {
		if (!__atomic_exchange_n(&v->kicked, 0, __ATOMIC_ACQUIRE) &&
		    now < v->wake_at) {
			*until = MIN(*until, v->wake_at);
			return false;
		}
		v->blocked = false;
	}
	__atomic_store_n(&v->kicked, 0, __ATOMIC_RELAXED);
	return true;
}

/* One slice of @v on this CPU, under its VM lock. */
static void run_slice(struct pcpu *self, struct vcpu *v)
{
	if (!v->slices) {
		/* The evidence the SMP tests read (docs/smp.md). */
		pr_info("vm %s: vCPU %u runs on CPU %u\n", v->vm->name, v->id,
			self->id);
	}
	v->slices++;
	v->on_cpu = true;
	arch_vcpu_run(v);
	v->on_cpu = false;
}

/*
 * Take @vm's lock unless another CPU keeps it for long (a long exit there:
 * zeroing a large block on first touch). The loops below then skip that VM
 * for a round instead of waiting, so that one VM's long exit never holds up
 * other VMs' vCPUs on this CPU (docs/smp.md).
 */
#define TRY_LOCK_SPINS	2000

static bool try_lock_vm(struct vm *vm)
{
	for (unsigned int i = 0; i < TRY_LOCK_SPINS; i++) {
		if (spin_trylock(&vm->lock)) {
			return true;
		}
		if (i == 0) {
			/* A wait too (STRATA_CTR_LOCK_WAITS), got or not. */
			__atomic_fetch_add(&vm->lock.waits, 1,
					   __ATOMIC_RELAXED);
		}
		rwlock_relax();
	}
	return false;
}

/*
 * The boot CPU's share of the work between its slices: the console's keys
 * (with every VM locked, in index order: the only place a CPU holds more
 * than one VM lock; skipped for a round when one is busy), then each VM's
 * console line, leftover virtio work and the end of a VM whose vCPUs are
 * all off.
 */
static unsigned int housekeeping(struct vm *vms, unsigned int nr)
{
	unsigned int running = 0, locked = 0;

	while (locked < nr && try_lock_vm(&vms[locked])) {
		locked++;
	}
	if (locked == nr) {
		vm_console_poll(vms, nr);
	}
	while (locked) {
		vm_unlock(&vms[--locked]);
	}
	for (unsigned int i = 0; i < nr; i++) {
		struct vm *vm = &vms[i];
		bool any = false;

		if (!vm_running(vm)) {
			continue;
		}
		if (!try_lock_vm(vm)) {
			running++;	/* busy: it runs; next round then */
			continue;
		}
		for (unsigned int k = 0; k < vm->nr_vcpus; k++) {
			any |= vm->vcpus[k].state == VCPU_RUNNABLE;
		}
		if (vm_running(vm) && !any && !vm->reset_reason) {
			/* PSCI CPU_OFF on its last vCPU. */
			end_vmf(vm, VM_ENDED_OK, "powered off (all vCPUs off)");
		}
		if (vm_running(vm)) {
			vm_console_round_end(vm);
			vm_virtio_round(vm);
		}
		running += vm_running(vm);
		vm_unlock(vm);
	}
	return running;
}

/*
 * One CPU's loop: a slice for each runnable vCPU placed here, in turn,
 * until no VM with a vCPU here is running (the boot CPU: until no VM at
 * all is). With nothing to run the CPU waits for an interrupt: a kick, its
 * timer for the earliest blocked vCPU, or 1 ms (the bound of a wait, and
 * how often the boot CPU looks at the console keys).
 */
static void cpu_loop(struct pcpu *self)
{
	for (;;) {
		bool ran = false, any = false;
		uint64_t now = arch_ticks();
		uint64_t until = now + arch_ticks_hz() / 1000;

		if (self->id == 0) {
			any = housekeeping(run_vms, run_nr) > 0;
		}
		for (unsigned int i = 0; i < self->nr_vcpus; i++) {
			struct vcpu *v = self->vcpus[i];
			struct vm *vm = v->vm;

			if (!vm_running(vm)) {
				continue;
			}
			any = true;
			if (!try_lock_vm(vm)) {
				ran = true;	/* busy, not idle: come back */
				continue;
			}
			if (vm->reset_reason) {
				try_reset(vm);
			} else if (may_run(v, now, &until)) {
				run_slice(self, v);
				ran = true;
			}
			vm_unlock(vm);
		}
		if (!any) {
			break;
		}
		if (!ran) {
			self->idles++;
			arch_cpu_idle(until);
		}
	}
	__atomic_store_n(&self->loop_done, true, __ATOMIC_RELEASE);
}

/* A started CPU reports in (arch_start_cpus()). */
void vmm_secondary_ready(struct pcpu *self)
{
	__atomic_store_n(&self->started, true, __ATOMIC_RELEASE);
}

/*
 * A started CPU waits here for vmm_run(); when it has one it runs its loop,
 * then waits for good (a CPU `cpus=` leaves out never gets one).
 */
void vmm_secondary_wait(struct pcpu *self)
{
	while (!__atomic_load_n(&run_go, __ATOMIC_ACQUIRE)) {
		arch_cpu_idle(arch_ticks() + arch_ticks_hz() / 100);
	}
	if (self->id < nr_pcpus) {
		cpu_loop(self);
	}
}

/*
 * Place every vCPU of every running VM on a CPU: `pin` from strata.cfg,
 * else the next CPU round robin over all VMs' vCPUs (vCPU i of a VM lands
 * on a different CPU from vCPU i - 1 while there are CPUs to spare). A pin
 * naming a CPU Strata does not use stops that VM before it runs.
 */
static void place_vcpus(struct vm *vms, unsigned int nr)
{
	unsigned int next = 0;

	for (unsigned int i = 0; i < nr; i++) {
		struct vm *vm = &vms[i];
		const struct vm_config *cfg = vm->cfg;

		if (!vm_running(vm)) {
			continue;
		}
		for (unsigned int k = 0; k < vm->nr_vcpus; k++) {
			unsigned int cpu = cfg->nr_pin > 1 ? cfg->pin[k] :
					   cfg->nr_pin ? cfg->pin[0] : next;

			/* Secure VMs run on the boot CPU (docs/smp.md). */
			if (cfg->secure && !cfg->nr_pin) {
				cpu = 0;
			}
			if (cfg->secure && cpu) {
				end_vmf(vm, VM_ENDED_ERROR,
					"stopped: a secure VM runs on CPU 0 only, but pin puts vCPU %u on CPU %u",
					k, cpu);
				break;
			}

			if (cpu >= nr_pcpus) {
				end_vmf(vm, VM_ENDED_ERROR,
					"stopped: pin puts vCPU %u on CPU %u, but Strata uses CPUs 0-%u",
					k, cpu, nr_pcpus - 1);
				break;
			}
			if (!cfg->nr_pin && !cfg->secure) {
				next = (next + 1) % nr_pcpus;
			}
			vm->vcpu_cpu[k] = (uint8_t)cpu;
		}
		if (!vm_running(vm)) {
			continue;
		}
		for (unsigned int k = 0; k < vm->nr_vcpus; k++) {
			struct pcpu *c = &pcpus[vm->vcpu_cpu[k]];

			if (WARN_ON_ONCE(c->nr_vcpus == PCPU_MAX_VCPUS)) {
				end_vmf(vm, VM_ENDED_ERROR, "stopped: too many vCPUs on CPU %u",
					c->id);
				break;
			}
			c->vcpus[c->nr_vcpus++] = &vm->vcpus[k];
		}
		if (vm->nr_vcpus > 1 || cfg->nr_pin) {
			char buf[64];
			int n = 0;

			for (unsigned int k = 0; k < vm->nr_vcpus; k++) {
				n += ksnprintf(buf + n, sizeof(buf) - n, "%s%u",
					       k ? "," : "", vm->vcpu_cpu[k]);
			}
			pr_info("vm %s: vCPUs on CPUs %s%s\n", vm->name, buf,
				cfg->nr_pin ? " (pinned)" : "");
		}
	}
}

int vmm_verdict(const struct vm *vms, unsigned int nr)
{
	unsigned int total, ok = 0, never = vmm_tally.refused;
	unsigned int errors = vmm_tally.errors;
	char never_ran[24] = "", errs[32] = "";

	for (unsigned int i = 0; i < nr; i++) {
		ok += vms[i].state == VM_ENDED_OK;
		never += vms[i].state != VM_ENDED_OK &&
			 vms[i].state != VM_ENDED_ERROR;
	}
	total = nr + vmm_tally.refused;
	if (never) {
		ksnprintf(never_ran, sizeof(never_ran), " (%u never ran)",
			  never);
	}
	if (errors) {
		ksnprintf(errs, sizeof(errs), "; %u configuration error%s",
			  errors, errors == 1 ? "" : "s");
	}
	printk(LOG_OUT, "Strata: all %u VMs ended: %u ok, %u failed%s%s\n",
	       total, ok, total - ok, never_ran, errs);
	return total && ok == total && !errors ? 0 : 1;
}

int vmm_run(struct vm *vms, unsigned int nr)
{
	unsigned int total = 0;

	for (unsigned int i = 0; i < nr; i++) {
		total += vms[i].state == VM_RUNNING;
	}
	pr_info("Strata: running %u VM%s\n", total, total == 1 ? "" : "s");
	pr_info("Strata: scheduling on %u physical CPU%s\n", nr_pcpus,
		nr_pcpus == 1 ? "" : "s");
	place_vcpus(vms, nr);
	vm_console_start(vms, nr);
	run_vms = vms;
	run_nr = nr;
	__atomic_store_n(&run_go, true, __ATOMIC_RELEASE);
	for (unsigned int i = 1; i < nr_pcpus; i++) {
		arch_kick_cpu(&pcpus[i]);	/* out of their wait */
	}
	cpu_loop(&pcpus[0]);
	/*
	 * Teardown and the verdict only once no CPU runs a vCPU: every CPU
	 * Strata uses enters its loop once it sees run_go, however late, and
	 * says when it left it for good (not whether it is in it now, which
	 * a CPU that has not got there yet would deny).
	 */
	for (unsigned int i = 1; i < nr_pcpus; i++) {
		while (!__atomic_load_n(&pcpus[i].loop_done, __ATOMIC_ACQUIRE)) {
			arch_cpu_idle(arch_ticks() + arch_ticks_hz() / 1000);
		}
	}
	for (unsigned int i = 0; i < nr_pcpus && nr_pcpus > 1; i++) {
		pr_info("Strata: CPU %u: %llu kicks sent, %llu taken, %llu idle waits\n",
			i, (unsigned long long)pcpus[i].kicks_sent,
			(unsigned long long)pcpus[i].kicks_taken,
			(unsigned long long)pcpus[i].idles);
	}
	return vmm_verdict(vms, nr);
}
