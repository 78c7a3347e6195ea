#!/usr/bin/env bash
# The unix firmware under AddressSanitizer + UndefinedBehaviorSanitizer, out of
# tree in build/unix-asan/obj -> build/unix-asan/micropython. Same options as
# build.sh (whose make_args this mirrors); the Rust staticlib is the normal
# release one (Rust is checked by the fuzz targets, which run under ASan).
# Threading: GIL off (build.sh nogil, the unix port's default) unless
# QPY_ASAN_GIL=1 (MICROPY_PY_THREAD_GIL=1, as build.sh gil / QuecPython).
# Run the suites with it, e.g.:
#   ASAN_OPTIONS=detect_leaks=0 python3 tests/run_firmware_tests.py build/unix-asan/micropython
# (detect_leaks=0: MicroPython's GC heap is one malloc'd block freed at exit;
# LeakSanitizer only reports noise from the port's own atexit path.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src="$root/build/micropython-src"
obj="$root/build/unix-asan/obj"
out="$root/build/unix-asan/micropython"
jobs="${JOBS:-$(nproc)}"
rust_lib="${QPY_RUST_LIB:-$root/target/release/libqpy_rust.a}"

[[ -d "$src" && -f "$rust_lib" ]] || { echo "build-asan.sh: run 'make firmware' first" >&2; exit 1; }
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
gil="${QPY_ASAN_GIL:-0}"
make -C "$src/mpy-cross" -j"$jobs" -s
# MICROPY_GCREGS_SETJMP: the conservative GC scans registers via setjmp rather
# than the port's asm helper, which ASan handles better.
# MICROPY_NLR_SETJMP: exceptions unwind through setjmp/longjmp, which ASan
# intercepts; the port's hand-written x86-64 nlr leaves stale stack poisoning
# behind and the first raised exception then crashes the VM (seen).
# STRIP=true: keep symbols, so sanitizer reports name functions and lines.
make_args=(
    VARIANT=standard BUILD="$obj" USER_C_MODULES="$root/c_glue"
    FROZEN_MANIFEST="$root/micropython/manifest.py" MICROPY_PY_BTREE=0
    MICROPY_SSL_AXTLS=0 MICROPY_SSL_MBEDTLS=1 MICROPY_PY_THREAD_GIL="$gil"
    QPY_RUST_LIB="$rust_lib"
    COPT="-O1 -g" STRIP=true
    CFLAGS_EXTRA="$san -DMICROPY_GCREGS_SETJMP=1 -DMICROPY_NLR_SETJMP=1 -Wno-error=clobbered"
    LDFLAGS_EXTRA="$san"
)
# As in build.sh: a changed option or fetched tree (a new MicroPython pin)
# wipes the object dir; stale objects give odd qstr errors.
config="$(printf '%s\n' "${make_args[@]}" "$(cat "$src/.qpy-fetch-stamp")" | sha256sum | cut -d' ' -f1)"
if [[ -d "$obj" && "$(cat "$obj/.qpy-config" 2>/dev/null)" != "$config" ]]; then
    echo "build-asan.sh: build options or source changed: wiping $obj" >&2
    rm -rf "$obj"
fi
mkdir -p "$obj"
echo "$config" > "$obj/.qpy-config"
# makemanifest.py re-freezes only when a .py changed, but the frozen QSTRs
# depend on the glue's: after a glue change a name both use would be declared
# twice (redeclaration of enumerator MP_QSTR_...). Re-freeze then.
if [[ -f "$obj/frozen_content.c" && -n "$(find -L "$root/c_glue" -name '*.[ch]' -newer "$obj/frozen_content.c" -print -quit)" ]]; then
    rm -f "$obj/frozen_content.c"
fi
make -C "$src/ports/unix" -j"$jobs" "${make_args[@]}" 2>&1 | tee "$obj/build.log"
# MicroPython's own py/ sources warn about variables clobbered by longjmp with
# setjmp-based nlr (hence -Wno-error=clobbered); our glue must not.
if grep -E "c_glue/.*(clobbered|warning)" "$obj/build.log"; then
    echo "build-asan.sh: warnings in the project's C glue" >&2
    exit 1
fi
cp "$obj/micropython" "$out"
echo "build-asan.sh: $out"
