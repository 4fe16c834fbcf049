#!/usr/bin/env python3
"""Boot tests of the x86-64 hypervisor image (tests/run.py runs this file).

The runner builds build/test/x86_64/ first (`make TEST=1 ARCH=x86_64`); this
script builds nothing of Strata. From that strata.elf it makes its own GRUB
ISOs, each with the command line (and modules) a test needs, in a temporary
directory under build/test/, and boots them:

  x86/bochs-boot          Bochs corei7_skylake_x: banner, memory map, VMX
                          features, VMXON, a clean stop with status 0
  x86/bochs-modules       two multiboot2 modules listed with names and sizes
  x86/bochs-exception     selftest=fault: the #UD dump and the halt
  x86/bochs-double-fault  a fault while delivering a fault: #DF on its own
                          stack still gives a dump (no triple fault)
  x86/bochs-sandy-bridge  an older VMX CPU: the feature lines follow the CPU
                          (no #VE, no 1G EPT pages, no A/D), VMXON still ok
  x86/bochs-no-ept        Core 2 (VMX without EPT): each missing feature
                          named, a clean stop with status 2
  x86/qemu-no-vmx         QEMU TCG -cpu max: the clear no-VMX error, status 2
  x86/qemu-high-ram       QEMU with RAM above 4 GiB: mapped and allocatable
  x86/qemu-exception      selftest=fault: #UD (vector 6) at the ud2's RIP
  x86/qemu-page-fault     x86_fault=pf: #PF (vector 14) with the right CR2
  x86/qemu-nested-fault   x86_fault=nested: the handler faults while dumping;
                          a one-line notice and the halt, no loop
  x86/bochs-vmx-exits     five VMs of tests/guests/x86/vmxexits.c (one
                          loaded as a raw binary): CPUID leaves, the MSR
                          allow-list, CR writes, REP INS/OUTS, refused
                          instructions with the exception each must get,
                          CPL 3 VMCALL denied, every injection counted,
                          CR2, DR0 and LSTAR kept per VM; two power off
                          well while their ticks interleave (time slices),
                          the third halts with interrupts off, the fourth
                          points its page tables at unbacked memory, the
                          fifth retries a refused RDMSR forever: those
                          three are stopped. Beside them
                          tests/guests/x86/mb32/paging32.c reaches the
                          test device through 32-bit (4 MiB and 4 KiB
                          pages) and PAE paging, the PAE switch by an
                          emulated CR0 write that must load the PDPTEs
  x86/bochs-entry-failure x86_vmx_break= (test builds) gives one VM an
                          invalid guest state and one an invalid control:
                          each is stopped with the reason its VM entry
                          failed, the third VM runs to its end
  x86/bochs-ve-refused    Sandy Bridge (no EPT-violation #VE): a VM with
                          `ve = on` is refused with the reason, the other
                          VM runs to its end
  x86/bochs-debug-state   tests/guests/x86/dbtrap.c: RFLAGS.RF in the frame
                          of injected faults and cleared by emulated
                          instructions; single steps over emulated
                          instructions (DR6.BS); DR7.GD with MOV SS; data
                          watchpoints (no DR6.BS); MOV SS + watchpoint +
                          INT $1 / INT3; data and I/O breakpoints on
                          accesses Strata emulates; every case across an
                          exit

Every verdict rests on lines found in the serial log; exit statuses are
checked as well but never suffice. Set STRATA_KEEP=1 to keep the temporary
directory.
"""
import concurrent.futures
import os
import re
import struct
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, X86_ELF as ELF, tail, need, need_line, check_status,
    check_no_exception, private_dir, read_log, build_guests, make_iso,
    vm_modules, run_bochs, run_qemu_x86 as run_qemu)

ISO = os.path.join(os.path.dirname(ELF), "strata.iso")

# Unmapped address the `pf` and `df` self-tests use (arch/x86/selftest.c).
SELFTEST_UNMAPPED = 0x00007f0000000000
# arch_stop() statuses seen through QEMU's isa-debug-exit: (status << 1) | 1.
QEMU_EXIT_STOP_OK = (0 << 1) | 1
QEMU_EXIT_NO_VMX = (2 << 1) | 1
QEMU_EXIT_EXCEPTION = (3 << 1) | 1

