#!/usr/bin/env python3
"""Compile the C glue with one Quectel family's vendor flags, link it with the
Rust archive into a dummy image and report sizes (called by build.sh).

1. genhdr/qstrdefs.generated.h: the MP_QSTR_ names the glue uses (found by
   preprocessing it with -DNO_QSTR, as MicroPython's makeqstrdefs does) plus
   py/qstrdefs.h, through MicroPython's own makeqstrdata.py.
2. obj/<module>.o: c_glue/<module>/mod*.c with the vendor flags and -Werror,
   against ports/quectel/mpconfig/ (a minimal bare-metal configuration).
3. Link check: a partial link of an entry object (referencing every module
   object named by MP_REGISTER_MODULE) + the glue + the Rust archive lists the
   undefined symbols. Each must come from newlib's libc/libgcc (the vendor
   toolchain's) or be declared in MicroPython's headers (py/, extmod/,
   shared/: the runtime the vendor port links); anything else fails. The
   runtime symbols are then stubbed and everything is linked with
   --gc-sections into image.elf (entry = the module objects): ld fails on any
   undefined or duplicate symbol; a glue/Rust global defined on both sides
   fails too.
4. Size table from image.map: what each input object contributes after
   --gc-sections; one row per glue module for the QSTRs it adds to the
   pool; one row per frozen Python module of ours (micropython/modules/*.py)
   compiled as freezing builds it (mpy-cross -O3, mpy-tool.py -f, the
   family's C flags): bytecode, structures and its own QSTRs. Every frozen
   module but huaweicloud.py is optional (OTA, gateway, ...): listed below
   the modules' total, then a total with all of them.
   Panic/formatting check: no core::fmt or panic symbol in the image except
   the project's panic handler (a spin loop, <= 32 bytes).
"""
import argparse
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GLUE = os.environ.get("QPY_USER_C_MODULES") or os.path.join(ROOT, "c_glue")
CC = "arm-none-eabi-gcc"
NM = "arm-none-eabi-nm"
# Native parts of optional features: (glue module, config macro, the frozen
# module that needs it). Off in the table's base, measured on top as an
# optional row.
OPTIONAL_NATIVE = [("huaweicloud", "MICROPY_PY_HUAWEICLOUD_OTA", "huaweicloud_ota")]
FLASH_GOAL = 42555         # C + Rust + frozen bytecode, EC600U flags (issues 10, 12)
RAM_GOAL = 512              # "a few hundred bytes" of .data/.bss of their own
WARN_FLAGS = ["-Wall", "-Wpointer-arith", "-Wdouble-promotion", "-Wfloat-conversion", "-Werror"]


class CheckFailed(Exception):
    pass


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        raise CheckFailed("command failed: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
    return p.stdout


def nm_symbols(path, *opts):
    out = run([NM, "--no-sort", *opts, path])
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[-2]) == 1:
            syms.append((parts[-2], parts[-1]))
    return syms


def glue_modules():
    mods = []
    only = os.environ.get("QPY_MODULES", "").split()
    for path in sorted(glob.glob(os.path.join(GLUE, "*", "mod*.c"))):
        if only and os.path.basename(os.path.dirname(path)) not in only:
            continue
        text = open(path).read()
        regs = re.findall(r"MP_REGISTER_MODULE\(\s*MP_QSTR_(\w+)\s*,\s*(\w+)\s*\)", text)
        if not regs:
            raise CheckFailed("%s: no MP_REGISTER_MODULE" % path)
        mods.append((os.path.basename(os.path.dirname(path)), path, regs))
    if not mods:
        raise CheckFailed("no c_glue/*/mod*.c")
    return mods


def glue_qstr_names(cflags, mods):
    """{module: the MP_QSTR_ names its glue uses with these flags}."""
    per_module = {}
    for mod, path, _ in mods:
        pre = run([CC, "-E", "-DNO_QSTR", *cflags, path])
        per_module[mod] = set(re.findall(r"\bMP_QSTR_(\w+)", pre))
    return per_module


