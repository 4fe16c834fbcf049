# Host tests of a vCPU's MTRRs (arch/x86/mtrr.c), included by
# tests/unit/unit.mk. mtrr.c is linked as it is built into the hypervisor.

MTRR_T := tests/unit/mtrr

UNIT_BINS += $(HOST_BUILD)/unit/mtrr

$(HOST_BUILD)/unit/mtrr: $(MTRR_T)/test_mtrr.c arch/x86/mtrr.c \
		arch/x86/include/arch/mtrr.h tests/unit/harness.c \
		tests/unit/harness.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/x86/include -o $@ \
		$(MTRR_T)/test_mtrr.c arch/x86/mtrr.c \
		tests/unit/harness.c lib/printk.c lib/strlcpy.c $(HOST_LDFLAGS)
