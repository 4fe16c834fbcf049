# arm64 part of the build (included by the top-level Makefile with ARCH=arm64).
# Cross gcc; the stage-2 encoder (arch/arm64/stage2*) belongs to the stage-2
# core's list in mm/core.mk and is left out here.
#
# Strata is linked as a position-independent executable: U-Boot's booti may
# run the Image at another 2 MiB-aligned address than the link address, and
# boot/arm64/head.S applies the R_AARCH64_RELATIVE relocations itself before
# any C code runs. Everything then runs identity mapped at the load address.
#
# -mgeneral-regs-only keeps Strata's own code off the FP/SIMD registers
# (libfdt.a is prebuilt and does use them: head.S enables FP at EL2).
# -mno-outline-atomics: atomics inline (no getauxval() to pick LSE at run
# time; the locks of docs/smp.md are everywhere, not only in mm/).
# -mstrict-align: the early C code runs with the MMU off, where every data
# access is Device memory and an unaligned access faults.

# This file comes before the Makefile's `all` rule: keep `all` the default.
.DEFAULT_GOAL := all

CROSS := aarch64-linux-gnu-
ARCH_CFLAGS := -fpie -mgeneral-regs-only -mstrict-align -mno-outline-atomics \
	-fno-asynchronous-unwind-tables -fno-unwind-tables
ARCH_LDFLAGS := -Wl,-pie -Wl,--no-dynamic-linker -Wl,-z,notext \
	-Wl,-z,max-page-size=0x1000 -Wl,--build-id=none -Wl,--hash-style=sysv \
	-Wl,--no-warn-rwx-segments
ARCH_SRCS := $(wildcard boot/arm64/*.S boot/arm64/*.c) \
	$(filter-out arch/arm64/stage2%,\
		$(wildcard arch/arm64/*.c arch/arm64/*.S)) \
	drivers/pl011.c drivers/uart8250_mmio.c drivers/fdt.c drivers/acpi.c

LIBFDT_DIR := build/deps/arm64/usr
ARCH_LIBS := $(LIBFDT_DIR)/lib/aarch64-linux-gnu/libfdt.a
ARCH_IMAGES := $(BUILD)/strata.bin

# Only the DTB reader and the guest DTB writer see libfdt's headers, with
# Strata's libfdt_env.h.
LIBFDT_CFLAGS := -Iinclude/drivers/libfdt -I$(LIBFDT_DIR)/include
$(BUILD)/obj/drivers/fdt.c.o: CFLAGS += $(LIBFDT_CFLAGS)
# The emulated-MMIO fast path (docs/mmu.md) goes without frame records;
# an EL2 exception dump there still has ELR_EL2 and LR.
$(BUILD)/obj/arch/arm64/exit.c.o: CFLAGS += -fomit-frame-pointer
# mte.c clears allocation tags (DC GVA): the MTE instructions.
$(BUILD)/obj/arch/arm64/mte.c.o: CFLAGS += -march=armv8.5-a+memtag
$(BUILD)/obj/arch/arm64/guest_dtb.c.o: CFLAGS += $(LIBFDT_CFLAGS)

$(ARCH_LIBS):
	$(Q)./tools/install-deps.sh

# The flat Image. Every dynamic relocation must be R_AARCH64_RELATIVE: that
# is the only kind the early code knows how to apply; and none may patch the
# PE .text section, which the EFI stub relocates under the firmware's MMU.
$(BUILD)/strata.bin: $(BUILD)/strata.elf arch/arm64/build.mk
	@echo "  IMAGE   $@"
	$(Q)if $(CROSS)readelf -rW $< | grep -q '^[0-9a-f]' && \
		$(CROSS)readelf -rW $< | grep '^[0-9a-f]' | \
		grep -vq R_AARCH64_RELATIVE; then \
		echo "error: $< has relocations other than RELATIVE" >&2; \
		$(CROSS)readelf -rW $< | grep -v R_AARCH64_RELATIVE >&2; \
		exit 1; fi
	$(Q)lim=$$($(CROSS)nm $< | awk '$$3 == "__pe_data_start" { print $$1 }'); \
	if [ -z "$$lim" ] || $(CROSS)readelf -rW $< | awk -v lim="$$lim" \
		'/R_AARCH64_RELATIVE/ && ($$1 "") < (lim "") { bad = 1 } \
		END { exit !bad }'; then \
		echo "error: $< has relocations below the PE .data section" \
			"(UEFI may map .text read-only; docs/arm64-efi.md)" >&2; \
		exit 1; fi
	$(Q)$(OBJCOPY) -O binary $< $@

QEMU_ARM64 := qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 \
	-cpu max,pauth-impdef=on -m 512M -nographic
CMDLINE ?= loglevel=info

# The demo bundle of `make run`: one VM running the hello test guest
# (tests/guests/arm64/hello.c), which prints what its device tree says and
# powers off. The guests' own Makefile decides what needs rebuilding.
DEMO_DIR := $(BUILD)/demo
GUEST_OUT := build/guests/arm64
.PHONY: FORCE
FORCE:
$(GUEST_OUT)/hello.elf: FORCE
	$(Q)$(MAKE) --no-print-directory -C tests/guests/arm64 \
		$(abspath $(GUEST_OUT))/hello.elf
$(BUILD)/demo.cpio: $(GUEST_OUT)/hello.elf arch/arm64/build.mk
	@echo "  BUNDLE  $@"
	$(Q)rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(Q)cp $< $(DEMO_DIR)/hello.elf
	$(Q)printf '[vm demo]\nkernel = hello.elf\nmemory = 64M\ncmdline = console=ttyAMA0 demo\n' \
		> $(DEMO_DIR)/strata.cfg
	$(Q)cd $(DEMO_DIR) && printf 'strata.cfg\nhello.elf\n' | \
		cpio --quiet -o -H newc > $(abspath $@)

# Boot the Image under QEMU virt at EL2 with the demo guest. Strata powers
# the machine off when the guest has ended (Ctrl-A x quits earlier).
run: $(BUILD)/strata.bin $(BUILD)/demo.cpio
	$(QEMU_ARM64) $(if $(filter 1,$(TEST)),-semihosting) \
		-kernel $< -initrd $(BUILD)/demo.cpio -append '$(CMDLINE)'

# `make debug`: the demo guest under tools/strata run --gdb, which starts the
# emulator's debugger and prints how to attach (README, "Debugging").
# DEBUG_ARGS adds launcher options (--dry-run: show, do not start).
debug: $(BUILD)/strata.bin $(GUEST_OUT)/hello.elf
	$(Q)$(PYTHON) tools/strata run --arch $(ARCH) --gdb --timeout 0 $(DEBUG_ARGS) \
		--strata $(BUILD)/strata.bin \
		--vm 'kernel=$(GUEST_OUT)/hello.elf,name=demo,memory=64M,cmdline=console=ttyAMA0 demo'
