# Host tests of mirror tables (issue 10, the core half): the real core
# (CORE_GENERIC from mm/core.mk, the host hooks) with the real EPT encoder
# keeps the mirror, the real emulated secure module (arch/x86/tdx/, its
# window a host buffer, tests/unit/tdx/tdx_util.c) keeps the S-EPT, and the
# reference EPT translator judges both. Included by tests/unit/unit.mk.

ifdef CORE_GENERIC
MIRROR_T := tests/unit/mirror
MIRROR_SRCS := $(MIRROR_T)/test_mirror.c tests/unit/tdx/tdx_util.c \
	tests/unit/core/host_hooks.c tests/unit/ref/ref_ept.c \
	$(wildcard arch/x86/tdx/*.c) arch/x86/ept.c $(CORE_GENERIC) \
	$(HOST_COMMON)
MIRROR_DEPS := $(MIRROR_SRCS) $(wildcard arch/x86/tdx/*.h) \
	$(wildcard arch/x86/include/arch/*.h) $(wildcard include/mm/*.h mm/*.h) \
	tests/unit/tdx/tdx_util.h tests/unit/core/host_hooks.h \
	tests/unit/ref/ref_ept.h tests/unit/harness.h

UNIT_BINS += $(HOST_BUILD)/unit/mirror

$(HOST_BUILD)/unit/mirror: $(MIRROR_DEPS)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DCONFIG_TEST -Iarch/x86/include \
		-Itests/unit/tdx -Itests/unit/core -Itests/unit/ref -o $@ \
		$(MIRROR_SRCS) $(HOST_LDFLAGS)
endif
