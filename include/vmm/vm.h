/* SPDX-License-Identifier: MIT */
/*
 * VMs and vCPUs, shared by both architectures.
 *
 * A VM is its memory (memslots backed by host RAM; the second-stage table is
 * built only through the shared core, include/mm/s2pt.h, and filled lazily on
 * faults), its emulated devices (an MMIO bus and, on x86, a port bus), its
 * vCPUs and its console. The architecture supplies the world switch and the
 * exit decoding (arch/<arch>/) through the hooks at the end of this header and
 * calls back into the generic handlers declared here.
 *
 * Each physical CPU time-slices the vCPUs placed on it (vmm/run.c,
 * docs/smp.md); a VM's vCPUs may run on several CPUs at once. A VM ends when
 * its guest powers it off or when Strata stops it for an error (vm_fail());
 * the others keep running.
 *
 * Concurrency (docs/smp.md): everything of a VM but its guests' execution
 * runs under the VM's lock (@lock: exit handling, the entry preparation, its
 * devices, vGIC, console, PSCI, stop and reset); the MMU lock nests inside
 * it. arm64 drops the VM lock only around the guest's own run; x86, whose
 * vCPUs all run on the boot CPU, keeps it held across VM entry.
 */
#ifndef STRATA_VMM_VM_H
#define STRATA_VMM_VM_H

#include <arch/vcpu.h>
#include <core/percpu.h>
#include <lib/spinlock.h>
#include <mm/roots.h>
#include <mm/s2pt.h>
#include <vmm/bundle.h>
#include <vmm/hypercall.h>
#include <vmm/loader.h>

#define VM_MAX_MEMSLOTS		8
#define VM_MAX_DEVICES		16
#define VM_MAX_VIRTIO		4	/* virtio-mmio devices (include/vmm/virtio.h) */
#define VM_CONSOLE_LINE		160
#define VM_CONSOLE_INPUT	256	/* keys waiting for the guest's UART */
#define VM_MAX_PLACED		8
/* Table pages a VM's MMIO SPTEs may take (vmm/fault.c); never given back. */
#define VM_MMIO_TABLE_BUDGET	64

/* Memslot flags (the first ones are STRATA_MEMSLOT_* of the ABI). */
#define MEMSLOT_RO		BIT(0)
#define MEMSLOT_LOG_DIRTY	BIT(1)
#define MEMSLOT_OWNED		BIT(8)	/* backing allocated at run time */

/*
 * A stage-2 view (include/vmm/hypercall.h, STRATA_HC_VIEW_*): permission
 * limits over ranges, applied when a fault maps a page in the view's root.
 * The limits are the truth; the root only caches them, so a view survives
 * invalidate-all-roots.
 */
#define VM_VIEW_RANGES		16
struct vm_view {
	bool used;
	unsigned int nr;
	struct {
		gpa_t gpa;
		uint64_t size;
		unsigned int prot;	/* S2_PROT_RWX bits allowed */
	} r[VM_VIEW_RANGES];
};

/**
 * struct memslot - guest-physical range backed by host memory.
 * @gpa: guest-physical start (4 KiB aligned).
 * @size: bytes (multiple of 4 KiB); 0 for a free slot.
 * @pa: host-physical start of the backing.
 * @flags: MEMSLOT_*.
 * @zeroed: one bit per VM_ZERO_CHUNK of the slot (by offset), set once that
 *	chunk of the backing has been zeroed; NULL when the whole backing
 *	was zeroed at once (vmm/ramzero.c, docs/boot-cost.md).
 * @unzeroed: chunks whose bit is still clear (0: nothing left to zero).
 */
struct memslot {
	gpa_t gpa;
	uint64_t size;
	paddr_t pa;
	unsigned int flags;
	uint64_t *zeroed;
	uint64_t unzeroed;
};

/*
 * Guest RAM is zeroed lazily, VM_ZERO_CHUNK at a time, before a stage-2
 * fault maps any of the chunk or the hypervisor reads or writes it (one
 * bitmap page covers 64 GiB, VM_MAX_MEMORY).
 */
#define VM_ZERO_CHUNK_SHIFT	21
#define VM_ZERO_CHUNK		(1ULL << VM_ZERO_CHUNK_SHIFT)

/* Access kinds of a fault (bit mask). */
#define VM_ACC_R		BIT(0)
#define VM_ACC_W		BIT(1)
#define VM_ACC_X		BIT(2)

