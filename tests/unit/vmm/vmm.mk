# Host tests of the generic VMM (vmm/): stage-2 faults, the device bus, the
# hypercalls, the run loop and VM building, linked with the real stage-2 core
# and EPT encoder and the core's host hooks, with a scripted fake architecture
# (tests/unit/vmm/test_vmm.c). Included by tests/unit/unit.mk.

VMM_T := tests/unit/vmm
VMM_SRCS := vmm/vm.c vmm/fault.c vmm/iobus.c vmm/hypercall.c vmm/run.c \
	vmm/vconsole.c vmm/dev_testdev.c vmm/mmu.c vmm/memslot.c vmm/ramzero.c \
	vmm/virtio_mmio.c vmm/dev_virtio_blk.c vmm/dev_virtio_rng.c \
	vmm/dev_virtio_net.c vmm/dev_virtio_console.c \
	$(VMM_T)/fake_arch.c

# test_vmm.c: faults, bus, hypercalls, run loop, building; test_roots.c:
# roots, invalidate-all, the root cache, memslots at run time, generations,
# views and the entry audit; test_virtio.c: the virtio-mmio transport and
# devices, with a hostile driver.
UNIT_BINS += $(HOST_BUILD)/unit/vmm $(HOST_BUILD)/unit/roots \
	$(HOST_BUILD)/unit/virtio

$(HOST_BUILD)/unit/vmm: $(VMM_T)/test_vmm.c
$(HOST_BUILD)/unit/roots: $(VMM_T)/test_roots.c
$(HOST_BUILD)/unit/virtio: $(VMM_T)/test_virtio.c

$(HOST_BUILD)/unit/vmm $(HOST_BUILD)/unit/roots $(HOST_BUILD)/unit/virtio: \
		$(VMM_SRCS) \
		$(CORE_GENERIC) arch/x86/ept.c tests/unit/core/host_hooks.c \
		$(HOST_COMMON) $(wildcard include/*/*.h arch/x86/include/arch/*.h \
		$(VMM_T)/*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DCONFIG_TEST -Iarch/x86/include \
		-Itests/unit/core -o $@ $(filter $(VMM_T)/test_%.c,$^) \
		$(VMM_SRCS) $(CORE_GENERIC) arch/x86/ept.c \
		tests/unit/core/host_hooks.c $(HOST_COMMON) $(HOST_LDFLAGS)