def make_genhdr(args, cflags, mods, core):
    gen = os.path.join(args.out, "genhdr")
    os.makedirs(gen, exist_ok=True)
    open(os.path.join(gen, "root_pointers.h"), "w").close()
    per_module = glue_qstr_names(cflags, mods)
    names = set().union(*per_module.values())
    # the core names too: frozen modules (below) refer to them as MP_QSTR_*
    collected = "".join("Q(%s)\n" % n for n in sorted(names | core))
    core = open(os.path.join(args.src, "py", "qstrdefs.h")).read()
    # as py/py.mk: protect Q(...) lines from cpp, preprocess, unprotect
    text = re.sub(r"^(Q\(.*\))$", r'"\1"', core + collected, flags=re.M)
    pre = subprocess.run([CC, "-E", *cflags, "-"], input=text, stdout=subprocess.PIPE, text=True, check=True).stdout
    pre = re.sub(r'^"(Q\(.*\))"$', r"\1", pre, flags=re.M)
    pre_path = os.path.join(gen, "qstrdefs.preprocessed.h")
    with open(pre_path, "w") as f:
        f.write(pre)
    hdr = run([sys.executable, os.path.join(args.src, "py", "makeqstrdata.py"), pre_path])
    with open(os.path.join(gen, "qstrdefs.generated.h"), "w") as f:
        f.write(hdr)
    return per_module


def core_qstrs(args):
    """The names MicroPython's py/ and extmod/ already put in the pool."""
    core = set()
    pat = re.compile(r"\bMP_QSTR_(\w+)|^Q\((\w+)\)", re.M)
    for sub in ("py", "extmod"):
        for path in glob.glob(os.path.join(args.src, sub, "*.[ch]")):
            with open(path, errors="replace") as f:
                core.update(a or b for a, b in pat.findall(f.read()))
    return core


def own_qstr_rows(per_module, core):
    """Flash of the QSTRs each glue module adds to the firmware's pool: names
    MicroPython's py/ and extmod/ do not already use, len + 7 bytes each
    (chars, NUL, length and hash bytes, the pool's pointer)."""
    rows = []
    for mod in sorted(per_module):
        own = sorted(per_module[mod] - core)
        n = sum(len(q) + 7 for q in own)
        rows.append(("%s glue QSTRs (%d own names)" % (mod, len(own)), dict(text=0, rodata=n, data=0, bss=0)))
    return rows


def header_text(src):
    chunks = []
    for sub in ("py", "extmod", "shared"):
        for path in glob.glob(os.path.join(src, sub, "**", "*.h"), recursive=True):
            with open(path, errors="replace") as f:
                chunks.append(f.read())
    return "\n".join(chunks)


def lib_path(cflags, name):
    return run([CC, *cflags, "-print-file-name=" + name]).strip()