struct vcpu;
struct vm;

/* Address spaces of the device bus. */
enum io_space {
	IO_MMIO,
	IO_PIO,		/* x86 I/O ports */
};

struct io_device;
struct virtio_dev;

/*
 * Device callbacks. @off is the offset inside the device, @size 1, 2, 4 or
 * 8. A read fills *@val (zero-extended, the caller sign-extends); a write
 * gets the value truncated to @size bytes. Return 0, or a negative error when
 * the device refuses the access (then it is handled like an unclaimed one).
 */
struct io_device_ops {
	int (*read)(struct vcpu *v, struct io_device *d, uint64_t off,
		    unsigned int size, uint64_t *val);
	int (*write)(struct vcpu *v, struct io_device *d, uint64_t off,
		     unsigned int size, uint64_t val);
};

struct io_device {
	const char *name;
	enum io_space space;
	uint64_t base;
	uint64_t size;
	const struct io_device_ops *ops;
	void *priv;
};

enum vcpu_state {
	VCPU_OFF,		/* not started (arm64: until PSCI CPU_ON) */
	VCPU_RUNNABLE,
	VCPU_STOPPED,		/* powered off (PSCI CPU_OFF) or VM ended */
};

/**
 * struct vcpu - one virtual CPU.
 * @vm: its VM.
 * @id: index in the VM (arm64 MPIDR Aff0, x86 APIC ID).
 * @state: see enum vcpu_state.
 * @slices: time slices it ran.
 * @view: the stage-2 view it runs in (0: the default view).
 * @role: the role computed from its state at its last entry; always equal
 *	to @roots.cur's role (the entry audit checks it).
 * @roots: its current root and up to three previous (include/mm/roots.h);
 *	guest entry uses @roots.cur.
 * @on_cpu: a physical CPU is in a slice of it (set and cleared under the VM
 *	lock; a reset waits until no vCPU of the VM is on a CPU).
 * @in_guest: it runs guest code now, without the VM lock: its current root
 *	is live in a CPU (vm_drop_stale_roots() leaves its cache alone).
 * @guest_seq: odd from the entry into the guest (under the VM lock) until
 *	the exit from it (before the VM lock is taken again); atomic.
 * @sync_seq: nonzero: the @guest_seq of a run in the guest that must end
 *	before any other vCPU of the VM enters the guest again
 *	(vcpu_kick_sync()).
 * @blocked: it waits in WFI/HLT until an interrupt for it, a kick or
 *	@wake_at (arch_ticks()) (vmm/run.c).
 * @kicked: something for it arrived (vcpu_kick()); atomic.
 * @arch: the architecture's register state (arch/<arch>/include/arch/vcpu.h).
 */
struct vcpu {
	struct vm *vm;
	unsigned int id;
	enum vcpu_state state;
	uint64_t slices;
	unsigned int view;
	union s2_role role;
	struct s2_root_cache roots;
	bool on_cpu;
	bool in_guest;
	bool blocked;
	uint32_t kicked;
	uint64_t guest_seq;
	uint64_t sync_seq;
	uint64_t wake_at;
#ifdef CONFIG_TEST
	bool test_corrupt_role;		/* STRATA_HC_TEST_CORRUPT_ROLE */
#endif
	struct arch_vcpu arch;
};

enum vm_state {
	VM_UNUSED,
	VM_RUNNING,
	VM_ENDED_OK,		/* powered off by its guest with status 0 */
	VM_ENDED_ERROR,		/* powered off with an error, or stopped */
};

struct vm {
	struct spinlock lock;		/* see the top of this file */
	/* Physical CPU of each vCPU (pcpus[] index), set by vmm_run(). */
	uint8_t vcpu_cpu[VM_MAX_CPUS];
	const struct vm_config *cfg;
	const char *name;
	unsigned int index;		/* 0-based slot; VMIDs: vm_mmu_init() */
	enum vm_state state;
	char end_reason[96];

