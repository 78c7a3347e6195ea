#!/usr/bin/env bash
# Build an ARMv7-A MicroPython firmware for qemu-system-arm (MicroPython's
# ports/qemu, BOARD=SABRELITE: i.MX6, Cortex-A9, ARM mode, soft float,
# -mno-unaligned-access) with our user C modules and the Rust staticlib built
# for armv7a-none-eabi. Result: build/qemu/firmware.elf.
#
# Layout (all generated):
#   build/qemu/port/          private copy of the fetched ports/qemu with
#                             ports/qemu/patches/*.patch applied (the fetched
#                             tree itself is not modified)
#   build/qemu/obj/           MicroPython's BUILD dir
#   build/qemu/libqpy_rust.a  the Rust archive, .ARM.exidx*/bitcode stripped
#   target/arm/...            cargo's target dirs for the ARM builds
#
# Environment overrides: JOBS (default nproc), RUST_TOOLCHAIN (default nightly),
# QPY_USER_C_MODULES (default <repo>/c_glue), QPY_MODULES (e.g. "umqtt": only
# these c_glue modules, through symlinks in build/qemu/user_modules).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src="$root/build/micropython-src"
qbuild="$root/build/qemu"
port="$qbuild/port"
obj="$qbuild/obj"
lib="$qbuild/libqpy_rust.a"
out="$qbuild/firmware.elf"
user_mods="${QPY_USER_C_MODULES:-$root/c_glue}"
jobs="${JOBS:-$(nproc)}"
board=SABRELITE
cpu_flags=(-mcpu=cortex-a9 -mno-unaligned-access)   # as the board's CFLAGS

log() { echo "qemu/build.sh: $*" >&2; }
die() { echo "qemu/build.sh: ERROR: $*" >&2; exit 1; }

if [[ -n "${QPY_MODULES:-}" ]]; then
    sel="$qbuild/user_modules"
    rm -rf "$sel"
    mkdir -p "$sel"
    for m in $QPY_MODULES; do
        [[ -d "$user_mods/$m" ]] || die "no module $user_mods/$m"
        ln -s "$user_mods/$m" "$sel/$m"
    done
    log "only modules: $QPY_MODULES"
    user_mods="$sel"
fi

for tool in arm-none-eabi-gcc arm-none-eabi-objcopy qemu-system-arm cargo rustup; do
    command -v "$tool" >/dev/null || die "$tool not found (run: make qemu-setup)"
done

# 1. MicroPython source (no-op when already fetched and patched).
bash "$root/micropython/fetch.sh"

# 2. Rust staticlib for the board's core: ARMv7-A, ARM mode, soft float.
# shellcheck source=ports/qemu/rust-arm.sh
. "$here/rust-arm.sh"
rust_arm_build armv7a-none-eabi "$lib"

# 3. Private, patched copy of the qemu port; redone when the fetched tree or
#    one of our patches changes.
want="$( { cat "$src/.qpy-fetch-stamp"; cat "$here"/patches/*.patch 2>/dev/null || true; } | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$port/.qpy-port-stamp" 2>/dev/null)" != "$want" ]]; then
    log "preparing $port"
    rm -rf "$port" "$port.tmp"
    mkdir -p "$qbuild"
    cp -a "$src/ports/qemu" "$port.tmp"
    shopt -s nullglob
    for p in "$here"/patches/*.patch; do
        log "applying $(basename "$p")"
        # the patches name ports/qemu/<file>: strip two components
        patch -d "$port.tmp" -p3 --forward --batch --no-backup-if-mismatch -s < "$p" \
            || die "patch $(basename "$p") failed"
    done
    shopt -u nullglob
    echo "$want" > "$port.tmp/.qpy-port-stamp"
    mv "$port.tmp" "$port"
fi

# 4. The firmware. The port's Makefile includes ../../py/mkenv.mk relative to
#    itself; from the copy, make finds it through -I <fetched ports/qemu>, and
#    TOP becomes the fetched tree (sources of py/, extmod/, shared/ come from
#    there; the port's own files from the patched copy).
#    The qemu port links `$(OBJ) $(LIBS)` and sets LIBS after the user-module
#    makefiles: the archive goes into LIBS (with libgcc, which LIBS normally
#    holds) on the command line. QPY_RUST_LIB points c_glue's LDFLAGS_USERMOD
#    at the same ARM archive (instead of the x86 default).
libgcc="$(arm-none-eabi-gcc "${cpu_flags[@]}" -print-libgcc-file-name)"
make_args=(
    -I "$src/ports/qemu"
    BOARD="$board"
    BUILD="$obj"
    USER_C_MODULES="$user_mods"
    FROZEN_MANIFEST="$here/manifest.py"
    QPY_RUST_LIB="$lib"
    LIBS="$lib $libgcc"
)
config="$(printf '%s\n' "${make_args[@]}" "$want" | sha256sum | cut -d' ' -f1)"
if [[ -d "$obj" && "$(cat "$obj/.qpy-config" 2>/dev/null)" != "$config" ]]; then
    log "build options or source changed: wiping $obj"
    rm -rf "$obj"
fi
mkdir -p "$obj"
echo "$config" > "$obj/.qpy-config"
# The link rule depends on the objects only: relink when the archive changed.
if [[ -f "$obj/firmware.elf" && "$lib" -nt "$obj/firmware.elf" ]]; then
    log "Rust archive changed: relinking"
    rm -f "$obj/firmware.elf"
fi

# makemanifest.py re-freezes only when a .py changed, but the frozen QSTRs
# depend on the glue's: after a glue change a name both use would be declared
# twice (redeclaration of enumerator MP_QSTR_...). Re-freeze then.
if [[ -f "$obj/frozen_content.c" && -n "$(find -L "$user_mods" -name '*.[ch]' -newer "$obj/frozen_content.c" -print -quit)" ]]; then
    rm -f "$obj/frozen_content.c"
fi
log "qemu port BOARD=$board (-j$jobs)"
# (the per-file CC/GEN lines are dropped; warnings and errors stay)
make -C "$port" -j"$jobs" "${make_args[@]}" 2>&1 \
    | { grep -vE '^(CC|GEN|QSTR|LINK|mkdir|Create|MPY|python3|cp) ' || true; }

if ! cmp -s "$obj/firmware.elf" "$out"; then
    cp "$obj/firmware.elf" "$out.tmp"
    mv -f "$out.tmp" "$out"
fi
arm-none-eabi-size "$out" >&2
log "firmware: $out"
