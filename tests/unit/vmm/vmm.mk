# Host tests of the generic VMM (vmm/): stage-2 faults, the device bus, the
# hypercalls, the run loop and VM building, linked with the real stage-2 core
# and EPT encoder and the core's host hooks, with a scripted fake architecture
# (tests/unit/vmm/test_vmm.c). Included by tests/unit/unit.mk.

VMM_T := tests/unit/vmm
VMM_SRCS := vmm/vm.c vmm/fault.c vmm/iobus.c vmm/hypercall.c vmm/run.c \
	vmm/vconsole.c vmm/dev_testdev.c

UNIT_BINS += $(HOST_BUILD)/unit/vmm

$(HOST_BUILD)/unit/vmm: $(VMM_T)/test_vmm.c $(VMM_SRCS) $(CORE_GENERIC) \
		arch/x86/ept.c tests/unit/core/host_hooks.c $(HOST_COMMON) \
		$(wildcard include/*/*.h arch/x86/include/arch/*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/x86/include -Itests/unit/core \
		-o $@ $(VMM_T)/test_vmm.c $(VMM_SRCS) $(CORE_GENERIC) \
		arch/x86/ept.c tests/unit/core/host_hooks.c $(HOST_COMMON) \
		$(HOST_LDFLAGS)
