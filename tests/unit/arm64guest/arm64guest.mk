# Host tests of the arm64 guest platform (included by tests/unit/unit.mk):
# the generated guest DTB (arch/arm64/guest_dtb.c, checked through the
# host's libfdt), the emulated PL011 (vmm/dev_pl011.c) and the host-DTB
# readers that pick the console and the GICv2 (drivers/fdt.c), and the
# virtual ITS (arch/arm64/vits.c).

A64G_T := tests/unit/arm64guest
A64G_CFLAGS := -Iarch/arm64/include
A64G_DEPS := $(HOST_COMMON) tests/unit/harness.h \
	$(wildcard include/*/*.h include/*.h arch/arm64/include/arch/*.h)

UNIT_BINS += $(HOST_BUILD)/unit/arm64_guest_dtb $(HOST_BUILD)/unit/arm64_pl011 \
	$(HOST_BUILD)/unit/arm64_fdt $(HOST_BUILD)/unit/arm64_vits

# Strata's libfdt_env.h comes first, as in the target build.
$(HOST_BUILD)/unit/arm64_guest_dtb: $(A64G_T)/test_guest_dtb.c \
		arch/arm64/guest_dtb.c $(A64G_DEPS)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(A64G_CFLAGS) -Iinclude/drivers/libfdt \
		-o $@ $(A64G_T)/test_guest_dtb.c arch/arm64/guest_dtb.c \
		$(HOST_COMMON) $(HOST_LDFLAGS) -lfdt

$(HOST_BUILD)/unit/arm64_pl011: $(A64G_T)/test_pl011.c vmm/dev_pl011.c \
		$(A64G_DEPS)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(A64G_CFLAGS) -o $@ \
		$(A64G_T)/test_pl011.c $(HOST_COMMON) $(HOST_LDFLAGS)

# The virtual ITS (arch/arm64/vits.c): commands and hostile input.
$(HOST_BUILD)/unit/arm64_vits: $(A64G_T)/test_vits.c arch/arm64/vits.c \
		$(A64G_DEPS)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(A64G_CFLAGS) -o $@ \
		$(A64G_T)/test_vits.c $(HOST_COMMON) $(HOST_LDFLAGS)

$(HOST_BUILD)/unit/arm64_fdt: $(A64G_T)/test_fdt.c drivers/fdt.c $(A64G_DEPS)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(A64G_CFLAGS) -Iinclude/drivers/libfdt \
		-o $@ $(A64G_T)/test_fdt.c drivers/fdt.c \
		$(HOST_COMMON) $(HOST_LDFLAGS) -lfdt