VMX_CFG = """# two well-behaved copies, one that ends in CLI; HLT (6 MiB), one
# whose page tables end in unbacked memory (5 MiB), one whose #GP handler
# retries a refused RDMSR forever (7 MiB)
[vm one]
kernel = vmxexits.elf
memory = 8M
[vm two]
kernel = vmxexits.bin
memory = 8M
load = 0x100000
[vm halts]
kernel = vmxexits.elf
memory = 6M
[vm badpt]
kernel = vmxexits.elf
memory = 5M
[vm storm]
kernel = vmxexits.elf
memory = 7M
[vm paging32]
kernel = paging32.elf
memory = 8M
"""

VE_CFG = """# ve = on cannot be honoured without the #VE control
[vm wantsve]
kernel = vmxexits.elf
memory = 8M
ve = on
[vm other]
kernel = vmxexits.elf
memory = 8M
"""

BREAK_CFG = """# two VMs whose VMCS the test build breaks, one left alone
[vm badstate]
kernel = vmxexits.elf
memory = 8M
[vm badctl]
kernel = vmxexits.elf
memory = 8M
[vm good]
kernel = vmxexits.elf
memory = 8M
"""

MODULES = [
    # (file name, size, module command line)
    ("alpha.bin", 5000, "alpha.bin role=first"),
    ("beta.bin", 12345, "beta.bin"),
]


def module_files(modules):
    """@modules as make_iso() modules: each file @size bytes of a pattern."""
    return [(fname, bytes((i * 7 + size) & 0xff for i in range(size)), mcmd)
            for fname, size, mcmd in modules]


_guests = {}
_guests_lock = threading.Lock()


def build_guest(tmp, name):
    """Guest @name of tests/guests/x86/, built once into @tmp (not shared
    with the other boot scripts running at the same time); its path."""
    with _guests_lock:
        if name not in _guests:
            _guests[name], = build_guests("x86_64", os.path.join(tmp, "guests"),
                                          [name])
        return _guests[name]


# ---- checks on the serial log -------------------------------------------

def check_boot(log, cmdline):
    """Banner, boot protocol, command line, memory map, page allocator."""
    need(log, r"^Strata \S+ \(x86_64\)$", "banner 'Strata <version> (x86_64)'")
    need_line(log, "boot: multiboot2")
    need_line(log, "command line: '%s'" % cmdline)
    mm = need(log, r"^memory map:\n((?:  0x.*\n)+)", "memory map")
    usable = re.findall(r"^  0x([0-9a-f]{16})-0x([0-9a-f]{16}) +(\d+) KiB "
                        r"usable$", mm.group(1), re.M)
    if not any(int(kib) > 0 for _, _, kib in usable):
        raise Fail("memory map without a usable range")
    m = need(log, r"^page allocator: (\d+) of (\d+) pages free",
             "page allocator line")
    if int(m.group(1)) == 0:
        raise Fail("page allocator has no free pages")
    return usable


def check_vmx_ok(log):
    need(log, r"^cpu: GenuineIntel ", "'cpu: GenuineIntel' line")
    for line in ["vmx: EPT yes", "vmx: VPID yes", "vmx: unrestricted guest yes",
                 "vmx: EPT-violation #VE yes",
                 "vmx: INVEPT single-context yes all-context yes",
                 "vmx: EPT 2M pages yes 1G pages yes", "vmx: EPT A/D yes",
                 "vmx: execute-only yes"]:
        need_line(log, line)
    need(log, r"^vmx: VMXON ok \(revision 0x[0-9a-f]+\)$", "'vmx: VMXON ok'")
    need_line(log, "Strata: virtualization ready")
    check_no_vms(log, BOOT_CFG)


def check_no_vms(log, cfg):
    """No VM is configured (the bundle has no @cfg): Strata says so and stops
    with status 1 (README, "Exit status")."""
    need_line(log, "error: bundle: no %s (expected the VM configuration "
              "file in the bundle), so no VMs" % cfg)
    need_line(log, "error: Strata: no VM is configured; stopping")
    need_line(log, "Strata: stopped (status 1)")


def dump_value(log, reg):
    m = need(log, r"^error:   (?:.* )?%s +([0-9a-f]{16})\b" % re.escape(reg),
             "%s in the exception dump" % reg)
    return int(m.group(1), 16)


