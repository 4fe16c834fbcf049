#!/usr/bin/env python3
"""Boot tests: secure VMs on x86 (docs/secure-module.md, issue 10).

  secure          Bochs corei7_skylake_x with two VMs: `secure` (secure = on,
                  tests/guests/x86/secure.c) is built through the emulated
                  secure module (PAGE.ADD of its image, MR.FINALIZE), touches
                  a page it has not accepted (#VE, accepted by its handler),
                  accepts and memory-tests 1 MiB, converts 16 pages to
                  shared and back (MAP_GPA: one BLOCK, TRACK, REMOVE and
                  WBINVD per private page; contents zeroed both ways), prints
                  a line from a shared buffer (a private one is refused),
                  does MMIO through its #VE handler at every size; `ve`
                  (ve = on, an ordinary VM) beside it takes no #VE at all.
                  Both must end well, the TD's teardown leaking nothing, and
                  mirror, S-EPT and direct root agree page by page.
                  The module's pages are read-only in Strata's own page
                  tables after the build and at the end (protection audit).
  core-write      test build: tests/guests/x86/securewr.c asks Strata to
                  write to one of its private pages from the core (a
                  deliberate bug): the write faults (#PF, write to a present
                  read-only page, CR2 the page) and Strata stops.
  leak            test build: tests/guests/x86/securelk.c makes the
                  module's REMOVE busy twice and converts a page: the zap is
                  retried once after a kick, refused, the page leaked (kept
                  from the allocator at the end), the VM stopped with the
                  reason; hello beside it ends well.
  refused         Bochs corei7_sandy_bridge_2600k (no EPT-violation #VE):
                  the secure VM is refused with a message, hello runs.

Run one case with `python3 tests/boot/secure_x86.py CASE`.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, need, tail, private_dir, build_guests, make_iso, vm_modules,
    run_bochs)

SECURE_CFG = """[vm secure]
kernel = secure.elf
memory = 16M
secure = on
[vm ve]
kernel = ve.elf
memory = 16M
ve = on
"""
REFUSED_CFG = """[vm secure]
kernel = secure.elf
memory = 16M
secure = on
[vm hello]
kernel = hello.elf
memory = 8M
"""


def guest_lines(log, vm):
    pre = "[%s] " % vm
    return [l[len(pre):] for l in log.splitlines() if l.startswith(pre)]


def case_secure(tmp):
    elves = build_guests("x86_64", os.path.join(tmp, "g"), ["secure", "ve"])
    iso = make_iso(tmp, "secure", "loglevel=info",
                   vm_modules(SECURE_CFG, elves))
    status, log = run_bochs(tmp, "secure", iso, megs=256, timeout=900)
    if status is None:
        raise Fail("timed out (console: %s)" % tail(log, 10))
    lines = guest_lines(log, "secure")
    fails = [l for l in lines if l.startswith("FAIL")]
    if fails:
        raise Fail("secure says: " + " / ".join(fails[:4]))
    m = need(log, r"^vm secure: secure: TD built through the module: (\d+) "
             r"pages added \(PAGE\.ADD (\d+), SEPT\.ADD (\d+)\), "
             r"MR\.FINALIZE, MRTD 0x[0-9a-f]{16}, shared bit 39$",
             "the TD build line")
    if int(m.group(1)) < 8 or m.group(1) != m.group(2) or \
            int(m.group(3)) < 3:
        raise Fail("build: %s pages, %s PAGE.ADD, %s SEPT.ADD" % m.groups())
    for when in ("after build", "at the end"):
        m = need(log, r"^vm secure: secure: protection audit %s: (\d+) "
                 r"module pages, none writable by the hypervisor$" % when,
                 "the protection audit " + when)
        if int(m.group(1)) < 24 + 384:
            raise Fail("only %s module pages %s" % (m.group(1), when))
    need(lines, r"^secure: shared bit 39, #VE page 0x[0-9a-f]+, shared half "
         r"mapped at 0x8000000000$", "the shared-bit line")
    need(lines, r"^secure: unaccepted page 0x600000: 1 #VE, the handler "
         r"accepted it, read 0$", "the unaccepted-page line")
    need(lines, r"^secure: memory test over 256 accepted private pages: 0 "
         r"bad words$", "the memory test")
    # One BLOCK, TRACK, REMOVE, WBINVD per private page converted.
    need(lines, r"^secure: VMFUNC raised #UD, private memory intact "
         r"\(0 bad words\)$", "VMFUNC refused on a secure VM")
    need(log, r"^vm secure: secure: MAP_GPA 0x800000\+0x10000 to shared: "
         r"16 pages; module calls BLOCK 16, TRACK 16, REMOVE 16, "
         r"WBINVD 16$", "the conversion to shared with its module calls")
    need(log, r"^vm secure: secure: MAP_GPA 0x800000\+0x10000 to private: "
         r"16 pages; module calls BLOCK 0, TRACK 0, REMOVE 0, WBINVD 0$",
         "the conversion back to private")
    need(lines, r"^secure: this line came from a shared page$",
         "the console line from a shared buffer")
    if any("must not be printed" in l for l in log.splitlines()):
        raise Fail("a private buffer reached the console")
    need(log, r"^vm secure: console write from private GPA 0x[0-9a-f]+ "
         r"refused: a secure VM's buffers must be shared$",
         "the refusal of a private buffer")
    need(lines, r"^secure: console write from a private buffer: status -5 "
         r"\(denied\)$", "the guest seeing the refusal")
    need(lines, r"^secure: 16 pages private -> shared -> private, contents "
         r"zeroed both ways$", "the conversion line")
    need(lines, r"^secure: MMIO through #VE at sizes 1, 2, 4, 8: 8 #VE, "
         r"values read back$", "MMIO through #VE")
    need(lines, r"^secure: RESULT: PASS \(\d+ checks\)$", "secure: PASS")
    m = need(log, r"^vm secure: secure: end: (\d+) accepts, 16 pages to "
             r"shared, 16 to private, 8 MMIO requests, 1 private buffers "
             r"refused, 1 calls denied, (\d+) TLB flushes by the module, 0 "
             r"pages leaked, 0 table pages leaked, 0 control pages leaked, 0 "
             r"pages of RAM kept$", "the end summary")
    # The summary is the VM's last secure line: after the release.
    last = [ln for ln in log.splitlines()
            if re.match(r"^(?:error: )?(?:WARNING: )?vm secure: secure: ",
                        ln)][-1]
    if " secure: end: " not in last:
        raise Fail("the end summary is not the last line: %r" % last)
    if int(m.group(1)) != 1 + 256 + 16 + 16:
        raise Fail("%s accepts (expected 289)" % m.group(1))
    # Mirror, S-EPT and direct root agree page by page: the image, the
    # page accepted in the #VE handler, the memory test and the 16 pages
    # converted back (accepted again); nothing pending, nothing shared.
    m = need(log, r"^vm secure: secure: lockstep audit: (\d+) private "
             r"leaves \((\d+) pending\) in mirror and S-EPT alike, (\d+) "
             r"shared leaves, 0 mismatches$", "the lockstep audit")
    built = int(re.search(r"TD built through the module: (\d+)",
                          log).group(1))
    if m.groups() != (str(built + 1 + 256 + 16), "0", "0"):
        raise Fail("lockstep audit: %s private, %s pending, %s shared"
                   % m.groups())
    need(log, r"^vm secure: ended: powered off \(status 0\)$",
         "the secure VM ending well")
    # The ordinary VM beside it: every absent entry SUPPRESS_VE, no #VE.
    need(guest_lines(log, "ve"), r"^ve: \d+ touches of unbacked and zapped "
         r"memory, 0 #VE", "the ve guest's report")
    need(log, r"^vm ve: ended: powered off \(status 0\)$",
         "the ordinary VM ending well")
    need(log, r"^Strata: all 2 VMs ended: 2 ok, 0 failed$", "the summary")
    if "s2pt audit" in log or "roots audit" in log or "WARNING" in log:
        raise Fail("an audit failed or a warning was printed")


WR_CFG = """[vm securewr]
kernel = securewr.elf
memory = 8M
secure = on
"""


def case_core_write(tmp):
    elves = build_guests("x86_64", os.path.join(tmp, "g"), ["securewr"])
    iso = make_iso(tmp, "corewr", "loglevel=info", vm_modules(WR_CFG, elves))
    status, log = run_bochs(tmp, "corewr", iso, megs=128, timeout=300)
    if status is None:
        raise Fail("timed out (console: %s)" % tail(log, 10))
    m = need(log, r"^vm securewr: test: the core writes to private GPA "
             r"0x([0-9a-f]+) \(PA 0x([0-9a-f]+), read-only in the identity "
             r"map\)$", "the deliberate write")
    pa = int(m.group(2), 16)
    m = need(log, r"^(?:error: )?exception: #PF page fault \(vector 14\), "
             r"error code 0x([0-9a-f]+)$", "the page fault")
    if int(m.group(1), 16) & 3 != 3:
        raise Fail("error code 0x%s: not a write to a present page"
                   % m.group(1))
    m = need(log, r"CR2 ([0-9a-f]{16})", "CR2 in the register dump")
    if int(m.group(1), 16) != pa:
        raise Fail("CR2 0x%s is not the page 0x%x" % (m.group(1), pa))
    if "did not fault" in log or "still running" in log:
        raise Fail("the write went through")


LK_CFG = """[vm securelk]
kernel = securelk.elf
memory = 8M
secure = on
[vm hello]
kernel = hello.elf
memory = 8M
"""


def case_leak(tmp):
    elves = build_guests("x86_64", os.path.join(tmp, "g"),
                         ["securelk", "hello"])
    iso = make_iso(tmp, "leak", "loglevel=info", vm_modules(LK_CFG, elves))
    status, log = run_bochs(tmp, "leak", iso, megs=128, timeout=300)
    if status is None:
        raise Fail("timed out (console: %s)" % tail(log, 10))
    need(log, r"^vm securelk: test: the module's next 2 REMOVE calls answer "
         r"OPERAND_BUSY$", "the busy injection")
    # BUSY, kick, BUSY again: refused; nothing written back.
    need(log, r"^vm securelk: secure: MAP_GPA 0x500000\+0x1000 to shared: "
         r"0 pages; module calls BLOCK 1, TRACK 1, REMOVE 2, WBINVD 0$",
         "the refused zap's module calls")
    need(log, r"^(?:error: )?WARNING: vm securelk: internal bug: the secure "
         r"module refused to remove a page \(0x80000200", "the warning")
    need(log, r"^vm securelk: ended: stopped: internal bug: the secure "
         r"module refused to remove a page", "the VM stopped with the reason")
    if "still running" in log:
        raise Fail("the guest ran on after the refused zap")
    need(log, r"^vm securelk: secure: lockstep audit: \d+ private leaves "
         r"\(0 pending\) in mirror and S-EPT alike, 0 shared leaves, 0 "
         r"mismatches$", "the lockstep audit with the leaked page")
    need(log, r"^vm securelk: secure: end: .* 1 pages leaked, 0 table "
         r"pages leaked, \d+ control pages leaked, 1 pages of RAM kept$",
         "the leak counted")
    need(log, r"^(?:error: )?WARNING: vm securelk: secure: the teardown "
         r"leaked 1 guest pages, 0 table pages and \d+ control pages$",
         "the leak warned about")
    # The summary comes after the release (the RAM line), not before.
    if (log.index("vm securelk: secure: 1 pages of RAM stay") >
            log.index("vm securelk: secure: end: ")):
        raise Fail("the end summary came before the release")
    need(log, r"^(?:error: )?vm securelk: secure: 1 pages of RAM stay with "
         r"the module \(leaked, never reused\)$", "the page kept from the "
         "allocator")
    need(log, r"^vm hello: ended: powered off \(status 0\)$",
         "hello running on beside it")
    need(log, r"^Strata: all 2 VMs ended: 1 ok, 1 failed$", "the summary")


def case_refused(tmp):
    elves = build_guests("x86_64", os.path.join(tmp, "g"),
                         ["secure", "hello"])
    iso = make_iso(tmp, "refused", "loglevel=info",
                   vm_modules(REFUSED_CFG, elves))
    status, log = run_bochs(tmp, "refused", iso,
                            cpu="corei7_sandy_bridge_2600k", megs=128,
                            timeout=300)
    if status is None:
        raise Fail("timed out (console: %s)" % tail(log, 10))
    need(log, r"vm secure: secure = on, but this CPU has no EPT-violation "
         r"#VE: a secure VM takes its MMIO as #VE$", "the refusal")
    need(log, r"^vm hello: ended: powered off \(status 0\)$",
         "hello running beside it")


CASES = [("secure", case_secure), ("core-write", case_core_write),
         ("leak", case_leak), ("refused", case_refused)]


def main():
    want = sys.argv[1:] or [n for n, _ in CASES]
    failed = 0
    for name, fn in CASES:
        if name not in want:
            continue
        label = "secure_x86/%s" % name
        with private_dir("secure-") as tmp:
            try:
                fn(tmp)
                print("PASS: %s" % label, flush=True)
            except Fail as e:
                failed += 1
                print("FAIL: %s: %s" % (label, e), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
