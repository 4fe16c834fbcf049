# The stage-2 core on many CPUs (issue 11): the real core, roots and root
# caches driven from several host threads under ThreadSanitizer, each thread
# a CPU with its own simulated TLB (tests/unit/ref). One binary per format,
# with that format's REAL encoder and reference translator. Included by
# tests/unit/unit.mk; adds to UNIT_BINS. Default arguments in stress.args.

ifdef CORE_GENERIC
SMP_DIR := tests/unit/smp
SMP_CFLAGS := $(filter-out -fsanitize=% -fno-sanitize-recover=%,\
	$(HOST_CFLAGS)) -fsanitize=thread -pthread -I$(SMP_DIR) \
	-Itests/unit/ref
SMP_LDFLAGS := -fsanitize=thread -pthread
SMP_SRCS := $(SMP_DIR)/test_smp_stress.c $(SMP_DIR)/smp_hooks.c \
	tests/unit/ref/sim_tlb.c tests/unit/ref/ref_ept.c \
	tests/unit/ref/ref_stage2.c $(CORE_GENERIC) $(HOST_COMMON)
SMP_DEPS := $(SMP_SRCS) $(wildcard $(SMP_DIR)/*.h tests/unit/ref/*.h) \
	$(wildcard include/*/*.h mm/*.h) tests/unit/harness.h

UNIT_BINS += $(HOST_BUILD)/unit/smp_stress_ept \
	$(HOST_BUILD)/unit/smp_stress_stage2 \
	$(HOST_BUILD)/unit/smp_stress_ept.args \
	$(HOST_BUILD)/unit/smp_stress_stage2.args

$(HOST_BUILD)/unit/smp_stress_ept: $(SMP_DEPS) arch/x86/ept.c \
		$(wildcard arch/x86/include/arch/ept*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(SMP_CFLAGS) -DSMP_EPT -Iarch/x86/include -o $@ \
		$(SMP_SRCS) arch/x86/ept.c $(SMP_LDFLAGS)

$(HOST_BUILD)/unit/smp_stress_stage2: $(SMP_DEPS) arch/arm64/stage2.c \
		$(wildcard arch/arm64/include/arch/stage2*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(SMP_CFLAGS) -DSMP_STAGE2 -Iarch/arm64/include -o $@ \
		$(SMP_SRCS) arch/arm64/stage2.c $(SMP_LDFLAGS)

$(HOST_BUILD)/unit/smp_stress_%.args: $(SMP_DIR)/stress.args
	@mkdir -p $(@D)
	$(Q)cp $< $@
endif
