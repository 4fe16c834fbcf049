#!/usr/bin/env python3
"""Strata's one test command (`make test`): build, then run every layer.

Layers, in order (see ../shared/TESTING.md):
  build  both architectures, normal and test builds (a failed build fails)
  unit   host unit tests: every executable in build/host/unit/, with the
         arguments in <name>.args when present
  fuzz   short libFuzzer runs (tests/fuzz/run.py)
  boot   every tests/boot/*.py script; two at a time

Each test program prints one line per test, `PASS: name`, `FAIL: name: why`
or `SKIP: name: why`. A program that exits non-zero without a FAIL line is a
failure of its own. The last line is `N passed, N failed[, N skipped]`.

Options: --only LAYER[,LAYER...]  --keep-going is the default.
"""
import argparse
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE = re.compile(r"^(PASS|FAIL|SKIP): (.*)$")


class Results:
    def __init__(self):
        self.counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        self.failures = []

    def add(self, kind, text):
        self.counts[kind] += 1
        if kind == "FAIL":
            self.failures.append(text)
        print(f"{kind}: {text}", flush=True)


def run_program(res, label, argv, timeout, env=None):
    """Run one test program and count its PASS/FAIL/SKIP lines."""
    start = time.monotonic()
    try:
        p = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           errors="replace", timeout=timeout, env=env)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        rc = None
    nfail = 0
    seen = 0
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            seen += 1
            nfail += m.group(1) == "FAIL"
            res.add(m.group(1), m.group(2))
    took = time.monotonic() - start
    if rc is None:
        res.add("FAIL", f"{label}: timed out after {timeout} s")
    elif rc != 0 and nfail == 0:
        tail = "\n    ".join(out.splitlines()[-15:])
        res.add("FAIL", f"{label}: exited with status {rc}\n    {tail}")
    elif seen == 0:
        res.add("FAIL", f"{label}: reported no test")
    if nfail and rc is not None:
        # keep the program's own diagnostics visible for the failures
        diag = [l for l in out.splitlines() if not LINE.match(l)][-20:]
        if diag:
            print("    " + "\n    ".join(diag), flush=True)
    print(f"# {label}: {took:.1f} s", flush=True)


def layer_build(res):
    jobs = str(os.cpu_count() or 2)
    for test in ("1", "0"):
        for arch in ("x86_64", "arm64"):
            name = f"build/{arch}{'-test' if test == '1' else ''}"
            p = subprocess.run(["make", "-j" + jobs, f"ARCH={arch}",
                                f"TEST={test}"], cwd=ROOT,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if p.returncode == 0:
                res.add("PASS", name)
            else:
                tail = "\n    ".join(p.stdout.splitlines()[-25:])
                res.add("FAIL", f"{name}: make failed\n    {tail}")


def layer_unit(res):
    jobs = str(os.cpu_count() or 2)
    p = subprocess.run(["make", "-j" + jobs, "unit"], cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if p.returncode != 0:
        tail = "\n    ".join(p.stdout.splitlines()[-25:])
        res.add("FAIL", f"unit/build: make unit failed\n    {tail}")
    d = os.path.join(ROOT, "build/host/unit")
    if not os.path.isdir(d):
        res.add("FAIL", "unit: no unit test binaries were built")
        return
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            continue
        args = []
        if os.path.exists(path + ".args"):
            with open(path + ".args") as f:
                args = shlex.split(f.read())
        run_program(res, f"unit/{name}", [path] + args, timeout=600)


def layer_fuzz(res):
    script = os.path.join(ROOT, "tests/fuzz/run.py")
    if os.path.exists(script):
        run_program(res, "fuzz", [sys.executable, script], timeout=600)


def layer_boot(res):
    d = os.path.join(ROOT, "tests/boot")
    scripts = sorted(f for f in os.listdir(d)
                     if f.endswith(".py") and not f.startswith("_"))
    # Two scripts run at once; their results are counted in name order.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        futs = {s: ex.submit(subprocess.run,
                             [sys.executable, os.path.join(d, s)],
                             cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             errors="replace", timeout=900)
                for s in scripts}
        for s in scripts:
            label = f"boot/{s}"
            try:
                p = futs[s].result()
            except subprocess.TimeoutExpired:
                res.add("FAIL", f"{label}: timed out")
                continue
            nfail = seen = 0
            for line in p.stdout.splitlines():
                m = LINE.match(line)
                if m:
                    seen += 1
                    nfail += m.group(1) == "FAIL"
                    res.add(m.group(1), m.group(2))
                elif line.startswith("    ") or line.startswith("#"):
                    print(line, flush=True)
            if p.returncode != 0 and nfail == 0:
                tail = "\n    ".join(p.stdout.splitlines()[-15:])
                res.add("FAIL", f"{label}: exited {p.returncode}\n    {tail}")
            elif seen == 0:
                res.add("FAIL", f"{label}: reported no test")


LAYERS = [("build", layer_build), ("unit", layer_unit),
          ("fuzz", layer_fuzz), ("boot", layer_boot)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="",
                    help="comma-separated layers: build,unit,fuzz,boot")
    opts = ap.parse_args()
    only = [x for x in opts.only.split(",") if x]
    res = Results()
    t0 = time.monotonic()
    for name, fn in LAYERS:
        if only and name not in only:
            continue
        print(f"# === {name} ===", flush=True)
        t = time.monotonic()
        fn(res)
        print(f"# {name} took {time.monotonic() - t:.0f} s", flush=True)
    print(f"# total {time.monotonic() - t0:.0f} s")
    if res.failures:
        print("# failures:")
        for f in res.failures:
            print("#   " + f.splitlines()[0])
    c = res.counts
    tail = f", {c['SKIP']} skipped" if c["SKIP"] else ""
    print(f"{c['PASS']} passed, {c['FAIL']} failed{tail}")
    return 1 if c["FAIL"] or not c["PASS"] else 0


if __name__ == "__main__":
    sys.exit(main())
