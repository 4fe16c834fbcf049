#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Show that the differential tests catch real core bugs.

Extracts the committed tree (git archive HEAD) into a scratch directory, injects one known bug at a time (each
mutant below names the rule it breaks), builds diff_ept / diff_stage2 from
the mutated copy with the same flags as tests/unit/ref/ref.mk, runs a short
sequence and expects a FAIL line. The unmutated copy must pass.

Not part of `make test` (it builds a dozen binaries); run it by hand:
    python3 tests/unit/ref/mutants.py [--ops N] [--seed N] [--keep]
                                      [--worktree]
Prints one line per mutant: PASS (caught) or FAIL (survived).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# (name, formats, file, old text, new text)
MUTANTS = [
    ("empty_table_no_walk_flush", ("stage2",), "mm/s2_flush.c",
     "\tp->walk = true;\n\tp->pages++;\n\tplan_ipa(p, addr, S2_LEVEL_ANY);",
     "\tp->pages++;\n\tplan_ipa(p, addr, S2_LEVEL_ANY);"),
    ("cmo_before_tlbi", ("stage2",), "mm/s2_flush.c",
     "\tif (pt->plan.kind != S2_FLUSH_NONE) {\n"
     "\t\tplan_execute(pt, &pt->plan);\n\t}\n\tcmo_flush(pt);",
     "\tcmo_flush(pt);\n\tif (pt->plan.kind != S2_FLUSH_NONE) {\n"
     "\t\tplan_execute(pt, &pt->plan);\n\t}"),
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
     "\ts2_plan_leaf(pt, ctx->addr, ctx->level);\n\tif (u->cmo",
     "\tif (u->cmo"),
    ("detach_not_flushed", ("ept", "stage2"), "mm/s2_unmap.c",
     "\ts2_plan_detached(ctx->pt, ctx->addr, ctx->level);\n", ""),
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
     "\tif (table) {\n\t\ts2_plan_detached(pt, addr, level);\n",
     "\tif (table) {\n\t\t(void)addr;\n"),
    ("no_bbm_replaced_block_not_flushed", ("ept",), "mm/s2_flush.c",
     "\t} else {\n\t\ts2_plan_leaf(pt, addr, level);\n\t}\n",
     "\t}\n"),
    ("no_bbm_collapse_frees_at_once", ("ept",), "mm/s2_collapse.c",
     "\ts2_defer_free(pt, table, ctx->level - 1, false);",
     "\ts2_free_subtree(pt, table, ctx->level - 1, false);"),
    ("no_bbm_changes_translation", ("ept",), "mm/s2_split.c",
     "\t\tt[i] = arch_s2_make_leaf(pt, pa + i * S2_LEVEL_SIZE(clevel),\n"
     "\t\t\t\t\t prot, clevel);",
     "\t\tt[i] = arch_s2_make_leaf(pt, pa + i * S2_LEVEL_SIZE(clevel),\n"
     "\t\t\t\t\t prot & ~S2_PROT_X, clevel);"),
    ("map_reserves_one_page_short", ("ept", "stage2"), "mm/s2_map.c",
     "ret = s2_cache_reserve(pt, &m.cache, m.pages);",
     "ret = s2_cache_reserve(pt, &m.cache, m.pages ? m.pages - 1 : 0);"),
    ("enomem_leaks_reserved_pages", ("ept", "stage2"), "mm/s2_cache.c",
     "\t\tif (s2_table_page_alloc(&pa)) {\n\t\t\ts2_cache_release(pt, c);",
     "\t\tif (s2_table_page_alloc(&pa)) {\n\t\t\t(void)pt;"),
    # Encoder mutants: the reference translators must notice.
    ("ept_ve_absent_without_suppress_ve", ("ept",), "arch/x86/ept.c",
     "return (pt->flags & S2PT_F_VE) ? EPT_SUPPRESS_VE : 0;",
     "return (pt->flags & S2PT_F_VE) ? 0 : 0;"),
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
     "\tif (pt->plan.kind != S2_FLUSH_NONE) {\n"
     "\t\tplan_execute(pt, &pt->plan);\n\t}\n\tcmo_flush(pt);\n"
     "\t/* Detached subtrees' leaves are cleaned only now, after the TLBI. */\n"
     "\tpt->nr_defer = 0;\n"
     "\tfor (unsigned int i = 0; i < n; i++) {\n"
     "\t\tpaddr_t d = pt->defer[i];\n\n"
     "\t\ts2_free_subtree(pt, ALIGN_DOWN(d, PAGE_SIZE), d & 3,\n"
     "\t\t\t\td & S2_DEFER_CMO);\n\t}\n",
     "\tpt->nr_defer = 0;\n"
     "\tfor (unsigned int i = 0; i < n; i++) {\n"
     "\t\tpaddr_t d = pt->defer[i];\n\n"
     "\t\ts2_free_subtree(pt, ALIGN_DOWN(d, PAGE_SIZE), d & 3,\n"
     "\t\t\t\td & S2_DEFER_CMO);\n\t}\n"
     "\tif (pt->plan.kind != S2_FLUSH_NONE) {\n"
     "\t\tplan_execute(pt, &pt->plan);\n\t}\n\tcmo_flush(pt);\n"),
]

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--only", help="run only mutants whose name has this")
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
        if args.only and args.only not in name:
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
            first = [l for l in out.splitlines()
                     if l.startswith("FAIL") or "ERROR: AddressSanitizer" in l
                     or "runtime error" in l]
            if rc and first:
                print("PASS: mutants/%s_%s: caught: %s"
                      % (name, fmt, first[0][:200]))
            else:
                print("FAIL: mutants/%s_%s: survived" % (name, fmt))
                failed += 1
        with open(src, "w") as f:
            f.write(text)
    if not args.keep:
        shutil.rmtree(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
