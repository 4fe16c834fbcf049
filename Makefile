# Strata build. `make` builds both architectures; `make ARCH=x86_64|arm64`
# one. `make test` installs what is missing, builds everything and runs every
# test layer; `make run` boots Strata under an emulator (QEMU for arm64,
# Bochs for x86_64); `make bench` runs the benchmarks; `make help` lists
# every target.

ARCHES := x86_64 arm64
TEST ?= 0
AUDIT ?= $(TEST)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
PYTHON ?= python3
Q := $(if $(V),,@)

.PHONY: all deps test run debug bench unit fuzz clean help
.DEFAULT_GOAL := all

ifeq ($(ARCH),)

all:
	$(Q)for a in $(ARCHES); do $(MAKE) --no-print-directory ARCH=$$a || exit 1; done

run:
	$(Q)$(MAKE) --no-print-directory ARCH=arm64 run

debug:
	$(Q)$(MAKE) --no-print-directory ARCH=arm64 debug

else # ARCH given

ifeq ($(ARCH),x86_64)
ARCHDIR := x86
else ifeq ($(ARCH),arm64)
ARCHDIR := arm64
else
$(error ARCH must be x86_64 or arm64, not '$(ARCH)')
endif

BUILD := build/$(if $(filter 1,$(TEST)),test/)$(ARCH)

CFLAGS := -std=c11 -ffreestanding -fno-stack-protector -fno-common \
	-fno-strict-aliasing -O2 -g -Wall -Wextra -Werror -MMD -MP \
	-Iinclude -Iarch/$(ARCHDIR)/include -DSTRATA_VERSION='"$(VERSION)"'
ASFLAGS = $(CFLAGS) -D__ASSEMBLY__
ifeq ($(TEST),1)
CFLAGS += -DCONFIG_TEST
endif
ifeq ($(AUDIT),1)
CFLAGS += -DCONFIG_MMU_AUDIT
endif

SRCS := $(wildcard lib/*.c vmm/*.c) mm/palloc.c

# mm/core.mk lists the stage-2 core's sources for each architecture
# (CORE_SRCS-x86_64, CORE_SRCS-arm64): the generic mm/ files and the arch
# encoders and flush executors.
-include mm/core.mk
SRCS += $(CORE_SRCS-$(ARCH))

# arch/<dir>/build.mk sets CROSS, ARCH_CFLAGS, ARCH_LDFLAGS, ARCH_SRCS,
# ARCH_LIBS and the rules for the bootable outputs (ARCH_IMAGES).
include arch/$(ARCHDIR)/build.mk

CC := $(CROSS)gcc
OBJCOPY := $(CROSS)objcopy
CFLAGS += $(ARCH_CFLAGS)
SRCS += $(ARCH_SRCS)
OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(SRCS))

all: $(BUILD)/strata.elf $(ARCH_IMAGES)

$(BUILD)/linker.ld: linker.ld Makefile
	@mkdir -p $(@D)
	$(Q)$(CC) -E -P -x c -DARCH_$(ARCH) -D__ASSEMBLY__ $< -o $@

$(BUILD)/strata.elf: $(OBJS) $(BUILD)/linker.ld $(ARCH_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) -nostdlib -static -T $(BUILD)/linker.ld $(ARCH_LDFLAGS) \
		-o $@ $(OBJS) $(ARCH_LIBS) -lgcc

$(BUILD)/obj/%.c.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	@echo "  AS      $<"
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

-include $(OBJS:.o=.d)

endif # ARCH

# ---- host side: unit tests, fuzzers, benchmarks, the test runner ----------
include tests/unit/unit.mk

deps:
	$(Q)./tools/install-deps.sh

test: deps
	$(Q)$(PYTHON) tests/run.py

bench: deps
	$(Q)$(PYTHON) tests/bench/run.py
	$(Q)for a in $(ARCHES); do \
		$(MAKE) --no-print-directory TEST=1 ARCH=$$a || exit 1; done
	$(Q)$(PYTHON) tests/bench/roots_bench.py

FUZZ_SECONDS ?= 300
fuzz: deps
	$(Q)$(PYTHON) tests/fuzz/run.py --seconds $(FUZZ_SECONDS)

clean:
	rm -rf build/x86_64 build/arm64 build/test build/host build/guests

help:
	@printf '%s\n' \
	  'make [ARCH=x86_64|arm64] [TEST=1]  build Strata (both arches by default; TEST=1: the test build)' \
	  'make run [ARCH=...]                boot Strata with the demo guest (QEMU arm64 by default, Bochs x86_64)' \
	  'make debug [ARCH=...]              the demo guest under the emulator'"'"'s debugger: QEMU'"'"'s gdb stub (the' \
	  '                                   gdb command to attach is printed) or Bochs'"'"'s internal debugger' \
	  'make test                          install what is missing, then every test layer (tests/run.py)' \
	  'make unit                          build the host unit tests (run them with tests/run.py --only unit)' \
	  'make fuzz [FUZZ_SECONDS=N]         the fuzzers' \
	  'make bench                         the benchmarks (instruction counts and ratios)' \
	  'make deps                          install missing packages (tools/install-deps.sh)' \
	  'make clean                         remove the build outputs' \
	  'make help                          this list' \
	  'One boot test by name: python3 tests/boot/NAME.py (README, "Tests")' 
