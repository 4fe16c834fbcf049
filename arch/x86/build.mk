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

# Boot the ISO under Bochs with a VMX-capable CPU; COM1 goes to stdout.
# Bochs stops at its debugger prompt first: a continue file answers it.
run: $(BUILD)/strata.iso
	$(Q)printf 'c\nq\n' > $(BUILD)/bochs.cont
	$(Q)printf '%s\n' \
		'megs: 256' \
		'cpu: model=$(BOCHS_CPU), reset_on_triple_fault=0' \
		'romimage: file=/usr/share/bochs/BIOS-bochs-latest' \
		'vgaromimage: file=/usr/share/vgabios/vgabios.bin' \
		'display_library: rfb, options="timeout=0"' \
		'ata0-master: type=cdrom, path=$(BUILD)/strata.iso, status=inserted' \
		'boot: cdrom' \
		'com1: enabled=1, mode=file, dev=/dev/stdout' \
		'port_e9_hack: enabled=1' \
		'magic_break: enabled=1' \
		'clock: sync=none, time0=local' \
		'speaker: enabled=0' \
		'sound: driver=dummy' \
		'log: $(BUILD)/bochs.log' \
		> $(BUILD)/bochsrc
	bochs -f $(BUILD)/bochsrc -q -rc $(BUILD)/bochs.cont </dev/null
