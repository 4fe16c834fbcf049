# Host unit tests, built with the host compiler under ASan and UBSan.
# Every tests/unit/test_<name>.c becomes build/host/unit/test_<name>, linked
# with the harness and the generic pieces it may use. The stage-2 core's tests
# come from the fragments tests/unit/core/core.mk and tests/unit/ref/ref.mk,
# which add their binaries to UNIT_BINS; tests/unit/smp/smp.mk adds the
# many-CPU stress tests, built with ThreadSanitizer and pthreads instead of
# ASan (the two sanitizers cannot share a binary).

HOST_CC ?= gcc
HOST_BUILD := build/host
HOST_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -O1 -g -Wall -Wextra -Werror \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -Iinclude -Itests/unit -DHOST_TEST \
	-DCONFIG_MMU_AUDIT
HOST_LDFLAGS := -fsanitize=address,undefined
HOST_COMMON := tests/unit/harness.c lib/printk.c lib/strlcpy.c lib/bug.c \
	mm/palloc.c \
	vmm/cmdline.c vmm/config.c vmm/cpio.c vmm/loader.c

UNIT_BINS := $(patsubst tests/unit/%.c,$(HOST_BUILD)/unit/%,\
	$(wildcard tests/unit/test_*.c))

-include $(sort $(wildcard tests/unit/*/*.mk))

unit: $(UNIT_BINS)

$(HOST_BUILD)/unit/test_%: tests/unit/test_%.c $(HOST_COMMON) \
		$(wildcard include/*/*.h include/*.h tests/unit/*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -o $@ $< $(HOST_COMMON) $(HOST_LDFLAGS)

# test_mb2 includes the multiboot2 and EFI memory map parsers of boot/x86.
$(HOST_BUILD)/unit/test_mb2: $(wildcard boot/x86/*.c boot/x86/*.h)
# test_efi_arm64 includes the EFI memory map reader of boot/arm64.
$(HOST_BUILD)/unit/test_efi_arm64: $(wildcard boot/arm64/efi*.c boot/arm64/*.h)
# test_string includes lib/string.c itself (under other names than libc's).
$(HOST_BUILD)/unit/test_string: lib/string.c
