#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Show that the tests catch real core bugs.

Extracts the committed tree (git archive HEAD) into a scratch directory,
injects one known bug at a time (each mutant below names the rule it
breaks), builds tests from the mutated copy, runs them and expects a FAIL
line. The unmutated copy must pass.

Two modes:
  (default)  the differential tests diff_ept / diff_stage2, built with the
             same flags as tests/unit/ref/ref.mk, a short random sequence
             each; a dozen binaries, by hand.
  --core     the fast core tests core_<fmt> and core_seeded_<fmt>
             (tests/unit/core), compiled with the makefiles' own commands;
             each source is compiled once and a mutant recompiles only the
             file it changes. The mutants in CORE_MUST_CATCH must be caught
             there; any other survivor is a SKIP line (the differential
             tests catch it). `make test` runs the two of issue 9:
                 mutants.py --core --worktree --quick

  --roots    the roots differential tests diff_roots_ept / diff_roots_stage2
             against ROOTS_MUTANTS (roots, root caches, memslots, views,
             faults); --steps N per test.

    python3 tests/unit/ref/mutants.py [--core] [--quick] [--ops N]
                                      [--seed N] [--only A,B] [--keep]
                                      [--worktree] [--jobs N]
Prints one line per mutant and format: PASS (caught), FAIL (survived, or
does not build) or SKIP (--core: survived, not required).
"""
import argparse
import concurrent.futures
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# (name, formats, file, old text, new text)
MUTANTS = [
    ("empty_table_no_walk_flush", ("stage2",), "mm/s2_flush.c",
     "\tp->walk = true;\n\tp->pages++;\n\tplan_ipa(p, addr, S2_LEVEL_ANY);",
     "\tp->pages++;\n\tplan_ipa(p, addr, S2_LEVEL_ANY);"),
    ("cmo_before_tlbi", ("stage2",), "mm/s2_flush.c",
     "\tif (op->plan.kind != S2_FLUSH_NONE) {\n"
     "\t\tplan_execute(op->pt, &op->plan);\n\t}\n\tcmo_flush(op);",
     "\tcmo_flush(op);\n\tif (op->plan.kind != S2_FLUSH_NONE) {\n"
     "\t\tplan_execute(op->pt, &op->plan);\n\t}"),
    ("ipa_plan_overflow", ("stage2",), "mm/s2_flush.c",
     "} else if (p->nr_ipa <= S2_FLUSH_MAX_IPA) {",
     "} else if (p->nr_ipa <= S2_FLUSH_MAX_IPA + 1) {"),
    ("ttl_hint_always_level_0", ("stage2",), "mm/s2_flush.c",
     "\tplan_ipa(p, addr, (uint8_t)level);",
     "\tplan_ipa(p, addr, 0);"),
    ("range_short_by_a_page", ("stage2",), "mm/s2_flush.c",
     "\tp->end = MAX(p->end, end);",
     "\tp->end = MAX(p->end, end - PAGE_SIZE);"),
    ("unmap_leaf_not_flushed", ("ept", "stage2"), "mm/s2_unmap.c",
     "\ts2_plan_leaf(ctx->op, ctx->addr, ctx->level);\n\tif (u->cmo",
     "\tif (u->cmo"),
    # The fast detach must write the format's absent entry: on a #VE EPT VM
    # that is SUPPRESS_VE (bit 63), and 0 would deliver #VE to the guest.
    # On stage-2 the absent entry is 0: the same code, nothing to catch.
    ("fast_detach_writes_zero", ("ept",), "mm/s2_unmap.c",
     "\ts2_walk_set(ctx, arch_s2_pte_absent(ctx->pt));\n"
     "\ts2_plan_detached(",
     "\ts2_walk_set(ctx, 0);\n\ts2_plan_detached("),
    # An emptied table's entry is cleared and never planned. On EPT every
    # plan is a single-context INVEPT, so only an operation whose one change
    # is that table shows it: a table of MMIO SPTEs, which the diff tests do
    # not create (so there stage-2 only; the fast core tests catch both).
    ("emptied_table_not_planned", ("stage2",), "mm/s2_unmap.c",
     "\ts2_plan_empty_table(ctx->op, ctx->addr, ctx->level);\n", ""),
    ("detach_not_flushed", ("ept", "stage2"), "mm/s2_unmap.c",
     "\ts2_plan_detached(ctx->op, ctx->addr, ctx->level);\n", ""),
    ("emptied_table_kept", ("ept", "stage2"), "mm/s2_unmap.c",
     "\tif (arch_s2_table_count(ctx->old)) {\n\t\treturn 0;",
     "\tif (1) {\n\t\treturn 0;"),
    ("protect_narrow_not_flushed", ("ept", "stage2"), "mm/s2_protect.c",
     "if (old_prot & ~new_prot & S2_PROT_RWX) {",
     "if (0 && (old_prot & ~new_prot & S2_PROT_RWX)) {"),
    ("no_break_before_make", ("stage2",), "mm/walk.c",
     "\ts2_walk_set(ctx, arch_s2_pte_absent(ctx->pt));\n"
     "\ts2_flush_now(ctx->pt, ctx->addr, ctx->level, table);\n", ""),
    ("stage2_claims_no_bbm", ("stage2",), "arch/arm64/stage2.c",
     ".caps = S2_FMT_TLBI_IPA | S2_FMT_CMO,",
     ".caps = S2_FMT_TLBI_IPA | S2_FMT_CMO | S2_FMT_NO_BBM,"),
    # EPT replaces blocks and tables in one write (S2_FMT_NO_BBM): the
    # replaced entry must still be in the operation's one plan, and a
    # collapsed subtree freed only after it.
    ("no_bbm_replaced_table_not_flushed", ("ept",), "mm/s2_flush.c",
     "\tif (table) {\n\t\ts2_plan_detached(op, addr, level);\n",
     "\tif (table) {\n\t\t(void)addr;\n"),
    ("no_bbm_replaced_block_not_flushed", ("ept",), "mm/s2_flush.c",
     "\t} else {\n\t\ts2_plan_leaf(op, addr, level);\n\t}\n",
     "\t}\n"),
    ("no_bbm_collapse_frees_at_once", ("ept",), "mm/s2_collapse.c",
     "u.prot, ctx->level));\n"
     "\ts2_defer_free(ctx->op, ref, ctx->level - 1, false);",
     "u.prot, ctx->level));\n"
     "\ts2_free_subtree(ctx->op, ref, ctx->level - 1, false);"),
    ("no_bbm_changes_translation", ("ept",), "mm/s2_split.c",
     "\t\tt[i] = arch_s2_make_leaf(pt, pa + i * S2_LEVEL_SIZE(clevel),\n"
     "\t\t\t\t\t prot, clevel);",
     "\t\tt[i] = arch_s2_make_leaf(pt, pa + i * S2_LEVEL_SIZE(clevel),\n"
     "\t\t\t\t\t prot & ~S2_PROT_X, clevel);"),
    ("map_reserves_one_page_short", ("ept", "stage2"), "mm/s2_cache.c",
     "ret = s2_cache_reserve(pt, cache, *pages);",
     "ret = s2_cache_reserve(pt, cache, *pages ? *pages - 1 : 0);"),
    ("enomem_leaks_reserved_pages", ("ept", "stage2"), "mm/s2_cache.c",
     "\t\tif (s2_table_page_alloc(&pa)) {\n\t\t\ts2_cache_release(pt, c);",
     "\t\tif (s2_table_page_alloc(&pa)) {\n\t\t\t(void)pt;"),
    # Encoder mutants: the reference translators must notice.
    ("ept_ve_absent_without_suppress_ve", ("ept",), "arch/x86/ept.c",
     "return ept_suppress_ve(pt) ? EPT_SUPPRESS_VE : 0;",
     "return ept_suppress_ve(pt) ? 0 : 0;"),
    ("ept_device_as_wb", ("ept",), "arch/x86/ept.c",
     "(prot & S2_PROT_DEVICE) ? EPT_MT_UC : EPT_MT_WB;",
     "(prot & S2_PROT_DEVICE) ? EPT_MT_WB : EPT_MT_WB;"),
    # (in the leaf encoder: EPT_PA_MASK itself is pinned by static asserts)
    ("ept_pa_mask_39_bits", ("ept",), "arch/x86/ept.c",
     "s2pte_t pte = (pa & EPT_PA_MASK) | EPT_IGNORE_PAT;",
     "s2pte_t pte = (pa & GENMASK(38, 12)) | EPT_IGNORE_PAT;"),
    ("stage2_no_access_flag", ("stage2",), "arch/arm64/stage2.c",
     "(pa & S2_PA_MASK) | S2_AF | (S2_SH_IS << S2_SH_SHIFT);",
     "(pa & S2_PA_MASK) | (S2_SH_IS << S2_SH_SHIFT);"),
    ("stage2_xn_inverted", ("stage2",), "arch/arm64/stage2.c",
     "\tif (!(prot & S2_PROT_X)) {\n\t\tpte |= S2_XN;",
     "\tif (prot & S2_PROT_X) {\n\t\tpte |= S2_XN;"),
    ("stage2_fwb_normal_encoding_without_fwb", ("stage2",),
     "arch/arm64/include/arch/stage2.h",
     "#define S2_MEMATTR_NORMAL\t0xfULL",
     "#define S2_MEMATTR_NORMAL\t0x6ULL"),
    ("free_before_flush", ("ept", "stage2"), "mm/s2_flush.c",
     "\tif (op->plan.kind != S2_FLUSH_NONE) {\n"
     "\t\tplan_execute(op->pt, &op->plan);\n\t}\n\tcmo_flush(op);\n"
     "\t/* Detached subtrees' leaves are cleaned only now, after the TLBI. */\n"
     "\top->nr_defer = 0;\n"
     "\tfor (unsigned int i = 0; i < n; i++) {\n"
     "\t\tpaddr_t d = *defer_slot(op, i);\n\n"
     "\t\ts2_free_subtree(op, d & ~(paddr_t)(3 | S2_DEFER_CMO), d & 3,\n"
     "\t\t\t\td & S2_DEFER_CMO);\n\t}\n",
     "\top->nr_defer = 0;\n"
     "\tfor (unsigned int i = 0; i < n; i++) {\n"
     "\t\tpaddr_t d = *defer_slot(op, i);\n\n"
     "\t\ts2_free_subtree(op, d & ~(paddr_t)(3 | S2_DEFER_CMO), d & 3,\n"
     "\t\t\t\td & S2_DEFER_CMO);\n\t}\n"
     "\tif (op->plan.kind != S2_FLUSH_NONE) {\n"
     "\t\tplan_execute(op->pt, &op->plan);\n\t}\n\tcmo_flush(op);\n"),
]

# Mutants of the roots, root caches, memslots, views and faults (issue 9),
# caught by the roots differential tests diff_roots_<fmt> (--roots).
ROOTS_MUTANTS = [
    # The safety rule: an unmap before a free must reach invalid roots too.
    ("unmap_everywhere_skips_invalid_roots", ("ept", "stage2"),
     "mm/roots.c",
     "\t\tif (!r->in_use) {\n\t\t\tcontinue;\n\t\t}\n"
     "\t\tret = s2pt_unmap(&r->pt, gpa, size);",
     "\t\tif (!r->in_use || r->role.invalid) {\n\t\t\tcontinue;\n\t\t}\n"
     "\t\tret = s2pt_unmap(&r->pt, gpa, size);"),
    # The root cache keeps invalid roots and matches the current one by
    # view alone, so a vCPU enters on an invalidated root.
    ("root_cache_returns_invalid_root", ("ept", "stage2"), "mm/roots.c",
     "\ts2_root_cache_drop_invalid(c);\n"
     "\tif (c->cur && c->cur->role.word == role.word) {",
     "\tif (c->cur && c->cur->role.view == role.view) {"),
    # A freed root's tables go nowhere (leak) and nothing is invalidated.
    ("root_free_skips_destroy", ("ept", "stage2"), "mm/roots.c",
     "\ts2pt_destroy(&r->pt);\n\tadd_counters(",
     "\tadd_counters("),
    # Invalidate-all leaves the invalid roots in the vCPUs' caches.
    ("invalidate_keeps_stale_roots_cached", ("ept", "stage2"),
     "vmm/memslot.c",
     "\tvm->views_gen++;\n\tvm_drop_stale_roots(vm);\n\treturn n;",
     "\tvm->views_gen++;\n\treturn n;"),
    # A moved slot's old range stays mapped.
    ("memslot_move_keeps_old_range", ("ept", "stage2"), "vmm/memslot.c",
     "\tunmap_slot_everywhere(vm, &old);\n\tms->gpa = gpa;",
     "\tms->gpa = gpa;"),
    # View protect forgets to unmap the first page of the range.
    ("view_protect_leaves_a_page", ("ept", "stage2"), "vmm/memslot.c",
     "\t\t\tret = s2pt_unmap(&r->pt, gpa, size);\n\t\t\tif (ret) {",
     "\t\t\tret = size == PAGE_SIZE ? 0 :\n"
     "\t\t\t      s2pt_unmap(&r->pt, gpa + PAGE_SIZE,\n"
     "\t\t\t\t\t size - PAGE_SIZE);\n\t\t\tif (ret) {"),
    # Write-protect gives a view's leaves R+X, beyond the view's limits.
    ("wrprotect_widens_view_rights", ("ept", "stage2"), "vmm/memslot.c",
     "\t\tint ret = r->role.view ?\n\t\t\t  s2pt_unmap(&r->pt, gpa, size) :\n",
     "\t\tint ret = 0 ?\n\t\t\t  s2pt_unmap(&r->pt, gpa, size) :\n"),
    # Dirty logging starts without write-protecting the slot.
    ("log_dirty_not_write_protected", ("ept", "stage2"), "vmm/memslot.c",
     "\tif (ms->flags & ~old & keep) {",
     "\tif (ms->flags & ~old & MEMSLOT_RO) {"),
    # EAGER_SPLIT splits only down to 2 MiB.
    ("eager_split_to_2m", ("ept", "stage2"), "vmm/memslot.c",
     "\treturn s2pt_split(pt, gpa, size, 0);",
     "\treturn s2pt_split(pt, gpa, size, 1);"),
    # A memslot add does not move the generation: old MMIO SPTEs match.
    ("memslot_add_keeps_generation", ("ept", "stage2"), "vmm/memslot.c",
     "\tvm_memslot_end_update(vm);\n\t*id = slot;",
     "\tvm->memslot_gen &= ~1ULL;\n\t*id = slot;"),
    # A fault in a view maps with the memslot's rights, not the view's.
    ("fault_ignores_view_limits", ("ept", "stage2"), "vmm/fault.c",
     "\t\t*prot &= vp;\n", ""),
    # The two bugs this test found, put back: a moving slot visible at its
    # old GPA while the zapper yields, and a view's root keeping its wide
    # leaves when the unmap of a new limit cannot split a block.
    ("memslot_move_visible_while_unmapped", ("ept", "stage2"),
     "vmm/memslot.c",
     "\told = *ms;\n\tms->size = 0;\n\tunmap_slot_everywhere(vm, &old);\n"
     "\tms->gpa = gpa;\n\tms->size = old.size;",
     "\told = *ms;\n\tunmap_slot_everywhere(vm, &old);\n\tms->gpa = gpa;"),
    ("view_protect_keeps_wide_leaves_on_enomem", ("ept", "stage2"),
     "vmm/memslot.c",
     "\tif (ret != -ENOMEM) {\n\t\treturn ret;\n\t}\n"
     "\tret = s2pt_unmap(&r->pt, lo, hi - lo);",
     "\tif (1) {\n\t\treturn ret;\n\t}\n"
     "\tret = s2pt_unmap(&r->pt, lo, hi - lo);"),
    # Core bugs the simulated TLBs of the vCPUs must see at this level too:
    # an unmapped leaf left out of the plan, a root torn down without its
    # whole-context invalidation.
    ("unmap_leaf_not_flushed", ("ept", "stage2"), "mm/s2_unmap.c",
     "\ts2_plan_leaf(pt, ctx->addr, ctx->level);\n\tif (u->cmo",
     "\tif (u->cmo"),
    ("destroy_without_flush", ("ept", "stage2"), "mm/s2_init.c",
     "\t\tpt->plan.kind = S2_FLUSH_ALL;\n",
     "\t\tpt->plan.kind = S2_FLUSH_NONE;\n"),
]

# Roots mutants whose failure needs a rarer event (here an allocation
# failure in view protect over a block straddling the range): the seed each
# format catches them with at the default --steps (else --seed).
ROOTS_SEEDS = {
    ("view_protect_keeps_wide_leaves_on_enomem", "ept"): 12,
    ("view_protect_keeps_wide_leaves_on_enomem", "stage2"): 4,
}

# The mutants the fast core tests must catch (--core), with the formats.
CORE_MUST_CATCH = {
    "fast_detach_writes_zero": ("ept",),
    "emptied_table_not_planned": ("ept", "stage2"),
}
# --quick (make test): only these.
QUICK = ("fast_detach_writes_zero", "emptied_table_not_planned")
# The fast core test binaries of each format (tests/unit/core/core.mk).
CORE_BINS = {
    "ept": ("core_ept", "core_seeded_ept"),
    "stage2": ("core_stage2", "core_seeded_stage2"),
}

FMT = {
    "ept": ("-DDIFF_EPT", "arch/x86/include", "arch/x86/ept.c"),
    "stage2": ("-DDIFF_STAGE2", "arch/arm64/include", "arch/arm64/stage2.c"),
}

CFLAGS = ("-std=c11 -D_DEFAULT_SOURCE -O1 -g -Wall -Wextra -Werror "
          "-fsanitize=address,undefined -fno-sanitize-recover=all "
          "-fno-omit-frame-pointer -Iinclude -Itests/unit -DHOST_TEST "
          "-DCONFIG_MMU_AUDIT").split()


def make_var(name):
    out = subprocess.run(["make", "-s", "--no-print-directory", "-pn",
                          "unit"], cwd=ROOT, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith(name + " :=") or line.startswith(name + " ="):
            return line.split("=", 1)[1].split()
    sys.exit("mutants: cannot find %s in the makefiles" % name)


def build(tree, fmt, out):
    define, inc, enc = FMT[fmt]
    srcs = (["tests/unit/ref/test_diff.c", "tests/unit/ref/ref_ept.c",
             "tests/unit/ref/ref_stage2.c", "tests/unit/ref/sim_tlb.c",
             "tests/unit/core/host_hooks.c"] + make_var("CORE_GENERIC") +
            make_var("HOST_COMMON") + [enc])
    cmd = (["gcc"] + CFLAGS + [define, "-Itests/unit/ref", "-I" + inc,
                               "-o", out] + srcs +
           ["-fsanitize=address,undefined"])
    res = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    return res.returncode == 0, res.stderr


def run(binary, ops, seed):
    res = subprocess.run([binary, "--ops", str(ops), "--seed", str(seed)],
                         capture_output=True, text=True)
    return res.returncode, res.stdout + res.stderr


def first_failure(rc, out):
    """The first FAIL or sanitizer line of a failed run, or None."""
    if not rc:
        return None
    for line in out.splitlines():
        if (line.startswith("FAIL") or "ERROR: AddressSanitizer" in line
                or "runtime error" in line):
            return line
    return None


def pool(jobs, fn, items):
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        return list(ex.map(fn, items))


class CoreBinary:
    """One fast core test binary, built from objects like the makefile."""

    def __init__(self, tree, objdir, fmt, name):
        self.tree, self.objdir, self.fmt, self.name = tree, objdir, fmt, name
        target = "build/host/unit/" + name
        res = subprocess.run(["make", "-s", "-n", "-B", "V=1",
                              "--no-print-directory", target], cwd=tree,
                             capture_output=True, text=True)
        for line in res.stdout.replace("\\\n", " ").splitlines():
            argv = shlex.split(line)
            if "-o" in argv and argv[argv.index("-o") + 1] == target:
                i = argv.index("-o")
                rest = argv[1:i] + argv[i + 2:]
                self.cc = argv[0]
                self.flags = [a for a in rest if not a.endswith(".c")]
                self.srcs = [a for a in rest if a.endswith(".c")]
                return
        sys.exit("mutants: no recipe for %s in the makefiles" % target)

    def obj(self, variant, src):
        return os.path.join(self.objdir, variant, self.name,
                            src.replace("/", "__") + ".o")

    def compile(self, variant, src):
        out = self.obj(variant, src)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        res = subprocess.run([self.cc] + self.flags + ["-c", src, "-o", out],
                             cwd=self.tree, capture_output=True, text=True)
        return res.returncode == 0, res.stderr

    def link(self, variant, changed):
        out = os.path.join(self.objdir, variant, "bin", self.name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        objs = [self.obj(variant if s in changed else "base", s)
                for s in self.srcs]
        res = subprocess.run([self.cc] + self.flags + ["-o", out] + objs,
                             cwd=self.tree, capture_output=True, text=True)
        return (out if res.returncode == 0 else None), res.stderr

    def affected(self, path):
        """The sources a change of @path recompiles."""
        if path.endswith(".h"):
            return list(self.srcs)
        return [path] if path in self.srcs else []


def run_core(binary, tree, seed):
    try:
        res = subprocess.run([binary, "--seed", str(seed)], cwd=tree,
                             capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return 1, "FAIL: timed out"
    return res.returncode, res.stdout + res.stderr


def core_variant(bins, tree, variant, path, jobs, seed):
    """Build and run every binary @path affects; {fmt: (rc, out, err)}."""
    work = [(b, s) for b in bins for s in b.affected(path)]
    built = pool(jobs, lambda w: w[0].compile(variant, w[1]), work)
    errors = {}
    for (b, _), (ok, err) in zip(work, built):
        if not ok:
            errors.setdefault(b.fmt, err)
    todo = [b for b in bins if b.affected(path) and b.fmt not in errors]
    linked = pool(jobs, lambda b: b.link(variant, set(b.affected(path))),
                  todo)
    runs = []
    for b, (out, err) in zip(todo, linked):
        if out is None:
            errors.setdefault(b.fmt, err)
        else:
            runs.append((b, out))
    done = pool(jobs, lambda r: run_core(r[1], tree, seed), runs)
    # Per format: a build error, else the first binary that caught it.
    result = {fmt: (1, "", err) for fmt, err in errors.items()}
    for (b, _), (rc, out) in zip(runs, done):
        if b.fmt not in result or (not result[b.fmt][2] and
                                   first_failure(rc, out) and
                                   not first_failure(*result[b.fmt][:2])):
            result[b.fmt] = (rc, out, "")
    return result


def selected(args, name):
    if args.quick and name not in QUICK:
        return False
    if not args.only:
        return True
    return any(part and part in name for part in args.only.split(","))


def main_core(args, tree, tmp):
    start = time.monotonic()
    objdir = os.path.join(tmp, "obj")
    bins = [CoreBinary(tree, objdir, fmt, name)
            for fmt in FMT for name in CORE_BINS[fmt]]
    work = [(b, s) for b in bins for s in b.srcs]
    failed = 0
    for (b, s), (ok, err) in zip(work, pool(args.jobs,
                                            lambda w: w[0].compile("base",
                                                                   w[1]),
                                            work)):
        if not ok:
            print("FAIL: mutants/core/unmutated_%s: %s does not build: %s"
                  % (b.fmt, s, err[-300:]))
            return 1
    linked = pool(args.jobs, lambda b: b.link("base", set()), bins)
    runs = pool(args.jobs, lambda x: run_core(x[1][0], tree, args.seed)
                if x[1][0] else (1, x[1][1]), list(zip(bins, linked)))
    for fmt in FMT:
        bad = [(b, rc, out) for b, (rc, out) in zip(bins, runs)
               if b.fmt == fmt and rc]
        if bad:
            b, _, out = bad[0]
            print("FAIL: mutants/core/unmutated_%s: %s: %s"
                  % (fmt, b.name, (first_failure(1, out) or out)[-300:]))
            failed += 1
        else:
            print("PASS: mutants/core/unmutated_%s" % fmt)
    if failed:
        # A mutant "caught" by a test that fails anyway proves nothing.
        return 1
    for name, fmts, path, old, new in MUTANTS:
        if not selected(args, name):
            continue
        must = CORE_MUST_CATCH.get(name, ())
        want = [f for f in FMT if f in fmts or f in must]
        src = os.path.join(tree, path)
        with open(src) as f:
            text = f.read()
        if text.count(old) != 1:
            print("FAIL: mutants/core/%s: pattern not found in %s"
                  % (name, path))
            failed += 1
            continue
        with open(src, "w") as f:
            f.write(text.replace(old, new))
        try:
            result = core_variant([b for b in bins if b.fmt in want], tree,
                                  name, path, args.jobs, args.seed)
        finally:
            with open(src, "w") as f:
                f.write(text)
        for fmt in want:
            rc, out, err = result.get(fmt, (0, "", ""))
            line = first_failure(rc, out)
            tag = "mutants/core/%s_%s" % (name, fmt)
            if err:
                print("FAIL: %s: does not build: %s" % (tag, err[-300:]))
                failed += 1
            elif line:
                print("PASS: %s: caught: %s" % (tag, line[:200]))
            elif fmt in must:
                print("FAIL: %s: survived the fast core tests" % tag)
                failed += 1
            else:
                print("SKIP: %s: survived the fast core tests (only the "
                      "differential tests are asked to catch it)" % tag)
    print("# mutants --core: %.1f s" % (time.monotonic() - start))
    return 1 if failed else 0


def build_roots(tree, fmt, out):
    """diff_roots_<fmt> as tests/unit/ref/ref.mk builds it."""
    define, inc, enc = FMT[fmt]
    srcs = (["tests/unit/ref/test_diff_roots.c", "tests/unit/ref/ref_ept.c",
             "tests/unit/ref/ref_stage2.c", "tests/unit/ref/sim_tlb.c",
             "tests/unit/core/host_hooks.c"] + make_var("ROOTS_VMM") +
            make_var("CORE_GENERIC") + make_var("HOST_COMMON") + [enc])
    cmd = (["gcc"] + CFLAGS + ["-DCONFIG_TEST", define, "-Itests/unit/ref",
                               "-I" + inc, "-o", out] + srcs +
           ["-fsanitize=address,undefined"])
    res = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    return res.returncode == 0, res.stderr


def run_roots(binary, steps, seed):
    try:
        res = subprocess.run([binary, "--steps", str(steps), "--seed",
                              str(seed)], capture_output=True, text=True,
                             timeout=600)
    except subprocess.TimeoutExpired:
        return 1, "FAIL: timed out"
    return res.returncode, res.stdout + res.stderr


def main_roots(args, tree, tmp):
    """The roots mutants against diff_roots_<fmt>; the unmutated must pass."""
    failed = 0

    def build_and_run(name, fmt):
        binary = os.path.join(tmp, "roots_%s_%s" % (name, fmt))
        ok, err = build_roots(tree, fmt, binary)
        if not ok:
            return False, err, 0, ""
        rc, out = run_roots(binary, args.steps,
                            ROOTS_SEEDS.get((name, fmt), args.seed))
        return True, "", rc, out

    for fmt, (ok, err, rc, out) in zip(FMT, pool(args.jobs, lambda f:
                                                 build_and_run("orig", f),
                                                 list(FMT))):
        if not ok or rc:
            print("FAIL: mutants/roots/unmutated_%s: %s"
                  % (fmt, (err or first_failure(rc, out) or out)[-400:]))
            failed += 1
        else:
            print("PASS: mutants/roots/unmutated_%s" % fmt)
    if failed:
        return 1
    for name, fmts, path, old, new in ROOTS_MUTANTS:
        if not selected(args, name):
            continue
        src = os.path.join(tree, path)
        with open(src) as f:
            text = f.read()
        if text.count(old) != 1:
            print("FAIL: mutants/roots/%s: pattern not found in %s"
                  % (name, path))
            failed += 1
            continue
        with open(src, "w") as f:
            f.write(text.replace(old, new))
        try:
            results = pool(args.jobs, lambda f: build_and_run(name, f),
                           list(fmts))
        finally:
            with open(src, "w") as f:
                f.write(text)
        for fmt, (ok, err, rc, out) in zip(fmts, results):
            tag = "mutants/roots/%s_%s" % (name, fmt)
            first = first_failure(rc, out)
            if not ok:
                print("FAIL: %s: does not build: %s" % (tag, err[-300:]))
                failed += 1
            elif first:
                print("PASS: %s: caught: %s" % (tag, first[:300]))
            else:
                print("FAIL: %s: survived" % tag)
                failed += 1
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--core", action="store_true",
                    help="run the fast core tests, not the diff tests")
    ap.add_argument("--quick", action="store_true",
                    help="only the mutants of make test (%s)"
                    % ", ".join(QUICK))
    ap.add_argument("--roots", action="store_true",
                    help="the roots mutants against diff_roots_<fmt>")
    ap.add_argument("--steps", type=int, default=3000,
                    help="--roots: steps per test")
    ap.add_argument("--ops", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--only",
                    help="only mutants whose name has one of these "
                    "(comma-separated)")
    ap.add_argument("--worktree", action="store_true",
                    help="use the checkout's files instead of HEAD")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="strata-mutants-")
    tree = os.path.join(tmp, "tree")
    if args.worktree:
        shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(
            "build", ".git"))
    else:
        # The committed tree: work in progress in the checkout stays out.
        os.makedirs(tree)
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
    try:
        if args.core:
            return main_core(args, tree, tmp)
        if args.roots:
            return main_roots(args, tree, tmp)
        return main_diff(args, tree, tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp)


def main_diff(args, tree, tmp):
    failed = 0
    for fmt in FMT:
        ok, err = build(tree, fmt, os.path.join(tmp, "orig_" + fmt))
        rc, out = (run(os.path.join(tmp, "orig_" + fmt), args.ops,
                       args.seed) if ok else (1, ""))
        if not ok or rc:
            print("FAIL: mutants/unmutated_%s: %s" % (fmt, (err or out)[-400:]))
            failed += 1
        else:
            print("PASS: mutants/unmutated_%s" % fmt)
    for name, fmts, path, old, new in MUTANTS:
        if not selected(args, name):
            continue
        src = os.path.join(tree, path)
        with open(src) as f:
            text = f.read()
        if text.count(old) != 1:
            print("SKIP: mutants/%s: pattern not found in %s" % (name, path))
            continue
        with open(src, "w") as f:
            f.write(text.replace(old, new))
        for fmt in fmts:
            binary = os.path.join(tmp, name + "_" + fmt)
            ok, err = build(tree, fmt, binary)
            if not ok:
                print("FAIL: mutants/%s_%s: does not build: %s"
                      % (name, fmt, err[-300:]))
                failed += 1
                continue
            rc, out = run(binary, args.ops, args.seed)
            first = first_failure(rc, out)
            if first:
                print("PASS: mutants/%s_%s: caught: %s"
                      % (name, fmt, first[:200]))
            else:
                print("FAIL: mutants/%s_%s: survived" % (name, fmt))
                failed += 1
        with open(src, "w") as f:
            f.write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