	/* Memory: every root of the VM's stage-2 tables (include/mm/roots.h). */
	struct s2_mmu mmu;
	bool mmu_live;
	paddr_t ram_pa;			/* host-physical base of guest RAM */
	gpa_t ram_gpa;			/* guest-physical base of guest RAM */
	uint64_t ram_size;
	unsigned int nr_memslots;
	struct memslot memslots[VM_MAX_MEMSLOTS];
	/*
	 * Memslot generation: bit 0 is set while an update is in progress
	 * (every MMIO SPTE misses then); the generation proper is the rest,
	 * advanced by every update (vmm/memslot.c).
	 */
	uint64_t memslot_gen;
	uint64_t mmio_tables;		/* table pages taken for MMIO SPTEs */
	/*
	 * Largest MMIO SPTE generation: S2_MMIO_GEN_MAX, smaller in test
	 * builds when a guest asks (STRATA_HC_TEST_MMIO_GEN) to reach the wrap.
	 */
	uint64_t mmio_gen_max;
	bool no_mmio_spte;		/* the MMIO value was refused */
	uint64_t mem_limit;		/* bytes all memslots may hold */
	uint64_t mem_used;		/* bytes they hold */
	struct vm_view views[S2_MAX_VIEWS];
	/* Moves when a view is created or destroyed or roots invalidated. */
	uint64_t views_gen;
	struct loaded_image image;
	gpa_t initrd_gpa;		/* 0 when none */
	uint64_t initrd_size;
	unsigned int nr_placed;		/* ranges given out by vm_place() */
	struct {
		gpa_t gpa;
		uint64_t size;
	} placed[VM_MAX_PLACED];

	/* Devices. */
	unsigned int nr_devices;
	struct io_device devices[VM_MAX_DEVICES];
	/* Its virtio-mmio devices, in order, for the guest's DTB. */
	unsigned int nr_virtio;
	struct {
		gpa_t base;
		unsigned int line;
		struct virtio_dev *dev;
	} virtio[VM_MAX_VIRTIO];

	/* vCPUs. */
	unsigned int nr_vcpus;
	struct vcpu vcpus[VM_MAX_CPUS];

	/*
	 * Console (vmm/vconsole.c): guest output is printed a line at a time
	 * as "[name] ...", an unfinished line once the guest went a whole
	 * round of slices without adding to it; @con_fresh says it did add.
	 * Keys for the VM wait in @con_in until its UART (@con_rx) takes them.
	 */
	unsigned int con_len;
	char con_line[VM_CONSOLE_LINE];
	bool con_fresh;
	unsigned int con_in_len;
	uint8_t con_in[VM_CONSOLE_INPUT];
	unsigned int (*con_rx)(struct vm *vm, void *priv, const uint8_t *b,
			       unsigned int n);
	void *con_rx_priv;
	unsigned long con_dropped;

	/* STRATA_CTR_* values kept by the VMM (the core ones live in s2). */
	uint64_t ctr[STRATA_CTR_NR];

	bool arch_live;			/* arch_vm_init() succeeded */
	struct arch_vm arch;

	/* Reset (vm_request_reset()): the bundle it reloads from, the request. */
	const struct bundle *bundle;
	const char *reset_reason;	/* non-NULL while a reset is pending */
	unsigned int resets;		/* resets done */
};

/* ---- Building and ending VMs (vmm/vm.c) --------------------------------- */

/*
 * Allocate the VM's RAM (aligned to 1 GiB when it is that big, else 2 MiB, so
 * that faults can map the largest blocks), register it as a memslot, set up
 * an empty stage-2 table, load the kernel and initrd, then call
 * arch_vm_init() and create the vCPUs (vCPU 0 runnable at the entry point).
 * On error everything taken is given back and the reason printed.
 * Return: 0, -ENOMEM, -ENOEXEC, -ERANGE, or the core's / arch's error.
 */
int vm_build(struct vm *vm, const struct vm_config *cfg,
	     const struct bundle *b, unsigned int index);

/*
 * Exercise the VM's table on this CPU the way a zap and a dirty-log pass do
 * (map, unmap and re-map a 2 MiB block, write-protect a page, checking each
 * translation and printing the invalidation counts). For `selftest=s2`: the
 * VM is torn down afterwards, never run. Returns 0 or a negative error.
 */
int vm_s2_selftest(struct vm *vm);

/* Tear the vCPUs, devices, table (one whole-VMID invalidation) and RAM down. */
void vm_destroy(struct vm *vm);

/*
 * Find a free, @align-aligned guest-physical range of @size bytes inside RAM
 * that overlaps neither the kernel image, nor the initrd, nor a range an
 * earlier vm_place() returned, preferring the top of RAM, and reserve it.
 * Return: its GPA, or 0 when there is none (or VM_MAX_PLACED are taken).
 */
