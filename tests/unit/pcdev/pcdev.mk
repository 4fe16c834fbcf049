# Host tests of the legacy PC devices (arch/x86/pit.c, rtc.c, i8042.c) on
# the device bus (vmm/iobus.c), with the TSC, its rate, the IRQ lines and
# the reset request supplied by the test. Included by tests/unit/unit.mk.

PCDEV_T := tests/unit/pcdev
PCDEV_SRCS := arch/x86/pit.c arch/x86/rtc.c arch/x86/i8042.c vmm/iobus.c

UNIT_BINS += $(HOST_BUILD)/unit/pcdev

$(HOST_BUILD)/unit/pcdev: $(PCDEV_T)/test_pcdev.c $(PCDEV_SRCS) \
		$(HOST_COMMON) $(wildcard include/*/*.h arch/x86/include/arch/*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/x86/include -o $@ \
		$(PCDEV_T)/test_pcdev.c $(PCDEV_SRCS) $(HOST_COMMON) \
		$(HOST_LDFLAGS)
