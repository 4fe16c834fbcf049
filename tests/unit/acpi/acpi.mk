# Host tests of the ACPI parser (drivers/acpi.c) on QEMU's own tables,
# included by tests/unit/unit.mk. The test reads the dumps from
# tests/unit/acpi/{pc,q35,virt}/ (see README.md there).

ACPI_T := tests/unit/acpi

UNIT_BINS += $(HOST_BUILD)/unit/acpi

$(HOST_BUILD)/unit/acpi: $(ACPI_T)/test_acpi.c drivers/acpi.c \
		include/drivers/acpi.h tests/unit/harness.c tests/unit/harness.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DACPI_BLOBS='"$(CURDIR)/$(ACPI_T)"' \
		-o $@ $(ACPI_T)/test_acpi.c drivers/acpi.c \
		tests/unit/harness.c lib/printk.c lib/strlcpy.c $(HOST_LDFLAGS)