gpa_t vm_place(struct vm *vm, uint64_t size, uint64_t align);
/* The same with the range's end at or below @limit (0: no limit). */
gpa_t vm_place_below(struct vm *vm, uint64_t size, uint64_t align,
		     gpa_t limit);

/*
 * Host pointer to [@gpa, @gpa + @len) when a memslot backs all of it; the
 * range is zeroed first where it never was (vm_ram_prepare()), so the
 * hypervisor never reads, nor lets a guest read, what the pages held before.
 */
void *vm_gpa_to_host(struct vm *vm, gpa_t gpa, uint64_t len);

/*
 * Lazy zeroing of a memslot's backing (vmm/ramzero.c). vm_ram_track() starts
 * it for a fresh slot (no chunk zeroed; without a page for the bitmap it
 * zeroes the whole backing at once); vm_ram_untrack() gives the bitmap back.
 * vm_ram_prepare() zeroes every chunk [@off, @off + @len) of the slot
 * touches that is not zeroed yet: it must run before any of that range is
 * mapped into a root or accessed by the hypervisor.
 */
void vm_ram_track(struct vm *vm, struct memslot *ms);
void vm_ram_untrack(struct memslot *ms);
void vm_ram_prepare(struct vm *vm, struct memslot *ms, uint64_t off,
		    uint64_t len);
/* Whether all of [@off, @off + @len) of @ms is zeroed already. */
bool vm_ram_is_zeroed(const struct memslot *ms, uint64_t off, uint64_t len);

/* The memslot backing @gpa, or NULL. */
const struct memslot *vm_find_memslot(const struct vm *vm, gpa_t gpa);

/*
 * The guest ended the VM itself (PSCI SYSTEM_OFF / STRATA_HC_POWER_OFF):
 * @status 0 is a good end. Every vCPU stops; the run loop reports it.
 */
void vm_power_off(struct vm *vm, long status);

/*
 * Stop the VM for an error of its guest (triple fault, undecodable MMIO
 * that cannot be refused any other way, invalid state): prints
 * "vm NAME: stopped: REASON", every vCPU stops, the others VMs go on.
 */
void vm_fail(struct vm *vm, const char *fmt, ...) __printf(2, 3);

/*
 * The guest asked for a reset (PSCI SYSTEM_RESET; x86: the reset control
 * register at port 0xcf9). With `on_reset = stop` the VM ends well, as a
 * machine told not to reboot powers off; otherwise every vCPU stops now and
 * the run loop restarts the VM (vm_reset()) before it runs again. @why is a
 * string constant naming the request.
 */
void vm_request_reset(struct vm *vm, const char *why);

/*
 * Restart @vm from its configuration, as a machine comes out of reset: views
 * destroyed, run-time memslots deleted (their pages back to the allocator
 * through the memslot path), every root invalidated (a trigger of seed 001;
 * vCPUs get fresh roots at their next entry), RAM cleared, kernel and initrd
 * loaded again, devices, boot data and vCPUs as vm_build() made them. A
 * failure stops the VM with the reason. See docs/mmu.md, "VM reset".
 */
void vm_reset(struct vm *vm);

static inline bool vm_running(const struct vm *vm)
{
	return vm->state == VM_RUNNING;
}

/*
 * An internal bug that breaks only @vm (a broken invariant of its tables or
 * roots): warns loudly ("WARNING: vm NAME: internal bug: ..."), counts it in
 * warn_count and stops that VM; the others keep running. Never for something
 * the guest did: that is vm_fail() or an injected fault.
 */
void vm_bug(struct vm *vm, const char *fmt, ...) __printf(2, 3);

/* ---- Roots (vmm/mmu.c, include/mm/roots.h) ------------------------------- */

/* The entry audit runs before every guest entry unless `audit=off`. */
/* Hidden: read on the emulated-MMIO fast path, directly, not via the GOT. */
extern bool vm_entry_audit_on __attribute__((visibility("hidden")));

/* Set up the VM's MMU (no root yet; VMIDs from its index). */
int vm_mmu_init(struct vm *vm, unsigned int ia_bits, unsigned int flags);
/* Empty every vCPU's root cache, then free every root. */
void vm_mmu_destroy(struct vm *vm);

