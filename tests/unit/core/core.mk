# The stage-2 core's host tests (issue 3), included by tests/unit/unit.mk.
# One binary per format: the same generic core and test sources linked with
# the REAL encoder of that format (arch/x86/ept.c or arch/arm64/stage2.c)
# and that format's reference translator.

include mm/core.mk

CORE_T := tests/unit/core
CORE_TEST_SRCS := $(CORE_T)/test_core.c $(CORE_T)/test_mmio.c \
	$(CORE_T)/core_util.c $(CORE_T)/host_hooks.c
CORE_DEPS := $(CORE_GENERIC) $(CORE_TEST_SRCS) $(wildcard $(CORE_T)/*.h) \
	$(wildcard include/mm/*.h mm/*.h) $(HOST_COMMON) tests/unit/harness.h
CORE_GOLDEN := -DGOLDEN_DIR='"$(CORE_T)/golden"'
# The reference models (tests/unit/ref) judge what hardware does with an
# entry the core wrote (MMIO SPTEs: misconfiguration, translation fault).
CORE_REF := tests/unit/ref

UNIT_BINS += $(HOST_BUILD)/unit/core_ept $(HOST_BUILD)/unit/core_stage2

$(HOST_BUILD)/unit/core_ept: $(CORE_DEPS) arch/x86/ept.c $(CORE_T)/fmt_ept.c \
		$(wildcard arch/x86/include/arch/ept*.h) $(CORE_REF)/ref_ept.c \
		$(CORE_REF)/ref_ept.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/x86/include -I$(CORE_REF) \
		$(CORE_GOLDEN) -o $@ $(CORE_TEST_SRCS) $(CORE_T)/fmt_ept.c \
		$(CORE_GENERIC) arch/x86/ept.c $(CORE_REF)/ref_ept.c \
		$(HOST_COMMON) $(HOST_LDFLAGS)

$(HOST_BUILD)/unit/core_stage2: $(CORE_DEPS) arch/arm64/stage2.c \
		$(CORE_T)/fmt_stage2.c \
		$(wildcard arch/arm64/include/arch/stage2*.h) \
		$(CORE_REF)/ref_stage2.c $(CORE_REF)/ref_stage2.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/arm64/include -I$(CORE_REF) \
		$(CORE_GOLDEN) -o $@ $(CORE_TEST_SRCS) $(CORE_T)/fmt_stage2.c \
		$(CORE_GENERIC) arch/arm64/stage2.c $(CORE_REF)/ref_stage2.c \
		$(HOST_COMMON) $(HOST_LDFLAGS)

# The seeded-bug tests (issue 9): their own binary per format, with the
# reference walker and the simulated TLB of tests/unit/ref as the hardware.
SEEDED_SRCS := $(CORE_T)/test_seeded.c $(CORE_T)/core_util.c \
	$(CORE_T)/host_hooks.c $(CORE_REF)/sim_tlb.c $(CORE_REF)/ref_ept.c \
	$(CORE_REF)/ref_stage2.c
SEEDED_DEPS := $(CORE_DEPS) $(SEEDED_SRCS) $(wildcard $(CORE_REF)/*.h)

UNIT_BINS += $(HOST_BUILD)/unit/core_seeded_ept \
	$(HOST_BUILD)/unit/core_seeded_stage2

$(HOST_BUILD)/unit/core_seeded_ept: $(SEEDED_DEPS) arch/x86/ept.c \
		$(wildcard arch/x86/include/arch/ept*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DSEEDED_EPT -Iarch/x86/include \
		-I$(CORE_REF) -o $@ $(SEEDED_SRCS) $(CORE_GENERIC) \
		arch/x86/ept.c $(HOST_COMMON) $(HOST_LDFLAGS)

$(HOST_BUILD)/unit/core_seeded_stage2: $(SEEDED_DEPS) arch/arm64/stage2.c \
		$(wildcard arch/arm64/include/arch/stage2*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DSEEDED_STAGE2 -Iarch/arm64/include \
		-I$(CORE_REF) -o $@ $(SEEDED_SRCS) $(CORE_GENERIC) \
		arch/arm64/stage2.c $(HOST_COMMON) $(HOST_LDFLAGS)

# s2pt_map_fault() (mm/s2_fault.c): its own binary per format, judged by
# that format's reference translator (test_fault.c has its own main).
FAULT_SRCS := $(CORE_T)/test_fault.c $(CORE_T)/core_util.c \
	$(CORE_T)/host_hooks.c

UNIT_BINS += $(HOST_BUILD)/unit/fault_ept $(HOST_BUILD)/unit/fault_stage2

$(HOST_BUILD)/unit/fault_ept: $(CORE_DEPS) $(FAULT_SRCS) arch/x86/ept.c \
		$(wildcard arch/x86/include/arch/ept*.h) $(CORE_REF)/ref_ept.c \
		$(CORE_REF)/ref_ept.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DFAULT_EPT -Iarch/x86/include \
		-I$(CORE_REF) -o $@ $(FAULT_SRCS) $(CORE_GENERIC) \
		arch/x86/ept.c $(CORE_REF)/ref_ept.c $(HOST_COMMON) \
		$(HOST_LDFLAGS)

$(HOST_BUILD)/unit/fault_stage2: $(CORE_DEPS) $(FAULT_SRCS) arch/arm64/stage2.c \
		$(wildcard arch/arm64/include/arch/stage2*.h) \
		$(CORE_REF)/ref_stage2.c $(CORE_REF)/ref_stage2.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DFAULT_STAGE2 -Iarch/arm64/include \
		-I$(CORE_REF) -o $@ $(FAULT_SRCS) $(CORE_GENERIC) \
		arch/arm64/stage2.c $(CORE_REF)/ref_stage2.c \
		$(HOST_COMMON) $(HOST_LDFLAGS)