def check_exception(log, name, vector, error_code=0):
    need(log, r"^error: exception: %s \(vector %d\), error code 0x%x$"
         % (re.escape(name), vector, error_code),
         "exception line for %s vector %d" % (name, vector))
    for reg in ["RIP", "CS", "RFLAGS", "RSP", "CR2", "RAX", "RBX", "RCX",
                "RDX", "RSI", "RDI", "RBP", "R8", "R9", "R10", "R11", "R12",
                "R13", "R14", "R15"]:
        need(log, r"^error:   .*\b%s +[0-9a-f]+\b" % reg, "%s in dump" % reg)
    need_line(log, "error: Strata: CPU halted after exception")
    if "inside the exception handler" in log:
        raise Fail("nested exception in the handler")


# ---- the ELF, to check a reported RIP -----------------------------------

def elf_symbol(name):
    """(address, size) of @name in strata.elf, from nm."""
    out = subprocess.run(["nm", "-S", ELF], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[3] == name:
            return int(f[0], 16), int(f[1], 16)
    raise Fail("symbol %s not in %s" % (name, ELF))


def elf_bytes(addr, n):
    """@n bytes at virtual address @addr of strata.elf's loaded image."""
    with open(ELF, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, _, off, vaddr, _, filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if ptype == 1 and vaddr <= addr and addr + n <= vaddr + filesz:
            return data[off + addr - vaddr:off + addr - vaddr + n]
    raise Fail("address 0x%x not in a loaded segment" % addr)


def check_ud_rip(log):
    rip = dump_value(log, "RIP")
    start, size = elf_symbol("arch_selftest_fault")
    if not start <= rip < start + size:
        raise Fail("RIP 0x%x outside arch_selftest_fault" % rip)
    if elf_bytes(rip, 2) != b"\x0f\x0b":
        raise Fail("RIP 0x%x is not a ud2" % rip)


# ---- the tests ----------------------------------------------------------

BOOT_CFG = "x86-boot-test.cfg"
BOOT_CMDLINE = "loglevel=info config=" + BOOT_CFG
FAULT_CMDLINE = "selftest=fault"
PF_CMDLINE = "selftest=fault x86_fault=pf"
DF_CMDLINE = "selftest=fault x86_fault=df"
NESTED_CMDLINE = "selftest=fault x86_fault=nested"
MOD_CMDLINE = "loglevel=info"


def t_bochs_boot(tmp, isos):
    status, log = run_bochs(tmp, "bochs-boot", isos["boot"])
    check_boot(log, BOOT_CMDLINE)
    check_no_exception(log)
    check_vmx_ok(log)
    check_status(status, 1, "bochs (Shutdown port: no VM configured)")
    return log


def t_bochs_modules(tmp, isos):
    status, log = run_bochs(tmp, "bochs-modules", isos["modules"])
    check_boot(log, MOD_CMDLINE)
    check_no_exception(log)
    need_line(log, "modules: %d" % len(MODULES))
    reserved = need(log, r"^reserved:\n((?:  0x.*\n)+)", "reserved list")
    for i, (_, size, mcmd) in enumerate(MODULES):
        m = need(log, r"^  module %d: 0x([0-9a-f]{16}) %d bytes '%s'$"
                 % (i, size, re.escape(mcmd)),
                 "module %d line with %d bytes '%s'" % (i, size, mcmd))
        base = int(m.group(1), 16)
        if base % 4096:
            raise Fail("module %d at 0x%x is not page aligned" % (i, base))
        if not re.search(r"^  0x%016x-0x%016x .* module$"
                         % (base, base + size - 1), reserved.group(1), re.M):
            raise Fail("module %d not in the reserved list" % i)
    need_line(log, "bundle: %d files" % len(MODULES))
    check_no_vms(log, "strata.cfg")
    check_status(status, 1, "bochs (Shutdown port: no VM configured)")
    return log


def t_bochs_exception(tmp, isos):
    status, log = run_bochs(tmp, "bochs-exception", isos["fault"])
    check_boot(log, FAULT_CMDLINE)
    check_exception(log, "#UD invalid opcode", 6)
    check_ud_rip(log)
    check_status(status, 1, "bochs (Shutdown port)")
    return log


def t_bochs_double_fault(tmp, isos):
    status, log = run_bochs(tmp, "bochs-double-fault", isos["df"])
    check_boot(log, DF_CMDLINE)
    need_line(log, "selftest: x86_fault=df")
    check_exception(log, "#DF double fault", 8)
    if dump_value(log, "RSP") != SELFTEST_UNMAPPED:
        raise Fail("RSP in the #DF dump is not the broken stack 0x%x"
                   % SELFTEST_UNMAPPED)
    check_status(status, 1, "bochs (Shutdown port)")
    return log


def t_bochs_sandy_bridge(tmp, isos):
    status, log = run_bochs(tmp, "bochs-sandy-bridge", isos["boot"],
                            cpu="corei7_sandy_bridge_2600k")
    check_boot(log, BOOT_CMDLINE)
    check_no_exception(log)
    need(log, r"^cpu: GenuineIntel family 0x6 model 0x2a .*2600K", "CPU line")
    for line in ["vmx: EPT yes", "vmx: VPID yes", "vmx: unrestricted guest yes",
                 "vmx: EPT-violation #VE no",
                 "vmx: INVEPT single-context yes all-context yes",
                 "vmx: EPT 2M pages yes 1G pages no", "vmx: EPT A/D no"]:
        need_line(log, line)
    need(log, r"^vmx: VMXON ok \(revision 0x[0-9a-f]+\)$", "'vmx: VMXON ok'")
    check_no_vms(log, BOOT_CFG)
    check_status(status, 1, "bochs (Shutdown port: no VM configured)")
    return log


def t_bochs_no_ept(tmp, isos):
    status, log = run_bochs(tmp, "bochs-no-ept", isos["boot"],
                            cpu="core2_penryn_t9600")
    check_boot(log, BOOT_CMDLINE)
    check_no_exception(log)
    need_line(log, "vmx: EPT no")
    for what in ["EPT (4-level, write-back)", "VPID with INVVPID",
                 "unrestricted guest", "INVEPT single-context"]:
        need_line(log, "error: vmx: missing required feature: " + what)
    if "vmx: VMXON ok" in log or "Strata: virtualization ready" in log:
        raise Fail("VMX enabled on a CPU without EPT")
    need_line(log, "Strata: stopped (status 2)")
    check_status(status, 1, "bochs (Shutdown port)")
    return log


def t_qemu_no_vmx(tmp, isos):
    status, log = run_qemu(tmp, "qemu-no-vmx", isos["boot"])
    check_boot(log, BOOT_CMDLINE)
    need(log, r"^vmx: not present", "'vmx: not present' line")
    need_line(log, "error: vmx: this CPU has no VMX (Intel VT-x); "
              "Strata cannot run guests here")
    need_line(log, "Strata: stopped (status 2)")
    check_no_exception(log)
    if "vmx: VMXON ok" in log:
        raise Fail("VMXON reported without VMX")
    check_status(status, QEMU_EXIT_NO_VMX, "qemu")
    return log


def t_qemu_high_ram(tmp, isos):
    status, log = run_qemu(tmp, "qemu-high-ram", isos["boot"], mem="5G")
    usable = check_boot(log, BOOT_CMDLINE)
    if not any(int(b, 16) >= 1 << 32 for b, _, _ in usable):
        raise Fail("no usable range above 4 GiB in the memory map")
    # The allocator keeps each free range's bitmap at its start: a free
    # range above 4 GiB means that memory was mapped and written.
    need(log, r"^  free range 0x00000001[0-9a-f]{8}-", "free range above 4 GiB")
    check_no_exception(log)
    need_line(log, "Strata: stopped (status 2)")
    check_status(status, QEMU_EXIT_NO_VMX, "qemu")
    return log


def t_qemu_exception(tmp, isos):
    status, log = run_qemu(tmp, "qemu-exception", isos["fault"])
    check_boot(log, FAULT_CMDLINE)
    check_exception(log, "#UD invalid opcode", 6)
    check_ud_rip(log)
    check_status(status, QEMU_EXIT_EXCEPTION, "qemu")
    return log


def t_qemu_page_fault(tmp, isos):
    status, log = run_qemu(tmp, "qemu-page-fault", isos["pf"])
    check_boot(log, PF_CMDLINE)
    need_line(log, "selftest: x86_fault=pf")
    check_exception(log, "#PF page fault", 14)
    if dump_value(log, "CR2") != SELFTEST_UNMAPPED:
        raise Fail("CR2 is not the unmapped address 0x%x" % SELFTEST_UNMAPPED)
    start, size = elf_symbol("arch_selftest_fault")
    rip = dump_value(log, "RIP")
    if not start <= rip < start + size:
        raise Fail("RIP 0x%x outside arch_selftest_fault" % rip)
    check_status(status, QEMU_EXIT_EXCEPTION, "qemu")
    return log


def t_qemu_nested_fault(tmp, isos):
    status, log = run_qemu(tmp, "qemu-nested-fault", isos["nested"])
    check_boot(log, NESTED_CMDLINE)
    need_line(log, "selftest: x86_fault=nested")
    need_line(log, "error: exception: #UD invalid opcode (vector 6), "
              "error code 0x0")
    m = need(log, r"^error: exception: vector 6 at RIP ([0-9a-f]{16}) inside "
             r"the exception handler$", "notice of the nested exception")
    start, size = elf_symbol("x86_exception")
    rip = int(m.group(1), 16)
    if not start <= rip < start + size:
        raise Fail("nested RIP 0x%x outside x86_exception" % rip)
    if log.count("error: exception:") != 2:
        raise Fail("expected exactly two exception lines, got %d"
                   % log.count("error: exception:"))
    if re.search(r"^error:   RIP", log, re.M):
        raise Fail("register dump printed although the handler faulted")
    if log.count("Strata: CPU halted after exception") != 1:
        raise Fail("halt line not printed exactly once")
    check_status(status, QEMU_EXIT_EXCEPTION, "qemu")
    return log


def line_index(log, line):
    lines = log.splitlines()
    if line not in lines:
        raise Fail("missing line '%s'" % line)
    return lines.index(line)


def t_bochs_vmx_exits(tmp, isos):
    elf = build_guest(tmp, "vmxexits")
    raw = os.path.join(tmp, "vmxexits.bin")
    subprocess.run(["objcopy", "-O", "binary", elf, raw], check=True,
                   timeout=60)
    iso = make_iso(tmp, "bochs-vmx-exits", "loglevel=info", vm_modules(
        VMX_CFG, [elf, raw, build_guest(tmp, "paging32")]))
    status, log = run_bochs(tmp, "bochs-vmx-exits", iso)
    check_no_exception(log)
    need(log, r"^vm two: raw kernel at 0x100000-0x[0-9a-f]+, entry 0x100000",
         "VM two loaded as a raw binary")
    for vm in ["one", "two", "halts", "badpt", "storm"]:
        for what in ["WRMSR of MSR 0xc0000080", "WRMSR of MSR 0xc0000082",
                     "WRMSR of MSR 0x277"]:
            need_line(log, "vm %s: %s refused: #GP injected" % (vm, what))
        need_line(log, "vm %s: string port I/O on port 0x3f8 with memory "
                  "that is not RAM: #GP injected" % vm)
        need_line(log, "[%s] vmxexits: rep outsb" % vm)
        need_line(log, "[%s] vmxexits: backwards" % vm)
        need(log, r"^vm %s: MOV to CR4 of 0x[0-9a-f]+ refused: #GP injected$"
             % vm, "refused CR4 write of %s" % vm)
        need(log, r"^vm %s: VMX instruction at RIP 0x[0-9a-f]+ refused: "
             r"#UD injected$" % vm, "refused VMXOFF of %s" % vm)
        need_line(log, "[%s] vmxexits: 7 exceptions injected" % vm)
        need_line(log, "[%s] vmxexits: tick 6" % vm)
        if re.search(r"^\[%s\] FAIL" % vm, log, re.M):
            raise Fail("VM %s reported a failed check" % vm)
    for vm in ["one", "two"]:
        need(log, r"^\[%s\] vmxexits: RESULT: PASS \(\d+ checks\)$" % vm,
             "PASS result of VM %s" % vm)
        need_line(log, "vm %s: ended: powered off (status 0)" % vm)
    # Time slices: each VM ticked before the other one finished.
    for a, b in [("one", "two"), ("two", "one")]:
        if line_index(log, "[%s] vmxexits: tick 1" % a) > \
                line_index(log, "[%s] vmxexits: tick 6" % b):
            raise Fail("VM %s started ticking after %s finished: "
                       "no time slicing" % (a, b))
    need_line(log, "[halts] vmxexits: RESULT: PASS; now HLT with "
              "interrupts off")
    need(log, r"^vm halts: ended: stopped: vCPU 0 halted with interrupts off "
         r"at RIP 0x[0-9a-f]+: nothing can wake it$", "stop of VM halts")
    if "[halts] vmxexits: HLT returned" in log:
        raise Fail("HLT with interrupts off returned")
    need_line(log, "[badpt] vmxexits: RESULT: PASS; now page tables in "
              "unbacked memory")
    need_line(log, "vm badpt: ended: stopped: guest page tables in unbacked "
              "memory at GPA 0xd0000000")
    if "[badpt] vmxexits: the walk through unbacked memory returned" in log:
        raise Fail("an access through unbacked page tables completed")
    for mode in ["32-bit paging, 4 MiB pages", "32-bit paging, 4 KiB pages",
                 "PAE paging, 2 MiB pages"]:
        need_line(log, "[paging32] paging32: %s: device reached at "
                  "0x80000000" % mode)
    need(log, r"^\[paging32\] paging32: RESULT: PASS \(\d+ checks\)$",
         "PASS result of VM paging32")
    need_line(log, "vm paging32: ended: powered off (status 0)")
    need_line(log, "[storm] vmxexits: RESULT: PASS; now an exception storm")
    need_line(log, "vm storm: ended: stopped: exception storm: 10000 exits "
              "in a row each injected an exception")
    if "[storm] vmxexits: the storm ended" in log:
        raise Fail("the exception storm ended by itself")
    need_line(log, "Strata: all 6 VMs ended: 3 ok, 3 failed")
    check_status(status, 1, "bochs (Shutdown port)")
    return log


def t_bochs_entry_failure(tmp, isos):
    iso = make_iso(tmp, "bochs-entry-failure",
                   "loglevel=info x86_vmx_break=state:badstate "
                   "x86_vmx_break=control:badctl",
                   vm_modules(BREAK_CFG, [build_guest(tmp, "vmxexits")]))
    status, log = run_bochs(tmp, "bochs-entry-failure", iso)
    check_no_exception(log)
    need(log, r"^vm badstate: ended: stopped: VM entry failed: invalid "
         r"guest state \(reason 33, qual \d+, RIP 0x100000\)$",
         "invalid-guest-state stop of VM badstate")
    need(log, r"^vm badctl: ended: stopped: VM entry failed: VM-instruction "
         r"error 7 \(vCPU 0, RIP 0x100000\)$",
         "invalid-control stop of VM badctl")
    for vm in ["badstate", "badctl"]:
        if re.search(r"^\[%s\]" % vm, log, re.M):
            raise Fail("VM %s ran although its entry failed" % vm)
    need(log, r"^\[good\] vmxexits: RESULT: PASS \(\d+ checks\)$",
         "PASS result of VM good")
    need_line(log, "vm good: ended: powered off (status 0)")
    need_line(log, "Strata: all 3 VMs ended: 1 ok, 2 failed")
    check_status(status, 1, "bochs (Shutdown port)")
    return log


def t_bochs_ve_refused(tmp, isos):
    iso = make_iso(tmp, "bochs-ve-refused", "loglevel=info",
                   vm_modules(VE_CFG, [build_guest(tmp, "vmxexits")]))
    status, log = run_bochs(tmp, "bochs-ve-refused", iso,
                            cpu="corei7_sandy_bridge_2600k")
    check_no_exception(log)
    need_line(log, "vmx: EPT-violation #VE no")
    need_line(log, "error: vm wantsve: ve = on, but this CPU has no "
              "EPT-violation #VE")
    if re.search(r"cannot be built \(-?\d+\)", log):
        raise Fail("a raw errno line for VM wantsve")
    if re.search(r"^\[wantsve\]", log, re.M):
        raise Fail("the refused VM ran")
    need(log, r"^\[other\] vmxexits: RESULT: PASS \(\d+ checks\)$",
         "PASS result of VM other")
    need_line(log, "vm other: ended: powered off (status 0)")
    need_line(log, "error: vm wantsve: never ran: it asks for a feature this "
              "CPU does not have")
    need_line(log, "Strata: all 2 VMs ended: 1 ok, 1 failed (1 never ran)")
    check_status(status, 1, "bochs (Shutdown port: a VM never ran)")
    return log


DEBUG_CFG = """# RFLAGS.RF and the #DB / DR6 state across exits
[vm dbtrap]
kernel = dbtrap.elf
memory = 8M
"""
DEBUG_CASES = ["rf-inject", "rf-cleared", "ss-emulated", "gd-movss",
               "wp-no-bs", "movss-int1", "movss-int3", "bp-emulated"]


def t_bochs_debug_state(tmp, isos):
    iso = make_iso(tmp, "bochs-debug-state", "loglevel=info",
                   vm_modules(DEBUG_CFG, [build_guest(tmp, "dbtrap")]))
    status, log = run_bochs(tmp, "bochs-debug-state", iso)
    check_no_exception(log)
    failed = [c for c in DEBUG_CASES
              if "[dbtrap] dbtrap: case %s: pass" % c not in log.splitlines()]
    if failed:
        fails = re.findall(r"^\[dbtrap\] FAIL: .*$", log, re.M)
        raise Fail("cases failed: %s (%s)" % (", ".join(failed),
                                              " | ".join(fails[:8])))
    need_line(log, "[dbtrap] dbtrap: failed mask 0x0 of 0x%x"
              % ((1 << len(DEBUG_CASES)) - 1))
    need(log, r"^\[dbtrap\] dbtrap: RESULT: PASS \(%d checks\)$"
         % len(DEBUG_CASES), "PASS result of VM dbtrap")
    need_line(log, "vm dbtrap: ended: powered off (status 0)")
    need_line(log, "Strata: all 1 VMs ended: 1 ok, 0 failed")
    need_line(log, "Strata: stopped (status 0)")
    check_status(status, 0, "bochs (all VMs ended well)")
    return log


TESTS = [
    ("x86/bochs-boot", t_bochs_boot),
    ("x86/bochs-modules", t_bochs_modules),
    ("x86/bochs-exception", t_bochs_exception),
    ("x86/bochs-double-fault", t_bochs_double_fault),
    ("x86/bochs-sandy-bridge", t_bochs_sandy_bridge),
    ("x86/bochs-no-ept", t_bochs_no_ept),
    ("x86/qemu-no-vmx", t_qemu_no_vmx),
    ("x86/qemu-high-ram", t_qemu_high_ram),
    ("x86/qemu-exception", t_qemu_exception),
    ("x86/qemu-page-fault", t_qemu_page_fault),
    ("x86/qemu-nested-fault", t_qemu_nested_fault),
    ("x86/bochs-vmx-exits", t_bochs_vmx_exits),
    ("x86/bochs-entry-failure", t_bochs_entry_failure),
    ("x86/bochs-ve-refused", t_bochs_ve_refused),
    ("x86/bochs-debug-state", t_bochs_debug_state),
]

ISOS = {
    "boot": (BOOT_CMDLINE, ()),
    "modules": (MOD_CMDLINE, module_files(MODULES)),
    "fault": (FAULT_CMDLINE, ()),
    "pf": (PF_CMDLINE, ()),
    "df": (DF_CMDLINE, ()),
    "nested": (NESTED_CMDLINE, ()),
}


def run_test(name, fn, tmp, isos):
    try:
        fn(tmp, isos)
        return "PASS: %s" % name
    except Fail as e:
        log = read_log(os.path.join(tmp, name.split("/")[1] + ".serial"))
        return "FAIL: %s: %s (serial: %s)" % (name, e, tail(log))
    except Exception as e:  # a harness bug must still fail the test
        return "FAIL: %s: harness error %r" % (name, e)


def main():
    if not os.path.exists(ISO) or not os.path.exists(ELF):
        for name, _ in TESTS:
            print("FAIL: %s: %s or %s missing; run 'make TEST=1 ARCH=x86_64'"
                  % (name, ISO, ELF))
        return 1
    with private_dir("x86-boot-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(2) as ex:
        futs = {k: ex.submit(make_iso, tmp, k, c, m)
                for k, (c, m) in ISOS.items()}
        isos, errors = {}, []
        for k, f in futs.items():
            try:
                isos[k] = f.result()
            except Exception as e:
                errors.append("%s: %s" % (k, e))
        if errors:
            for name, _ in TESTS:
                print("FAIL: %s: cannot make ISOs: %s"
                      % (name, "; ".join(errors)))
            return 1
        results = [ex.submit(run_test, n, fn, tmp, isos) for n, fn in TESTS]
        lines = [r.result() for r in results]
    for line in lines:
        print(line, flush=True)
    return 1 if any(l.startswith("FAIL") for l in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
