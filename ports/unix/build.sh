#!/usr/bin/env bash
# Build the MicroPython unix port with our user C modules and the Rust
# staticlib, out of tree, in one of two threading configurations:
#
#   bash ports/unix/build.sh [gil]   MICROPY_PY_THREAD_GIL=1, as QuecPython builds it
#                                    -> build/unix/obj, build/unix/micropython
#   bash ports/unix/build.sh nogil   MICROPY_PY_THREAD_GIL=0 (the unix port's default)
#                                    -> build/unix-nogil/obj, build/unix-nogil/micropython
#
# Each configuration has its own object dir; the binary is copied to the
# stable path <dir>/micropython.
#
# Environment overrides (for experiments, not for CI):
#   QPY_USER_C_MODULES  directory of user C modules (default: <repo>/c_glue)
#   QPY_RUST_LIB        Rust staticlib to link (default: <repo>/target/release/libqpy_rust.a)
#   QPY_SKIP_RUST=1     do not run cargo (link whatever archive is there, if any)
#   JOBS                parallel make jobs (default: nproc)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$root/build"
src="$build/micropython-src"
case "${1:-gil}" in
    gil)   gil=1; dir="$build/unix" ;;
    nogil) gil=0; dir="$build/unix-nogil" ;;
    *) echo "build.sh: unknown configuration '$1' (gil, nogil)" >&2; exit 2 ;;
esac
obj="$dir/obj"
out="$dir/micropython"
user_mods="${QPY_USER_C_MODULES:-$root/c_glue}"
rust_lib="${QPY_RUST_LIB:-$root/target/release/libqpy_rust.a}"
jobs="${JOBS:-$(nproc)}"

log() { echo "build.sh: $*" >&2; }

# 1. MicroPython source (no-op when already fetched and patched).
bash "$root/micropython/fetch.sh"

# 2. Rust staticlib.
if [[ "${QPY_SKIP_RUST:-0}" == 1 ]]; then
    log "QPY_SKIP_RUST=1: not running cargo"
elif [[ -f "$root/Cargo.toml" ]]; then
    log "cargo build --release -p qpy-rust"
    (cd "$root" && cargo build --release -p qpy-rust)
    [[ -f "$rust_lib" ]] || { log "ERROR: $rust_lib not produced"; exit 1; }
else
    log "WARNING: no Cargo.toml yet; skipping the Rust build"
fi

# 3. mpy-cross (in the fetched tree; needed to freeze the manifest).
log "mpy-cross"
make -C "$src/mpy-cross" -j"$jobs" -s

# 4. Unix port. Changing any of these options (or the fetched tree) wipes
#    the object dir: stale objects after an option change give odd qstr errors.
make_args=(
    VARIANT=standard
    BUILD="$obj"
    USER_C_MODULES="$user_mods"
    FROZEN_MANIFEST="$root/micropython/manifest.py"
    MICROPY_PY_BTREE=0
    MICROPY_SSL_AXTLS=0
    MICROPY_SSL_MBEDTLS=1
    MICROPY_PY_THREAD_GIL="$gil"
    QPY_RUST_LIB="$rust_lib"
)
config="$(printf '%s\n' "${make_args[@]}" "$(cat "$src/.qpy-fetch-stamp")" | sha256sum | cut -d' ' -f1)"
if [[ -d "$obj" && "$(cat "$obj/.qpy-config" 2>/dev/null)" != "$config" ]]; then
    log "build options or source changed: wiping $obj"
    rm -rf "$obj"
fi
mkdir -p "$obj"
echo "$config" > "$obj/.qpy-config"

# The port's link rule depends on the objects only: force a relink when the
# Rust archive is newer than the binary.
if [[ -f "$rust_lib" && -f "$obj/micropython" && "$rust_lib" -nt "$obj/micropython" ]]; then
    log "Rust archive changed: relinking"
    rm -f "$obj/micropython"
fi

# makemanifest.py re-freezes only when a .py changed, but the frozen QSTRs
# depend on the glue's: after a glue change a name both use would be declared
# twice (redeclaration of enumerator MP_QSTR_...). Re-freeze then.
if [[ -f "$obj/frozen_content.c" && -n "$(find -L "$user_mods" -name '*.[ch]' -newer "$obj/frozen_content.c" -print -quit)" ]]; then
    rm -f "$obj/frozen_content.c"
fi
log "unix port, MICROPY_PY_THREAD_GIL=$gil (-j$jobs)"
make -C "$src/ports/unix" -j"$jobs" "${make_args[@]}"

# 5. Stable path, replaced atomically and only when the binary changed.
if ! cmp -s "$obj/micropython" "$out"; then
    cp "$obj/micropython" "$out.tmp"
    mv -f "$out.tmp" "$out"
fi
log "firmware: $out"