def parse_map(map_path):
    """{input file: {"text","rodata","data","bss"}} after --gc-sections."""
    kinds = (("text", (".text", ".ARM.exidx", ".glue_7", ".vfp11_veneer", ".v4_bx")),
             ("rodata", (".rodata",)),
             ("data", (".data",)),
             ("bss", (".bss", "COMMON")))
    sizes = {}
    lines = open(map_path).read().split("Linker script and memory map", 1)[1].splitlines()
    pending = None
    for line in lines:
        m = re.match(r"^ (\S+)\s*$", line)
        if m and not line.startswith("  "):
            pending = m.group(1)
            continue
        m = re.match(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if not m:
            pending = None
            continue
        name = m.group(1) or pending
        pending = None
        if not name or name.startswith("*"):
            continue
        size = int(m.group(3), 16)
        for kind, prefixes in kinds:
            if name.startswith(prefixes):
                d = sizes.setdefault(m.group(4).strip(), dict(text=0, rodata=0, data=0, bss=0))
                d[kind] += size
                break
    return sizes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rust-lib", required=True)
    ap.add_argument("--rust-target", required=True)
    ap.add_argument("--rust-flags", default="")
    ap.add_argument("--cflags", required=True)
    ap.add_argument("--frozen", default=os.path.join(ROOT, "micropython", "modules"),
                    help="folder of our frozen Python modules (mpy-cross sizes in the table)")
    args = ap.parse_args()

    vendor = args.cflags.split()
    cflags = vendor + ["-std=gnu99", "-Os", "-DNDEBUG", "-ffunction-sections", "-fdata-sections", "-fno-common",
                       "-I" + os.path.join(HERE, "mpconfig"), "-I" + args.src, "-I" + args.out, "-I" + GLUE]
    # The table's base is the two modules without their optional native
    # parts (each a config macro, default 1 in the glue); the QSTR header is
    # made with them on so both builds compile against it.
    full_cflags = cflags + ["-D%s=1" % macro for _, macro, _ in OPTIONAL_NATIVE]
    cflags = cflags + ["-D%s=0" % macro for _, macro, _ in OPTIONAL_NATIVE]
    mods = glue_modules()
    core = core_qstrs(args)
    per_module_full = make_genhdr(args, full_cflags, mods, core)
    per_module = glue_qstr_names(cflags, mods)

    objdir = os.path.join(args.out, "obj")
    lc = os.path.join(args.out, "linkcheck")
    os.makedirs(objdir, exist_ok=True)
    os.makedirs(lc, exist_ok=True)
    glue_objs = []
    for mod, path, _ in mods:
        obj = os.path.join(objdir, mod + ".o")
        run([CC, *cflags, *WARN_FLAGS, "-c", path, "-o", obj])
        glue_objs.append((mod, obj))

    # entry: keeps every registered module object (and what it reaches)
    entry_c = os.path.join(lc, "entry.c")
    with open(entry_c, "w") as f:
        f.write("// generated by ports/quectel/linkcheck.py\n")
        syms = [sym for _, _, regs in mods for _, sym in regs]
        for sym in syms:
            f.write("extern const char %s[];\n" % sym)
        f.write("const void *const qpy_linkcheck_modules[] = {\n")
        for sym in syms:
            f.write("    %s,\n" % sym)
        f.write("};\nconst void *const *qpy_linkcheck_entry(void);\n")
        f.write("const void *const *qpy_linkcheck_entry(void) {\n    return qpy_linkcheck_modules;\n}\n")
    entry_o = os.path.join(lc, "entry.o")
    run([CC, *cflags, *WARN_FLAGS, "-c", entry_c, "-o", entry_o])

    objs = [entry_o] + [o for _, o in glue_objs]
    libc, libgcc = lib_path(vendor, "libc.a"), lib_path(vendor, "libgcc.a")
    # newlib's system-call stubs (the vendor SDK has real ones): only pulled
    # when the glue uses stdio-like libc functions (reported below)
    libnosys = lib_path(vendor, "libnosys.a")
    ldflags = vendor + ["-nostdlib", "-Wl,-z,noexecstack"]

    # duplicates between the glue and the Rust archive (strong or weak)
    glue_defs = {}
    for mod, o in glue_objs:
        for t, s in nm_symbols(o, "--defined-only", "--extern-only"):
            if s in glue_defs:
                raise CheckFailed("duplicate symbol %s in %s and %s" % (s, glue_defs[s], mod))
            glue_defs[s] = mod
    rust_defs = {s for t, s in nm_symbols(args.rust_lib, "--defined-only", "--extern-only")}
    both = sorted(set(glue_defs) & rust_defs)
    if both:
        raise CheckFailed("defined by the glue and by the Rust archive: %s" % ", ".join(both))

    # undefined symbols after pulling what the glue needs from the archive
    # (also with each optional native part on: the stubs must cover both)
    variants = {"": objs}
    for mod, macro, _ in OPTIONAL_NATIVE:
        path = next(p for m, p, _ in mods if m == mod)
        obj = os.path.join(objdir, "%s_%s.o" % (mod, macro))
        flags_on = [f for f in cflags if f != "-D%s=0" % macro] + ["-D%s=1" % macro]
        run([CC, *flags_on, *WARN_FLAGS, "-c", path, "-o", obj])
        base_obj = dict(glue_objs)[mod]
        variants[macro] = [obj if o == base_obj else o for o in objs]
    undef = set()
    for name, objs_ in variants.items():
        partial = os.path.join(lc, "partial%s.o" % (name and "_" + name))
        run([CC, *ldflags, "-r", "-Wl,-u,qpy_linkcheck_entry", "-o", partial, *objs_, args.rust_lib])
        undef |= {s for t, s in nm_symbols(partial, "--undefined-only")}
    undef = sorted(undef)
    provided = {s for lib in (libc, libgcc)
                for t, s in nm_symbols(lib, "--defined-only", "--extern-only")}
    headers = header_text(args.src)
    runtime, from_libs, unknown = [], [], []
    for s in undef:
        if s in provided:
            from_libs.append(s)
        elif re.search(r"\b%s\b" % re.escape(s), headers):
            runtime.append(s)
        else:
            unknown.append(s)
    if unknown:
        raise CheckFailed("undefined symbols that neither libc/libgcc nor the MicroPython "
                          "runtime provide: %s" % ", ".join(unknown))

    # stubs for the MicroPython runtime, then the real link
    stubs_s = os.path.join(lc, "runtime_stubs.S")
    with open(stubs_s, "w") as f:
        f.write("@ generated by ports/quectel/linkcheck.py: stand-ins for the MicroPython\n"
                "@ runtime the vendor port links (never run; excluded from the sizes)\n"
                "    .syntax unified\n    .thumb\n")
        for s in runtime:
            f.write("    .section .text.stub.%s,\"ax\",%%progbits\n    .globl %s\n"
                    "    .type %s, %%function\n    .thumb_func\n%s:\n    bx lr\n" % (s, s, s, s))
    stubs_o = os.path.join(lc, "runtime_stubs.o")
    run([CC, *vendor, "-c", stubs_s, "-o", stubs_o])
    def link(name, objs_):
        image_ = os.path.join(lc, name + ".elf")
        map_ = os.path.join(lc, name + ".map")
        run([CC, *ldflags, "-Wl,--gc-sections", "-Wl,-e,qpy_linkcheck_entry", "-Wl,--fatal-warnings",
             "-Wl,--no-warn-rwx-segments", "-Wl,-Map=" + map_, "-o", image_, *objs_, stubs_o,
             args.rust_lib, "-Wl,--start-group", libc, libgcc, libnosys, "-Wl,--end-group"])
        return image_, parse_map(map_)

    def ours(sizes_, objs_):
        """Flash of the glue objects and the Rust archive in one link."""
        n = 0
        for path, d in sizes_.items():
            m = re.match(r"(.*)\((.*)\)$", path)
            if path in objs_ or (m and os.path.abspath(m.group(1)) == os.path.abspath(args.rust_lib)):
                n += d["text"] + d["rodata"] + d["data"]
        return n

    image, sizes = link("image", objs)

    # each optional native part: the glue module rebuilt with it on, linked
    # again; the difference (C + Rust + its QSTRs) is its row
    native_rows = {}
    for mod, macro, frozen in OPTIONAL_NATIVE:
        objs_on = variants[macro]
        _, sizes_on = link("image_" + macro, objs_on)
        qstrs = sum(len(q) + 7 for q in per_module_full[mod] - per_module[mod] - core)
        flash = ours(sizes_on, objs_on) - ours(sizes, objs) + qstrs
        native_rows[frozen] = ("%s native part (%s=1: C + Rust + QSTRs)" % (frozen, macro),
                               dict(text=0, rodata=flash, data=0, bss=0))
    rows = []
    for mod, o in glue_objs:
        rows.append(("%s glue (C)" % mod, sizes.get(o, dict(text=0, rodata=0, data=0, bss=0)), True))
    rust = {}
    extern = {}
    for path, d in sizes.items():
        m = re.match(r"(.*)\((.*)\)$", path)
        if m and os.path.abspath(m.group(1)) == os.path.abspath(args.rust_lib):
            member = m.group(2)
            label = ("Rust core (qpy_rust: every module's core)" if member.startswith("qpy_rust")
                     else "Rust compiler_builtins" if member.startswith("compiler_builtins")
                     else "Rust " + member)
            acc = rust.setdefault(label, dict(text=0, rodata=0, data=0, bss=0))
        elif m and os.path.basename(m.group(1)) in ("libc.a", "libgcc.a", "libnosys.a"):
            acc = extern.setdefault(os.path.basename(m.group(1)) + " (vendor toolchain)",
                                    dict(text=0, rodata=0, data=0, bss=0))
        else:
            continue
        for k in acc:
            acc[k] += d[k]
    for label in sorted(rust):
        rows.append((label, rust[label], True))
    for label in sorted(extern):
        rows.append((label, extern[label], False))

    for label, d in own_qstr_rows(per_module, core):
        rows.append((label, d, True))
    # the frozen huaweicloud class is part of the two modules; the other
    # frozen modules (OTA, gateway, ...) are optional: a port leaves out
    # what it does not use (one line each in micropython/manifest.py)
    optional = []
    for label, d in frozen_sizes(args, cflags):
        if label.startswith("huaweicloud frozen"):
            rows.append((label, d, True))
        else:
            optional.append((label, d, True))
            native = native_rows.get(label.split()[0])
            if native:
                optional.append((native[0], native[1], True))

    def add(rows_):
        t = dict(text=0, rodata=0, data=0, bss=0)
        for _, d, ours in rows_:
            if ours:
                for k in t:
                    t[k] += d[k]
        return t
    total = add(rows)
    with_optional = add(rows + optional)

    # panic / formatting machinery
    sized = run([NM, "-C", "-S", image])
    suspicious = []
    for line in sized.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and re.search(r"core::fmt|panic|Formatter|unwind|eh_personality|Debug|Display", parts[3]):
            suspicious.append((int(parts[1], 16), parts[3]))
    allowed = [(n, s) for n, s in suspicious if s == "core::panicking::panic_fmt" and n <= 32]
    bad = [x for x in suspicious if x not in allowed]
    exidx = "ARM.exidx" in run(["arm-none-eabi-objdump", "-h", image])

    fmt = "  %-62s %7s %7s %7s %7s %8s %6s"
    lines = []
    lines.append("%s: Rust %s [%s], C %s" % (args.family.upper(), args.rust_target,
                                              args.rust_flags or "-", args.cflags))
    lines.append(fmt % ("object (after --gc-sections)", ".text", ".rodata", ".data", ".bss", "flash", "RAM"))
    for label, d, ours in rows:
        lines.append(fmt % (label + ("" if ours else " *"), d["text"], d["rodata"], d["data"], d["bss"],
                            d["text"] + d["rodata"] + d["data"], d["data"] + d["bss"]))
    flash = total["text"] + total["rodata"] + total["data"]
    ram = total["data"] + total["bss"]
    lines.append(fmt % ("TOTAL umqtt + huaweicloud (glue+Rust+frozen)", total["text"], total["rodata"],
                        total["data"], total["bss"], flash, ram))
    for label, d, _ in optional:
        lines.append(fmt % ("  optional: " + label, d["text"], d["rodata"], d["data"], d["bss"],
                            d["text"] + d["rodata"] + d["data"], d["data"] + d["bss"]))
    if optional:
        t = with_optional
        lines.append(fmt % ("TOTAL with every optional module", t["text"], t["rodata"], t["data"], t["bss"],
                            t["text"] + t["rodata"] + t["data"], t["data"] + t["bss"]))
    lines.append("  * not counted: the vendor toolchain's libc/libgcc (already in every firmware)")
    goal = ("flash %d B = %.1f KB (goal <= %d B: %s), RAM %d B (goal < %d B: %s)"
            % (flash, flash / 1024, FLASH_GOAL, "met" if flash <= FLASH_GOAL else "NOT MET", ram, RAM_GOAL,
               "met" if ram < RAM_GOAL else "NOT MET"))
    lines.append("  " + goal)
    lines.append("  link check: ok (no undefined symbols beyond %d MicroPython runtime symbols, "
                 "%d from libc/libgcc; no duplicates)" % (len(runtime), len(from_libs)))
    lines.append("  libc/libgcc symbols used: %s" % (", ".join(from_libs) or "none"))
    lines.append("  panic/fmt symbols in the image: %s; .ARM.exidx: %s" % (
        ", ".join("%s (%d B)" % (s, n) for n, s in suspicious) or "none",
        "present" if exidx else "absent"))
    report = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "sizes.txt"), "w") as f:
        f.write(report)
    sys.stdout.write(report)
    if bad:
        raise CheckFailed("panic/formatting machinery in the image: %s"
                          % ", ".join("%s (%d B)" % (s, n) for n, s in bad))


