#!/usr/bin/env python3
"""Build and run Strata's libFuzzer targets (tests/fuzz/fuzz_*.c).

Each target names the sources it links in a `// FUZZ-SOURCES:` line. The seed
corpus is tests/fuzz/corpus/<name>/ (copied, so runs never write to the tree).
A short run of every target is part of `make test`; `make fuzz` (or
`--seconds N`) runs longer. Prints PASS/FAIL lines for tests/run.py.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "tests/fuzz")
OUT = os.path.join(ROOT, "build/host/fuzz")
CFLAGS = ["-std=c11", "-D_DEFAULT_SOURCE", "-g", "-O1", "-DHOST_TEST",
          "-fsanitize=fuzzer,address,undefined",
          "-fno-sanitize-recover=all", "-Iinclude", "-Itests/unit"]


def header_words(path, key):
    """The words after `// KEY:` in a target's header comment."""
    with open(path) as f:
        for line in f:
            m = re.match(r"^// %s:(.*)$" % key, line)
            if m:
                return m.group(1).split()
    return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("targets", nargs="*")
    opts = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    names = sorted(f[5:-2] for f in os.listdir(FUZZ)
                   if f.startswith("fuzz_") and f.endswith(".c"))
    if opts.targets:
        names = [n for n in names if n in opts.targets]
    failed = 0
    for name in names:
        src = os.path.join(FUZZ, f"fuzz_{name}.c")
        exe = os.path.join(OUT, f"fuzz_{name}")
        cmd = (["clang"] + CFLAGS + header_words(src, "FUZZ-CFLAGS") + ["-o", exe, src]
               + header_words(src, "FUZZ-SOURCES"))
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode:
            print(f"FAIL: fuzz/{name}: build failed\n    " +
                  "\n    ".join(p.stdout.splitlines()[-15:]))
            failed += 1
            continue
        corpus = os.path.join(OUT, f"corpus-{name}")
        shutil.rmtree(corpus, ignore_errors=True)
        seed = os.path.join(FUZZ, "corpus", name)
        if os.path.isdir(seed):
            shutil.copytree(seed, corpus)
        else:
            os.makedirs(corpus)
        run = [exe, f"-max_total_time={opts.seconds}", "-timeout=10",
               "-rss_limit_mb=2048", f"-artifact_prefix={OUT}/{name}-",
               corpus]
        p = subprocess.run(run, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           errors="replace")
        stats = re.findall(r"#(\d+)\s+DONE\s+cov: (\d+)", p.stdout)
        if p.returncode == 0 and stats:
            execs, cov = stats[-1]
            print(f"PASS: fuzz/{name} ({execs} runs, cov {cov}, "
                  f"{opts.seconds} s)")
        else:
            failed += 1
            print(f"FAIL: fuzz/{name}: status {p.returncode}\n    " +
                  "\n    ".join(p.stdout.splitlines()[-25:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
