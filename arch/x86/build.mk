# x86-64 part of the build (included by the top-level Makefile with
# ARCH=x86_64). Native gcc; the EPT encoder (arch/x86/ept*) belongs to the
# stage-2 core's list in mm/core.mk and is left out here.

CROSS :=
ARCH_CFLAGS := -m64 -mno-red-zone -mgeneral-regs-only \
	-fno-pic -fno-pie -fno-asynchronous-unwind-tables
ARCH_LDFLAGS := -no-pie -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none -Wl,-z,noexecstack
ARCH_SRCS := $(wildcard boot/x86/*.S boot/x86/*.c) \
	$(filter-out arch/x86/ept%,$(wildcard arch/x86/*.c arch/x86/*.S)) \
	drivers/uart16550.c
ARCH_LIBS :=
ARCH_IMAGES := $(BUILD)/strata.iso

# The hypervisor command line baked into the default ISO; `make run
# CMDLINE=...` or `make ARCH=x86_64 CMDLINE=...` changes it.
CMDLINE ?= loglevel=info
BOCHS_CPU ?= corei7_skylake_x

$(BUILD)/strata.iso: $(BUILD)/strata.elf arch/x86/build.mk
	@echo "  ISO     $@"
	$(Q)grub-file --is-x86-multiboot2 $< || \
		{ echo "error: $< is not multiboot2" >&2; exit 1; }
	$(Q)rm -rf $(BUILD)/isodir && mkdir -p $(BUILD)/isodir/boot/grub
	$(Q)cp $< $(BUILD)/isodir/boot/strata.elf
	$(Q)printf 'set timeout=0\nset default=0\nmenuentry "Strata" {\n  multiboot2 /boot/strata.elf %s\n  boot\n}\n' \
		'$(CMDLINE)' > $(BUILD)/isodir/boot/grub/grub.cfg
	$(Q)grub-mkrescue -o $@ $(BUILD)/isodir >$(BUILD)/grub-mkrescue.log 2>&1 || \
		{ cat $(BUILD)/grub-mkrescue.log >&2; exit 1; }

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
	$(Q)grub-mkrescue -o $@ $(RUN_DIR) >$(BUILD)/grub-mkrescue.log 2>&1 || \
		{ cat $(BUILD)/grub-mkrescue.log >&2; exit 1; }

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
