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
