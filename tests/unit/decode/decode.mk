# Host tests of the x86 MMIO instruction decoder (arch/x86/decode.c) and
# executor (arch/x86/mmio_execute.c),
# included by tests/unit/unit.mk. The decoder is linked as it is built into
# the hypervisor.

DECODE_T := tests/unit/decode

UNIT_BINS += $(HOST_BUILD)/unit/decode

$(HOST_BUILD)/unit/decode: $(DECODE_T)/test_decode.c arch/x86/decode.c \
		arch/x86/mmio_execute.c arch/x86/include/arch/x86_decode.h tests/unit/harness.c \
		tests/unit/harness.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/x86/include -o $@ \
		$(DECODE_T)/test_decode.c arch/x86/decode.c \
		arch/x86/mmio_execute.c tests/unit/harness.c lib/printk.c lib/strlcpy.c $(HOST_LDFLAGS)
