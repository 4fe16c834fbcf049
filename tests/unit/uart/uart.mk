# Host tests of the emulated 16550 (vmm/dev_uart16550.c) on the real device
# bus and guest console (vmm/iobus.c, vmm/vconsole.c). Included by
# tests/unit/unit.mk.

UART_T := tests/unit/uart
UART_SRCS := vmm/dev_uart16550.c vmm/iobus.c vmm/vconsole.c

UNIT_BINS += $(HOST_BUILD)/unit/uart

$(HOST_BUILD)/unit/uart: $(UART_T)/test_uart.c $(UART_SRCS) $(HOST_COMMON) \
		$(wildcard include/*/*.h arch/x86/include/arch/*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/x86/include -o $@ \
		$(UART_T)/test_uart.c $(UART_SRCS) $(HOST_COMMON) \
		$(HOST_LDFLAGS)
