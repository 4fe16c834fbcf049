# The stage-2 core's sources (issue 3), included by the top-level Makefile:
# the generic walker and operations, the hypervisor's table-page provider,
# and each architecture's encoder and flush executor.

CORE_GENERIC := mm/walk.c mm/s2_init.c mm/s2_cache.c mm/s2_flush.c \
	mm/s2_map.c mm/s2_unmap.c mm/s2_protect.c mm/s2_split.c \
	mm/s2_collapse.c mm/s2_lookup.c mm/s2_dump.c mm/audit.c \
	mm/s2_mmio.c mm/roots.c mm/s2_fault.c mm/s2_mirror.c

CORE_SRCS-x86_64 := $(CORE_GENERIC) mm/s2_pages.c \
	arch/x86/ept.c arch/x86/ept_flush.c
CORE_SRCS-arm64 := $(CORE_GENERIC) mm/s2_pages.c \
	arch/arm64/stage2.c arch/arm64/stage2_flush.c

# arm64: the core's read-modify-write atomics (the MMU lock, compare-and-
# exchange installs: docs/mmu.md "Many CPUs") are emitted inline. GCC's
# default outline helpers pick LSE or LL/SC at run time through the C
# library's getauxval(), which a freestanding image does not have.
ifeq ($(ARCH),arm64)
$(BUILD)/obj/mm/%.c.o: CFLAGS += -mno-outline-atomics
endif
