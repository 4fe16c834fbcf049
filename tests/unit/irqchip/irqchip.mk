# Host tests of the x86 8259 pair and IOAPIC (arch/x86/pic.c, ioapic.c)
# linked with the real local APIC (arch/x86/lapic.c) and the device bus
# (vmm/iobus.c), as they are built into the hypervisor. Included by
# tests/unit/unit.mk.

IRQCHIP_T := tests/unit/irqchip
IRQCHIP_SRCS := arch/x86/pic.c arch/x86/ioapic.c arch/x86/lapic.c vmm/iobus.c

UNIT_BINS += $(HOST_BUILD)/unit/irqchip

$(HOST_BUILD)/unit/irqchip: $(IRQCHIP_T)/test_irqchip.c $(IRQCHIP_SRCS) \
		$(HOST_COMMON) $(wildcard include/*/*.h arch/x86/include/arch/*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/x86/include -o $@ \
		$(IRQCHIP_T)/test_irqchip.c $(IRQCHIP_SRCS) $(HOST_COMMON) \
		$(HOST_LDFLAGS)