def frozen_sizes(args, cflags):
    """(label, sizes) of each frozen module of ours, as freezing builds it:
    mpy-cross -O3 (as micropython/manifest.py), then MicroPython's
    mpy-tool.py -f against this build's QSTRs (MicroPython's and the glue's,
    so only the module's own new names go in its QSTR pool), compiled with
    the family's flags: bytecode, raw-code structures, constants and its
    QSTRs, exactly."""
    out = []
    mpy_cross = os.path.join(args.src, "mpy-cross", "build", "mpy-cross")
    qstrs = os.path.join(args.out, "genhdr", "qstrdefs.preprocessed.h")
    for path in sorted(glob.glob(os.path.join(args.frozen, "*.py"))):
        if not os.path.exists(mpy_cross):
            run(["make", "-C", os.path.join(args.src, "mpy-cross"), "-j2"])
        name = os.path.basename(path)[:-3]
        mpy = os.path.join(args.out, name + ".mpy")
        run([mpy_cross, "-O3", "-o", mpy, "-s", name + ".py", path])
        frozen_c = os.path.join(args.out, "frozen_%s.c" % name)
        with open(frozen_c, "w") as f:
            f.write(run([sys.executable, os.path.join(args.src, "tools", "mpy-tool.py"), "-f", "-q", qstrs, mpy]))
        obj = os.path.join(args.out, "frozen_%s.o" % name)
        run([CC, *cflags, "-DMICROPY_PERSISTENT_CODE_LOAD=1", "-DMICROPY_MODULE_FROZEN_MPY=1",
             "-c", frozen_c, "-o", obj])
        d = dict(text=0, rodata=0, data=0, bss=0)
        for line in run(["arm-none-eabi-size", "-A", obj]).splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                for kind, prefix in (("text", ".text"), ("rodata", ".rodata"), ("data", ".data"), ("bss", ".bss")):
                    if parts[0].startswith(prefix):
                        d[kind] += int(parts[1])
        pool = re.search(r"mp_qstr_frozen_const_pool = \{[^}]*?(\d+),\s*// used entries", open(frozen_c).read())
        out.append(("%s frozen (bytecode + %s own QSTRs)" % (name, pool.group(1) if pool else "?"), d))
    return out


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        sys.exit("linkcheck: FAILED: %s" % e)
