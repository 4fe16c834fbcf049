# x86-64 part of the build (included by the top-level Makefile with
# ARCH=x86_64). Native gcc; the EPT encoder (arch/x86/ept*) belongs to the
# stage-2 core's list in mm/core.mk and is left out here.

CROSS :=
ARCH_CFLAGS := -m64 -mno-red-zone -mgeneral-regs-only \
	-fno-pic -fno-pie -fno-asynchronous-unwind-tables
ARCH_LDFLAGS := -no-pie -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none -Wl,-z,noexecstack
ARCH_SRCS := $(wildcard boot/x86/*.S boot/x86/*.c) \
	$(filter-out arch/x86/ept%,$(wildcard arch/x86/*.c arch/x86/*.S)) \
	drivers/uart16550.c drivers/acpi.c $(wildcard arch/x86/tdx/*.c)
ARCH_LIBS :=
ARCH_IMAGES := $(BUILD)/strata.iso

# The hypervisor command line baked into the default ISO; `make run
# CMDLINE=...` or `make ARCH=x86_64 CMDLINE=...` changes it.
CMDLINE ?= loglevel=info
BOCHS_CPU ?= corei7_skylake_x

# The ISOs boot by GRUB on BIOS and on UEFI, from a CD and written raw to a
# USB stick: grub-mkrescue builds for every GRUB platform installed, and with
# i386-pc (grub-pc-bin) and x86_64-efi (grub-efi-amd64-bin) it makes a hybrid
# image: El Torito entries for BIOS (eltorito.img) and UEFI (/efi.img, a FAT
# EFI system partition image with GRUB as EFI/BOOT/BOOTX64.EFI), an MBR with
# GRUB's BIOS boot code and a GPT naming the EFI partition. A build without
# one of the platforms fails instead of making a BIOS-only ISO, and the
# image is checked for its UEFI entry. $(1) is the ISO's root directory.
GRUB_PLATFORM_DIRS := /usr/lib/grub/i386-pc /usr/lib/grub/x86_64-efi

define grub_hybrid_iso
	$(Q)for d in $(GRUB_PLATFORM_DIRS); do [ -d $$d ] || { \
		echo "error: $$d is missing; install grub-pc-bin and" \
			"grub-efi-amd64-bin (tools/install-deps.sh)" >&2; \
		exit 1; }; done
	$(Q)grub-mkrescue -o $@ $(1) >$(BUILD)/grub-mkrescue.log 2>&1 || \
		{ cat $(BUILD)/grub-mkrescue.log >&2; exit 1; }
	$(Q)xorriso -indev $@ -report_el_torito plain 2>/dev/null | \
		grep -Eq '^El Torito boot img : +[0-9]+ +UEFI ' || \
		{ echo "error: $@ has no UEFI El Torito entry" >&2; exit 1; }
endef

$(BUILD)/strata.iso: $(BUILD)/strata.elf arch/x86/build.mk
	@echo "  ISO     $@"
	$(Q)grub-file --is-x86-multiboot2 $< || \
		{ echo "error: $< is not multiboot2" >&2; exit 1; }
	$(Q)rm -rf $(BUILD)/isodir && mkdir -p $(BUILD)/isodir/boot/grub
	$(Q)cp $< $(BUILD)/isodir/boot/strata.elf
	$(Q)printf 'set timeout=0\nset default=0\nmenuentry "Strata" {\n  multiboot2 /boot/strata.elf %s\n  boot\n}\n' \
		'$(CMDLINE)' > $(BUILD)/isodir/boot/grub/grub.cfg
	$(call grub_hybrid_iso,$(BUILD)/isodir)

# `make run`: Strata with a demo guest under Bochs with a VMX-capable CPU.
# The hello guest (tests/guests/x86/) and a strata.cfg naming it travel as
# multiboot2 modules on their own ISO. COM1 goes to $(BUILD)/serial.log,
# shown as it grows; Bochs' own output is in $(BUILD)/bochs.out. Bochs
# stops at its debugger prompt first: a continue file answers it.
GUEST_DIR := build/guests/x86
RUN_DIR := $(BUILD)/run
RUN_CFG := [vm hello]\nkernel = hello.elf\nmemory = 16M\n

$(GUEST_DIR)/hello.elf: FORCE
	$(Q)$(MAKE) --no-print-directory -f tests/guests/x86/Makefile \
		$(CURDIR)/$(GUEST_DIR)/hello.elf O=$(CURDIR)/$(GUEST_DIR)

$(BUILD)/run.iso: $(BUILD)/strata.elf $(GUEST_DIR)/hello.elf arch/x86/build.mk
	@echo "  ISO     $@"
	$(Q)rm -rf $(RUN_DIR) && mkdir -p $(RUN_DIR)/boot/grub
	$(Q)cp $(BUILD)/strata.elf $(GUEST_DIR)/hello.elf $(RUN_DIR)/boot/
	$(Q)printf '$(RUN_CFG)' > $(RUN_DIR)/boot/strata.cfg
	$(Q)printf 'set timeout=0\nset default=0\nmenuentry "Strata" {\n  multiboot2 /boot/strata.elf %s\n  module2 /boot/strata.cfg strata.cfg\n  module2 /boot/hello.elf hello.elf\n  boot\n}\n' \
		'$(CMDLINE)' > $(RUN_DIR)/boot/grub/grub.cfg
	$(call grub_hybrid_iso,$(RUN_DIR))

run: $(BUILD)/run.iso
	$(Q)printf 'c\nq\n' > $(BUILD)/bochs.cont
	$(Q)printf '%s\n' \
		'megs: 256' \
		'cpu: model=$(BOCHS_CPU), reset_on_triple_fault=0' \
		'romimage: file=/usr/share/bochs/BIOS-bochs-latest' \
		'vgaromimage: file=/usr/share/vgabios/vgabios.bin' \
		'display_library: rfb, options="timeout=0"' \
		'ata0-master: type=cdrom, path=$(BUILD)/run.iso, status=inserted' \
		'boot: cdrom' \
		'com1: enabled=1, mode=file, dev=$(BUILD)/serial.log' \
		'port_e9_hack: enabled=1' \
		'magic_break: enabled=1' \
		'clock: sync=none, time0=local' \
		'speaker: enabled=0' \
		'sound: driver=dummy' \
		'log: $(BUILD)/bochs.log' \
		> $(BUILD)/bochsrc
	$(Q): > $(BUILD)/serial.log
	@echo "Bochs $(BOCHS_CPU), COM1 below. Strata halts when its VMs have ended"
	@echo "(only test builds, TEST=1, end the emulator): Ctrl-C leaves Bochs."
	$(Q)tail -f $(BUILD)/serial.log & tailpid=$$!; \
		bochs -f $(BUILD)/bochsrc -q -rc $(BUILD)/bochs.cont \
			</dev/null >$(BUILD)/bochs.out 2>&1; st=$$?; \
		sleep 1; kill $$tailpid; exit $$st

.PHONY: FORCE
FORCE:

# `make debug`: the demo guest under tools/strata run --gdb, which starts the
# emulator's debugger and prints how to attach (README, "Debugging").
# DEBUG_ARGS adds launcher options (--dry-run: show, do not start).
debug: $(BUILD)/strata.elf $(GUEST_DIR)/hello.elf
	$(Q)$(PYTHON) tools/strata run --arch $(ARCH) --gdb --timeout 0 $(DEBUG_ARGS) \
		--strata $(BUILD)/strata.elf \
		--vm kernel=$(GUEST_DIR)/hello.elf,name=demo,memory=16M,cmdline=demo
