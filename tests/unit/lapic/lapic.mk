# Host tests of the x86 local APIC (arch/x86/lapic.c), included by
# tests/unit/unit.mk. lapic.c is linked as it is built into the hypervisor,
# with the guest's TSC faked (tests/unit/lapic/test_lapic.c).

LAPIC_T := tests/unit/lapic

UNIT_BINS += $(HOST_BUILD)/unit/lapic

$(HOST_BUILD)/unit/lapic: $(LAPIC_T)/test_lapic.c arch/x86/lapic.c \
		arch/x86/include/arch/lapic.h arch/x86/include/arch/vcpu.h \
		arch/x86/include/arch/irqchip.h arch/x86/include/arch/guest_acpi.h \
		tests/unit/harness.c tests/unit/harness.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/x86/include -o $@ \
		$(LAPIC_T)/test_lapic.c arch/x86/lapic.c \
		tests/unit/harness.c lib/printk.c lib/strlcpy.c $(HOST_LDFLAGS)
