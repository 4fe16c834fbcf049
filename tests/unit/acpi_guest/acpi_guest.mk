# Host tests of the ACPI tables x86 guests get (arch/x86/guest_acpi_tables.c):
# read back with Strata's own parser (drivers/acpi.c) and disassembled by
# iasl (acpica-tools), which must find the DSDT's \_S5 and no checksum or
# table error. Included by tests/unit/unit.mk.

ACPI_GUEST_T := tests/unit/acpi_guest

UNIT_BINS += $(HOST_BUILD)/unit/acpi_guest

$(HOST_BUILD)/unit/acpi_guest: $(ACPI_GUEST_T)/test_acpi_guest.c \
		arch/x86/guest_acpi_tables.c drivers/acpi.c \
		arch/x86/include/arch/guest_acpi.h include/drivers/acpi.h \
		tests/unit/harness.c tests/unit/harness.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Iarch/x86/include \
		-DACPI_GUEST_TMP='"$(CURDIR)/$(HOST_BUILD)/unit/acpi_guest.d"' \
		-o $@ $(ACPI_GUEST_T)/test_acpi_guest.c \
		arch/x86/guest_acpi_tables.c drivers/acpi.c \
		tests/unit/harness.c lib/printk.c lib/strlcpy.c $(HOST_LDFLAGS)
