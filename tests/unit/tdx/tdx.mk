# Host tests of the emulated secure module (arch/x86/tdx/), included by
# tests/unit/unit.mk. The module's sources are linked as the hypervisor
# builds them; the window of "physical" memory is a host buffer.

TDX_T := tests/unit/tdx
TDX_SRCS := $(wildcard arch/x86/tdx/*.c)

UNIT_BINS += $(HOST_BUILD)/unit/tdx

$(HOST_BUILD)/unit/tdx: $(wildcard $(TDX_T)/*.c $(TDX_T)/*.h) $(TDX_SRCS) \
		$(wildcard arch/x86/tdx/*.h) arch/x86/include/arch/tdx_module.h \
		arch/x86/include/arch/ept.h tests/unit/harness.c \
		tests/unit/harness.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/x86/include -Itests/unit/tdx \
		-o $@ $(wildcard $(TDX_T)/*.c) $(TDX_SRCS) \
		tests/unit/harness.c lib/printk.c lib/strlcpy.c lib/bug.c \
		$(HOST_LDFLAGS)
