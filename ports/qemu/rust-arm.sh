# shellcheck shell=bash
# Build the project's single Rust staticlib (rust/ffi, crate qpy-rust) for a
# bare-metal ARM target with the nightly toolchain and -Zbuild-std=core, then
# write a copy with the sections a firmware link does not want removed.
# Sourced by ports/qemu/build.sh and ports/quectel/build.sh.
#
#   rust_arm_build <rust-target> <out.a> [extra RUSTFLAGS...]
#
# * target dir: <repo>/target/arm/<name> where <name> is the target plus a
#   short hash of the flags (each flag set keeps its own incremental state);
# * RUSTFLAGS: -Zunstable-options -Cpanic=immediate-abort when the installed
#   nightly accepts it (panic/formatting machinery compiled out), else plain
#   panic=abort from the release profile; plus LLVM's machine outliner and
#   no inlining beyond what opt-level z forces (-446 B of the Rust core on
#   EC600U, same code in the qemu tests as in the Quectel builds); plus
#   four LLVM size knobs, measured together on the Rust core: no loop
#   strength reduction, constants promoted into the constant pools, tail
#   merging of blocks from 2 instructions, common instructions hoisted in
#   simplifycfg (-129 B on EC600U, -113 B on EC600N); no speculation of
#   both arms of an if into selects and no shrink-wrapping (-314 B on
#   EC600U, -300 B on EC600N); plus the extra flags;
# * <out.a>: the archive without .ARM.exidx* (unwind index; the SABRELITE
#   linker script does not place it, and nothing unwinds with panic=abort)
#   and without the embedded LLVM bitcode (.llvmbc/.llvmcmd) that
#   -Zbuild-std leaves in compiler_builtins and that confuses binutils' LTO
#   plugin (nm/ld warnings).
#
# Environment: RUST_TOOLCHAIN (default nightly).

rust_arm_log() { echo "rust-arm: $*" >&2; }

rust_arm_panic_flags() { # target
    local tc="${RUST_TOOLCHAIN:-nightly}"
    if rustc "+$tc" -Zunstable-options -Cpanic=immediate-abort --target "$1" \
            --print cfg >/dev/null 2>&1; then
        echo "-Zunstable-options -Cpanic=immediate-abort"
    else
        rust_arm_log "WARNING: rustc +$tc rejects -Cpanic=immediate-abort; using panic=abort"
        echo ""
    fi
}

rust_arm_build() { # target out.a [extra rustflags...]
    local target="$1" out="$2"
    shift 2
    local root tc flags tag tdir raw
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    tc="${RUST_TOOLCHAIN:-nightly}"
    if ! rustup component list --toolchain "$tc" --installed 2>/dev/null | grep -q '^rust-src'; then
        rust_arm_log "rustup component add rust-src --toolchain $tc"
        rustup component add rust-src --toolchain "$tc" >&2
    fi
    flags="$(rust_arm_panic_flags "$target") -C llvm-args=-enable-machine-outliner=always -C llvm-args=-inline-threshold=0"
    flags="$flags -C llvm-args=-disable-lsr -C llvm-args=-arm-promote-constant"
    flags="$flags -C llvm-args=-tail-merge-size=2 -C llvm-args=-hoist-common-insts=true"
    flags="$flags -C llvm-args=-two-entry-phi-node-folding-threshold=0 -C llvm-args=-enable-shrink-wrap=false $*"
    flags="$(echo "$flags" | tr -s ' ' | sed 's/^ //; s/ $//')"   # normalise blanks (keep the quotes)
    tag="$(echo "$target $flags ${RUST_ARM_OPT_LEVEL:-z}" | sha256sum | cut -c1-8)"
    tdir="$root/target/arm/$target-$tag"
    rust_arm_log "cargo +$tc build --release -p qpy-rust --target $target -Zbuild-std=core (RUSTFLAGS=$flags)"
    (cd "$root" && env -u CARGO_ENCODED_RUSTFLAGS RUSTFLAGS="$flags" CARGO_PROFILE_RELEASE_OPT_LEVEL="${RUST_ARM_OPT_LEVEL:-z}" \
        cargo "+$tc" build --quiet --release -p qpy-rust --target "$target" \
            --config "profile.release.package.iotda.opt-level=\"${RUST_ARM_OPT_LEVEL:-z}\"" \
            -Zbuild-std=core --target-dir "$tdir")
    raw="$tdir/$target/release/libqpy_rust.a"
    [[ -f "$raw" ]] || { rust_arm_log "ERROR: $raw not produced"; return 1; }
    mkdir -p "$(dirname "$out")"
    arm-none-eabi-objcopy \
        --remove-section='.ARM.exidx*' --remove-section='.rel.ARM.exidx*' \
        --remove-section=.llvmbc --remove-section=.llvmcmd \
        "$raw" "$out.tmp"
    # replaced only when it changed: its mtime drives the relinks
    if cmp -s "$out.tmp" "$out"; then rm -f "$out.tmp"; else mv -f "$out.tmp" "$out"; fi
    rust_arm_log "$out"
}