/*
 * The listed root of the default view (created when there is none); the
 * caller gets no reference (the list holds it). NULL and *@err on failure.
 */
struct s2_root *vm_default_root(struct vm *vm, int *err);

/*
 * Before every guest entry of @v: compute its role from its state, make the
 * root of that role current in its root cache (a new one after
 * invalidate-all-roots) and, unless `audit=off`, check that the role equals
 * the root's, the root is valid and its table passed the audit. A failure
 * stops the VM (message printed): returns false.
 */
bool vm_vcpu_prepare_entry(struct vcpu *v);

/* The table @v enters with (valid after vm_vcpu_prepare_entry()). */
static inline struct s2pt *vcpu_s2(struct vcpu *v)
{
	return &v->roots.cur->pt;
}

/* The generation MMIO SPTEs of @vm are installed with and must match. */
static inline uint64_t vm_mmio_gen(const struct vm *vm)
{
	return (vm->memslot_gen >> 1) & vm->mmio_gen_max;
}

static inline bool vm_memslot_update_in_progress(const struct vm *vm)
{
	return vm->memslot_gen & 1;
}

/* ---- Memslots and views at run time (vmm/memslot.c) --------------------- */

/*
 * The operations behind STRATA_HC_MEMSLOT_* and STRATA_HC_VIEW_* (the ABI
 * and what backs a slot are in include/vmm/hypercall.h). Each returns 0 (or
 * the new id in *@id) or a negative errno: -EINVAL (alignment, flags, id),
 * -ERANGE (outside the IPA space), -EBUSY (overlap, view in use), -ENOSPC
 * (memory limit, no free slot or view), -ENOENT (no such slot or view),
 * -ENOMEM.
 */
int vm_memslot_add(struct vm *vm, gpa_t gpa, uint64_t size,
		   unsigned int flags, unsigned int *id);
int vm_memslot_delete(struct vm *vm, unsigned int id);
int vm_memslot_move(struct vm *vm, unsigned int id, gpa_t gpa);
int vm_memslot_set_flags(struct vm *vm, unsigned int id, unsigned int flags);
/*
 * Take write access to [@gpa, @gpa + @size) away in every root (the
 * default view write-protects, other views forget the range and refault
 * it under their own limits). 0 or the first core error.
 */
int vm_wrprotect_range(struct vm *vm, gpa_t gpa, uint64_t size);
/* Start and finish a memslot update (the generation's in-progress bit). */
void vm_memslot_begin_update(struct vm *vm);
void vm_memslot_end_update(struct vm *vm);

int vm_view_create(struct vm *vm, unsigned int *id);
int vm_view_protect(struct vm *vm, unsigned int id, gpa_t gpa,
		    uint64_t size, unsigned int prot);
int vm_view_switch(struct vcpu *v, unsigned int id);
int vm_view_destroy(struct vm *vm, unsigned int id);
/*
 * The permissions view @id allows on [@gpa, @gpa + @size) when they are the
 * same over the whole range (true and *@prot), false when the range mixes
 * limits (the caller maps something smaller).
 */
bool vm_view_prot(const struct vm *vm, unsigned int id, gpa_t gpa,
		  uint64_t size, unsigned int *prot);

/* Drop invalid roots from every vCPU's cache and arch lists at once. */
void vm_drop_stale_roots(struct vm *vm);
/* Invalidate all roots of @vm (counted); returns how many. */
unsigned int vm_invalidate_roots(struct vm *vm);

/* ---- Guest console (vmm/vconsole.c) ------------------------------------- */

/* One byte of guest console output; printed per line, prefixed "[name] ". */
void vm_console_putc(struct vm *vm, char c);
/* Print what is buffered and end the line (at VM end). */
void vm_console_flush(struct vm *vm);
/*
 * The end of @vm's round of slices in the run loop: an unfinished line
 * (a prompt) the guest added nothing to during a whole round is printed
 * without waiting for its newline. Counted in the guest's own slices, not
 * in wall time.
 */
void vm_console_round_end(struct vm *vm);
/*
 * Make @rx the VM's console input, its UART's receiver: vconsole calls
 * @rx(vm, @priv, bytes, n) with keys for the VM; it returns how many it took
 * (0 when its FIFO is full or its receiver off: the rest waits).
 */
