# The reference MMU models, the simulated TLB and their tests (issue 3, the
# proof half). Included by tests/unit/unit.mk; adds to UNIT_BINS.

REF_DIR := tests/unit/ref
REF_SRCS := $(REF_DIR)/ref_ept.c $(REF_DIR)/ref_stage2.c $(REF_DIR)/sim_tlb.c
REF_HDRS := $(wildcard $(REF_DIR)/*.h) tests/unit/harness.h

UNIT_BINS += $(HOST_BUILD)/unit/ref_model

$(HOST_BUILD)/unit/ref_model: $(REF_DIR)/test_ref.c $(REF_SRCS) $(REF_HDRS) \
		$(HOST_COMMON)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -I$(REF_DIR) -o $@ $< $(REF_SRCS) \
		$(HOST_COMMON) $(HOST_LDFLAGS)

# The randomized differential tests link the core exactly as the core's own
# tests do (CORE_GENERIC from mm/core.mk, the host hooks) with the REAL
# encoder of one format.
ifdef CORE_GENERIC
DIFF_SRCS := $(REF_DIR)/test_diff.c $(REF_SRCS) tests/unit/core/host_hooks.c \
	$(CORE_GENERIC) $(HOST_COMMON)
DIFF_DEPS := $(DIFF_SRCS) $(REF_HDRS) tests/unit/core/host_hooks.h \
	$(wildcard include/mm/*.h mm/*.h)

UNIT_BINS += $(HOST_BUILD)/unit/diff_ept $(HOST_BUILD)/unit/diff_stage2

$(HOST_BUILD)/unit/diff_ept: $(DIFF_DEPS) arch/x86/ept.c \
		$(wildcard arch/x86/include/arch/ept*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DDIFF_EPT -I$(REF_DIR) \
		-Iarch/x86/include -o $@ $(DIFF_SRCS) arch/x86/ept.c \
		$(HOST_LDFLAGS)

$(HOST_BUILD)/unit/diff_stage2: $(DIFF_DEPS) arch/arm64/stage2.c \
		$(wildcard arch/arm64/include/arch/stage2*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DDIFF_STAGE2 -I$(REF_DIR) \
		-Iarch/arm64/include -o $@ $(DIFF_SRCS) arch/arm64/stage2.c \
		$(HOST_LDFLAGS)
endif

# The randomized differential tests of roots, views and memslots (issue 9):
# the real roots, VMM memslot/view/fault code and core with the REAL
# encoder of one format, on the scripted fake architecture of
# tests/unit/vmm. Default arguments (run time) in diff_roots.args.
ifdef CORE_GENERIC
ROOTS_VMM := vmm/vm.c vmm/fault.c vmm/iobus.c vmm/hypercall.c vmm/run.c \
	vmm/vconsole.c vmm/dev_testdev.c vmm/mmu.c vmm/memslot.c vmm/ramzero.c \
	vmm/virtio_mmio.c vmm/dev_virtio_blk.c vmm/dev_virtio_rng.c \
	vmm/dev_virtio_net.c vmm/dev_virtio_console.c \
	tests/unit/vmm/fake_arch.c
ROOTS_SRCS := $(REF_DIR)/test_diff_roots.c $(REF_SRCS) \
	tests/unit/core/host_hooks.c $(ROOTS_VMM) $(CORE_GENERIC) $(HOST_COMMON)
ROOTS_DEPS := $(ROOTS_SRCS) $(REF_HDRS) tests/unit/core/host_hooks.h \
	tests/unit/vmm/fake_arch.h $(wildcard include/*/*.h mm/*.h)

UNIT_BINS += $(HOST_BUILD)/unit/diff_roots_ept \
	$(HOST_BUILD)/unit/diff_roots_stage2 \
	$(HOST_BUILD)/unit/diff_roots_ept.args \
	$(HOST_BUILD)/unit/diff_roots_stage2.args

$(HOST_BUILD)/unit/diff_roots_ept: $(ROOTS_DEPS) arch/x86/ept.c \
		$(wildcard arch/x86/include/arch/*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DCONFIG_TEST -DDIFF_EPT -I$(REF_DIR) \
		-Iarch/x86/include -o $@ $(ROOTS_SRCS) arch/x86/ept.c \
		$(HOST_LDFLAGS)

$(HOST_BUILD)/unit/diff_roots_stage2: $(ROOTS_DEPS) arch/arm64/stage2.c \
		$(wildcard arch/arm64/include/arch/*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DCONFIG_TEST -DDIFF_STAGE2 \
		-I$(REF_DIR) -Iarch/arm64/include -o $@ $(ROOTS_SRCS) \
		arch/arm64/stage2.c $(HOST_LDFLAGS)

$(HOST_BUILD)/unit/diff_roots_%.args: $(REF_DIR)/diff_roots.args
	@mkdir -p $(@D)
	$(Q)cp $< $@
endif
