#!/usr/bin/env bash
# Cross-build the project's single Rust staticlib and the C glue objects with
# each Quectel family's vendor flags, link-check them and print a size table.
# Nothing here needs the vendor SDK; what it proves and what it cannot is in
# ports/quectel/README.md.
#
#   bash ports/quectel/build.sh [family...]     (default: ec600u ec600n)
#
# Per family, in build/quectel/<family>/:
#   libqpy_rust.a      Rust archive (.ARM.exidx* and bitcode stripped, without
#                      compiler_builtins: newlib/libgcc provide those symbols)
#   obj/<mod>.o        c_glue/<mod>/mod*.c compiled with the vendor flags
#   genhdr/            qstrdefs.generated.h for these sources (MicroPython's
#                      own makeqstrdata.py), empty root_pointers.h
#   linkcheck/         entry, runtime stubs, image.elf, image.map
#   sizes.txt          the size table (also printed)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src="$root/build/micropython-src"
out_root="$root/build/quectel"
PYTHON="${PYTHON:-python3}"

log() { echo "quectel/build.sh: $*" >&2; }
die() { echo "quectel/build.sh: ERROR: $*" >&2; exit 1; }

for tool in arm-none-eabi-gcc arm-none-eabi-objcopy cargo rustup; do
    command -v "$tool" >/dev/null || die "$tool not found (run: make qemu-setup)"
done

# Family -> Rust target, extra RUSTFLAGS, C flags.
#   EC600U/EC200U/EG915U (UNISOC 8910DM, Cortex-A5, hard float, NEON):
#     the vendor flags, Thumb-2 on both sides.
#   EC600N/EC600S/EC800N (ASR160x, Cortex-R class, soft float): armv7r-none-eabi
#     and -mcpu=cortex-r4 (the baseline ARMv7-R core: its code runs on R5/R7
#     too), Thumb-2, soft float.
family_config() {
    case "$1" in
        ec600u)
            rust_target=armv7a-none-eabihf
            rust_flags="-C target-feature=+thumb-mode"
            cflags="-mcpu=cortex-a5 -mthumb -mfpu=neon-vfpv4 -mfloat-abi=hard -mno-unaligned-access"
            ;;
        ec600n)
            rust_target=armv7r-none-eabi
            rust_flags="-C target-feature=+thumb-mode"
            cflags="-mcpu=cortex-r4 -mthumb -mfloat-abi=soft -mno-unaligned-access"
            ;;
        *) die "unknown family $1 (ec600u, ec600n)" ;;
    esac
}

bash "$root/micropython/fetch.sh"
# shellcheck source=ports/qemu/rust-arm.sh
. "$root/ports/qemu/rust-arm.sh"

families=("$@")
(( ${#families[@]} )) || families=(ec600u ec600n)
for fam in "${families[@]}"; do
    family_config "$fam"
    dir="$out_root/$fam"
    mkdir -p "$dir"
    log "== $fam: Rust $rust_target ($rust_flags), C $cflags"
    # shellcheck disable=SC2086
    rust_arm_build "$rust_target" "$dir/libqpy_rust.a" $rust_flags
    # Rust's own copies of memcpy/memmove/memset and the AEABI division and
    # float helpers (compiler_builtins, weak symbols) duplicate what the
    # vendor toolchain's newlib and libgcc give every firmware: drop them,
    # so the firmware links one copy; linkcheck.py proves each symbol the
    # Rust code needs is then provided by libc/libgcc.
    cb="$(ar t "$dir/libqpy_rust.a" | grep '^compiler_builtins' || true)"
    # shellcheck disable=SC2086
    [[ -z "$cb" ]] || ar d "$dir/libqpy_rust.a" $cb
    "$PYTHON" "$here/linkcheck.py" --family "$fam" --src "$src" --out "$dir" \
        --rust-lib "$dir/libqpy_rust.a" --rust-target "$rust_target" \
        --rust-flags "$rust_flags" --cflags "$cflags"
done