void vm_console_attach_input(struct vm *vm,
			     unsigned int (*rx)(struct vm *vm, void *priv,
						const uint8_t *b,
						unsigned int n),
			     void *priv);
/*
 * Read the keys typed on Strata's console, act on the escape sequences
 * (Ctrl-a, docs/console.md) and pass the rest to the VM that has the focus
 * among @vms; then give every VM's UART what waits for it. Called by the
 * run loop once per round of slices.
 */
void vm_console_poll(struct vm *vms, unsigned int nr);
/* Say which VM has the focus and how to get help (once, at the start). */
void vm_console_start(struct vm *vms, unsigned int nr);

/* ---- Stage-2 faults and MMIO (vmm/fault.c, vmm/iobus.c) ----------------- */

enum vm_fault_result {
	VM_FAULT_FIXED,		/* memory mapped: re-execute the access */
	VM_FAULT_MMIO,		/* emulate the access (vm_io_access()) */
	VM_FAULT_STOPPED,	/* the VM was stopped (message printed) */
};

/*
 * Handle a stage-2 fault (EPT violation, arm64 translation/permission fault)
 * at @gpa for an access of @acc (VM_ACC_*). A GPA a memslot backs is mapped
 * with the largest block that the memslot and the alignment allow (1 GiB,
 * 2 MiB, 4 KiB; smaller when part of the block is still mapped); a write to
 * a write-protected page of a writable memslot makes it writable again. An
 * unbacked GPA gets an MMIO SPTE (so the next access is recognised without a
 * memslot lookup) and VM_FAULT_MMIO; so does an access through an MMIO SPTE
 * of the current memslot generation. The table pages MMIO SPTEs take are
 * limited per VM (VM_MMIO_TABLE_BUDGET); past that, unbacked accesses are
 * still emulated, without an SPTE. Instruction fetches from unbacked
 * addresses stop the VM.
 */
enum vm_fault_result vm_handle_s2_fault(struct vcpu *v, gpa_t gpa,
					unsigned int acc);

/*
 * Strata is about to write [@gpa, @gpa + @len) of guest RAM on the guest's
 * behalf (x86 INS): treat it like the guest's own write would be. Pages that
 * are write-protected in stage 2 are made writable again and counted in
 * STRATA_CTR_WP_FAULTS, as vm_handle_s2_fault() does for a guest write.
 * Return: 0; -EFAULT when a page is not RAM; -EACCES on a read-only memslot;
 * -EINVAL for an empty or wrapping range; or the core's error.
 */
int vm_prepare_host_write(struct vm *vm, gpa_t gpa, uint64_t len);

/*
 * Register a device. Overlapping ranges or a full table: -EBUSY / -ENOSPC.
 * A device keeps its place and range until its VM is destroyed, so that a
 * pointer vm_io_device() returned stays good for the VM's life.
 */
int vm_add_device(struct vm *vm, const struct io_device *d);

/*
 * Perform an emulated access at @addr of space @space: @size 1, 2, 4 or 8;
 * a read fills *@val zero-extended. An access no device claims (or that the
 * device refuses) reads as zero and ignores writes; it is counted
 * (STRATA_CTR_MMIO_UNCLAIMED) and the first few per VM are reported on the
 * console. Return: 0 when a device handled it, -ENODEV when unclaimed.
 */
int vm_io_access(struct vcpu *v, enum io_space space, uint64_t addr,
		 unsigned int size, bool write, uint64_t *val);

/* Whether device @d takes an access of @size bytes at @addr of @space. */
static inline bool io_device_claims(const struct io_device *d,
				    enum io_space space, uint64_t addr,
				    unsigned int size)
{
	return d->space == space && addr >= d->base &&
	       addr - d->base < d->size && d->size - (addr - d->base) >= size;
}

/* The device that would take an access (NULL: none). */
struct io_device *vm_io_device(struct vm *vm, enum io_space space,
			       uint64_t addr, unsigned int size);

/* An access device @d refused: what vm_io_access() does then (iobus.c). */
int vm_io_refused(struct vcpu *v, enum io_space space, uint64_t addr,
		  unsigned int size, bool write, uint64_t *val);

