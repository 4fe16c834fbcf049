// SPDX-License-Identifier: MIT
/*
 * The run loop: every runnable vCPU of every running VM gets a time slice in
 * turn on this CPU (the architecture ends a slice with its timer: the VMX
 * preemption timer, the EL2 physical timer). A VM ends when its guest powers
 * it off or Strata stops it for an error; the others keep running. A reset
 * the guest asked for is done here, between slices, where no vCPU of the VM
 * is in the middle of an exit. When all have ended the loop reports how
 * many ended well. Between rounds it reads the keys typed on Strata's
 * console for the VM that has the focus (vmm/vconsole.c).
 */
#include <lib/printk.h>
#include <vmm/virtio.h>
#include <vmm/vm.h>
#include <vmm/vmm.h>

struct vmm_tally vmm_tally;

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
}

/* Give each runnable vCPU of @vm one slice; false when it has none left. */
static bool run_vm_once(struct vm *vm)
{
	bool any = false;

	if (vm->reset_reason) {
		vm_reset(vm);
		return vm_running(vm);
	}
	for (unsigned int i = 0; i < vm->nr_vcpus && vm_running(vm); i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->state != VCPU_RUNNABLE) {
			continue;
		}
		any = true;
		v->slices++;
		arch_vcpu_run(v);
	}
	return any;
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
	unsigned int running, total = 0;

	for (unsigned int i = 0; i < nr; i++) {
		total += vms[i].state == VM_RUNNING;
	}
	pr_info("Strata: running %u VM%s\n", total, total == 1 ? "" : "s");
	vm_console_start(vms, nr);
	do {
		running = 0;
		vm_console_poll(vms, nr);
		for (unsigned int i = 0; i < nr; i++) {
			struct vm *vm = &vms[i];

			if (!vm_running(vm)) {
				continue;
			}
			if (!run_vm_once(vm) && vm_running(vm)) {
				/* PSCI CPU_OFF on its last vCPU. */
				end_vmf(vm, VM_ENDED_OK,
					"powered off (all vCPUs off)");
			}
			if (vm_running(vm)) {
				vm_console_round_end(vm);
				vm_virtio_round(vm);
			}
			running += vm_running(vm);
		}
	} while (running);
	return vmm_verdict(vms, nr);
}
