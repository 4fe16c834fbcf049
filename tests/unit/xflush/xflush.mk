# The remote-invalidation protocol of x86 (include/lib/xflush.h, used by
# arch/x86/xflush.c): host threads as CPUs with simulated TLBs, under
# ThreadSanitizer. Included by tests/unit/unit.mk; adds to UNIT_BINS.
# Default arguments in xflush.args.

XFLUSH_DIR := tests/unit/xflush
XFLUSH_CFLAGS := $(filter-out -fsanitize=% -fno-sanitize-recover=%,\
	$(HOST_CFLAGS)) -fsanitize=thread -pthread

UNIT_BINS += $(HOST_BUILD)/unit/xflush_stress \
	$(HOST_BUILD)/unit/xflush_stress.args \
	$(HOST_BUILD)/unit/xflush_mutant $(HOST_BUILD)/unit/xflush_mutant.args

$(HOST_BUILD)/unit/xflush_stress: $(XFLUSH_DIR)/test_xflush.c \
		include/lib/xflush.h $(HOST_COMMON) tests/unit/harness.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(XFLUSH_CFLAGS) -o $@ $(XFLUSH_DIR)/test_xflush.c \
		$(HOST_COMMON) -fsanitize=thread -pthread

$(HOST_BUILD)/unit/xflush_stress.args: $(XFLUSH_DIR)/xflush.args
	@mkdir -p $(@D)
	$(Q)cp $< $@

# The same binary with the seeded bug (--break-post): it passes only when
# the stress test catches stale translations.
$(HOST_BUILD)/unit/xflush_mutant: $(HOST_BUILD)/unit/xflush_stress
	$(Q)cp $< $@

$(HOST_BUILD)/unit/xflush_mutant.args: $(XFLUSH_DIR)/xflush_mutant.args
	@mkdir -p $(@D)
	$(Q)cp $< $@