/*
 * vm_io_access() of an access the caller knows device @d takes
 * (io_device_claims() holds; @size is 1, 2, 4 or 8): what vm_io_access()
 * does after its search. For callers that keep a device found by
 * vm_io_device() (a hint, so that a polled register skips the search):
 * a device stays where it is for its VM's life (vm_add_device()). Inline:
 * it is the emulated-MMIO fast path of arch/arm64/exit.c.
 */
static inline int vm_io_device_access(struct vcpu *v, struct io_device *d,
				      enum io_space space, uint64_t addr,
				      unsigned int size, bool write,
				      uint64_t *val)
{
	uint64_t mask = size == 8 ? ~0ULL : BIT(size * 8) - 1;

	if (space == IO_MMIO) {
		v->vm->ctr[STRATA_CTR_MMIO]++;
	}
	if (write) {
		if (!d->ops->write ||
		    d->ops->write(v, d, addr - d->base, size, *val & mask)) {
			return vm_io_refused(v, space, addr, size, write, val);
		}
	} else {
		if (!d->ops->read ||
		    d->ops->read(v, d, addr - d->base, size, val)) {
			return vm_io_refused(v, space, addr, size, write, val);
		}
		*val &= mask;
	}
	return 0;
}

/* ---- Hypercalls (vmm/hypercall.c) --------------------------------------- */

/*
 * A Strata hypercall (include/vmm/hypercall.h) from @v: function @fn,
 * arguments @a[0..2]. Returns the status; *@value gets the value register.
 * STRATA_HC_POWER_OFF ends the VM (check vm_running() afterwards).
 * Every call is counted in STRATA_CTR_HYPERCALLS; unknown IDs (anything that
 * is not a Strata call) also in STRATA_CTR_HC_UNKNOWN and return
 * STRATA_HC_NOT_SUPPORTED. The arch code counts the calls it serves itself
 * (PSCI) in STRATA_CTR_HYPERCALLS.
 */
long vm_hypercall(struct vcpu *v, uint64_t fn, const uint64_t a[3],
		  uint64_t *value);

/* ---- The run loop (vmm/run.c) ------------------------------------------- */

/*
 * Run every VM in @vms that is VM_RUNNING until all have ended, time-slicing
 * their runnable vCPUs round robin on this CPU. Reports each VM's end and a
 * summary. Return: 0 when every VM ended well, 1 otherwise.
 */
int vmm_run(struct vm *vms, unsigned int nr);

/* The VM lock (docs/smp.md). */
static inline void vm_lock(struct vm *vm)
{
	spin_lock(&vm->lock);
}

static inline void vm_unlock(struct vm *vm)
{
	spin_unlock(&vm->lock);
}

static inline struct pcpu *vcpu_pcpu(const struct vcpu *v)
{
	return &pcpus[v->vm->vcpu_cpu[v->id]];
}

/*
 * Something changed for @v (an interrupt pending, a new root, its VM
 * stopping): it must look before it next runs guest code. Marks it and,
 * when it is placed on another physical CPU, interrupts that CPU
 * (counted in STRATA_CTR_KICKS), so that it leaves the guest or its idle
 * wait. Harmless when @v is not running. Called under the VM lock.
 */
void vcpu_kick(struct vcpu *v);
/* vcpu_kick() every vCPU of @vm but @self (NULL: all). */
void vm_kick_all(struct vm *vm, const struct vcpu *self);

/*
 * An acknowledged kick, for a change that a vCPU in the guest on another
 * CPU must not outlive: a root invalidated under it (the TLB entries it
 * caches under the old root's VMID are out of reach of the others' guest
 * TLBIs, which carry their own VMID), or a second listed root created while
 * it runs with the guest's TLB maintenance untrapped (HCR_EL2.TTLB is
 * decided at entry). When @v is in the guest, kicks it and records that no
 * vCPU of the VM may enter the guest until @v has left it
 * (vm_vcpu_wait_synced()); counted in STRATA_CTR_REMOTE_FLUSHES. Returns
 * whether @v was in the guest. Called under the VM lock.
 */
bool vcpu_kick_sync(struct vcpu *v);

/*
 * Whether a vCPU of @v's VM other than @v is still in a run in the guest
 * that vcpu_kick_sync() asked to end. Reads other CPUs' progress; any lock.
 */
bool vm_vcpu_must_sync(const struct vcpu *v);

/*
 * Called under the VM lock just before @v enters the guest: when
 * vm_vcpu_must_sync(), drop the VM lock (the vCPUs waited for need it to
 * handle their exits), wait until they have left the guest, take it again
 * and return true: the caller prepares the entry again, since the VM may
 * have changed meanwhile. False: nothing to wait for, enter.
 */
bool vm_vcpu_wait_synced(struct vcpu *v);

/*
 * Bound of a WFI/HLT wait (arch_ticks() units): a blocked vCPU runs again
 * at the latest then, as the architecture allows a wait to end for no
 * reason (docs/smp.md).
 */
uint64_t vmm_block_bound(void);

/* ---- Architecture hooks (arch/<arch>/) ---------------------------------- */

/*
 * Per-VM architecture set-up after RAM, kernel and initrd are in place and
 * before the vCPUs exist: emulated console and test device on the bus, guest
 * DTB (arm64) or boot page tables / multiboot info (x86). Errors are printed.
 */
int arch_vm_init(struct vm *vm);
void arch_vm_destroy(struct vm *vm);
/*
 * [@pa, @pa + @size) of @vm's RAM was just zeroed through the hypervisor's
 * mapping (vm_ram_prepare()): make the zeroes what the guest sees however
 * it maps the memory (arm64 without FWB: clean to the point of coherency).
 */
void arch_ram_zeroed(struct vm *vm, paddr_t pa, uint64_t size);

/*
 * Initialise @v (vm, id set) so that, when made VCPU_RUNNABLE, it starts as
 * the architecture's boot protocol says (vCPU 0 at vm->image.entry).
 */
int arch_vcpu_init(struct vcpu *v);
void arch_vcpu_destroy(struct vcpu *v);

/*
 * Drive the guest-visible interrupt line @line of @vm to @level (a device's
 * level-sensitive output: arm64, an SPI's INTID at the virtual GIC; x86,
 * an ISA IRQ / GSI at the 8259 pair and the IOAPIC, docs/x86-irq.md).
 * Return: 0; -ENODEV when the architecture has no interrupt controller to
 * deliver it; -EINVAL for a line that does not exist.
 */
int arch_vm_irq_line(struct vm *vm, unsigned int line, bool level);

/*
 * Secure VMs (`secure = on`; x86: arch/x86/secure_vm.c, docs/secure-module.md;
 * other architectures refuse them). arch_secure_vm_build() runs at the end of
 * vm_build() once RAM, image, boot data and vCPUs exist: it builds the VM
 * through its secure module (the initial image added page by page, then
 * finalized). arch_secure_vm_teardown() runs first in vm_destroy() (no vCPU
 * enters again), arch_secure_vm_release() after the roots are gone and
 * before the RAM is freed: it gives the module's pages back and frees the
 * RAM itself except pages the module kept (leaked, never handed out again),
 * setting vm->ram_pa to 0. arch_secure_hypercall() sees every hypercall of
 * a secure VM first: true when it answered (*@status), false to let
 * vm_hypercall() serve it.
 */
int arch_secure_vm_build(struct vm *vm);
void arch_secure_vm_teardown(struct vm *vm);
void arch_secure_vm_release(struct vm *vm);
bool arch_secure_hypercall(struct vcpu *v, uint64_t fn, const uint64_t a[3],
			   uint64_t *value, long *status);
/*
 * May Strata read or write [@gpa, @gpa + @len) of secure VM @vm's RAM for
 * its guest (vm_gpa_to_host())? Before the VM is built, yes; then only
 * where every page is shared.
 */
bool arch_secure_host_access(struct vm *vm, gpa_t gpa, uint64_t len);

/*
 * Drop the root references the architecture holds for @v beyond its root
 * cache (x86: the roots of its VMFUNC EPTP list); before the roots go.
 */
void arch_vcpu_drop_roots(struct vcpu *v);

/*
 * Called with @v's VM lock held. arm64 drops it only while the guest runs
 * (vm_unlock() before entering, vm_lock() after the exit, with
 * @v->in_guest set and @v->guest_seq odd in between), after
 * vm_vcpu_wait_synced(); x86 the same (arch/x86/vmx_run.c enter_guest()).
 * Enter @v and handle its exits until its time slice ends (preemption timer,
 * EL2 timer), it blocks (WFI, HLT) or stops, or its VM ends. Never returns
 * with the VM in an inconsistent state: a guest error ends in vm_fail().
 */
void arch_vcpu_run(struct vcpu *v);

#endif
