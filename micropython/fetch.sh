#!/usr/bin/env bash
# Fetch MicroPython's source from Debian's source archive (pinned version and
# sha256 in micropython/VERSION), unpack it into build/micropython-src/ and
# apply the listed Debian patches plus our own micropython/patches/*.patch.
# Uses a private apt configuration under build/apt/: the system's apt setup is
# not touched. The archive URI is read from the machine's apt configuration.
# A stamp makes a second run a no-op (it is invalidated when VERSION or a
# patch of ours changes).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${BUILD_ROOT:-$root/build}"
# shellcheck source=/dev/null
. "$here/VERSION"

src="$build/micropython-src"
dl="$build/micropython-dl"
aptdir="$build/apt"
stamp="$src/.qpy-fetch-stamp"

log() { echo "fetch.sh: $*" >&2; }
die() { echo "fetch.sh: ERROR: $*" >&2; exit 1; }

# Everything that determines the tree: VERSION and our patches.
want_stamp="$( { cat "$here/VERSION" "$here/fetch.sh"; cat "$here"/patches/*.patch 2>/dev/null || true; } | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
    log "up to date ($MPY_DEB_VERSION in $src)"
    exit 0
fi

# --- Debian archive URI, from the machine's apt configuration -----------------
debian_uri() {
    local f uri=""
    # deb822 files: first stanza with a URIs: field whose suites are not *-security.
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        uri="$(awk '
            BEGIN { RS=""; FS="\n" }
            {
                u=""; s=""
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/)   { u = $i; sub(/^URIs:[ \t]*/, "", u); split(u, a, /[ \t]+/); u = a[1] }
                    if ($i ~ /^Suites:/) { s = $i }
                }
                if (u != "" && s !~ /-security/ && u !~ /security/) { print u; exit }
            }' "$f")"
        [[ -n "$uri" ]] && { echo "$uri"; return; }
    done
    # one-line format
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        uri="$(awk '$1 ~ /^deb(-src)?$/ {
                    i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i+1) !~ /security/ && $i !~ /security/) { print $i; exit } }' "$f")"
        [[ -n "$uri" ]] && { echo "$uri"; return; }
    done
}

uri="$(debian_uri)"
[[ -n "$uri" ]] || die "no Debian archive URI found in /etc/apt/sources.list{,.d/}"

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f "$keyring" ]] || die "missing $keyring (package debian-archive-keyring)"

mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$dl"
# The pinned suite first, then the fallbacks (e.g. sid when a testing suite has
# moved on): apt takes the pinned version from whichever suite still has it.
{
    for suite in $MPY_DEB_SUITE ${MPY_DEB_FALLBACK_SUITES:-}; do
        echo "deb-src [signed-by=$keyring] $uri $suite main"
    done
} > "$aptdir/sources.list"
apt_opts=(
    -o "Dir::Etc::SourceList=$aptdir/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$aptdir/lists"
    -o "Dir::Cache=$aptdir/cache"
    -o "Acquire::Languages=none"
    -o "APT::Sandbox::User=root"
)

fetch_sources() {
    log "apt-get update (private config, deb-src: $MPY_DEB_SUITE ${MPY_DEB_FALLBACK_SUITES:-})"
    apt-get "${apt_opts[@]}" -qq update >&2
    log "apt-get source --download-only micropython=$MPY_DEB_VERSION"
    (cd "$dl" && apt-get "${apt_opts[@]}" -q source --download-only "micropython=$MPY_DEB_VERSION" >&2)
}

check_sha() { # file expected
    local got
    got="$(sha256sum "$1" | cut -d' ' -f1)"
    if [[ "$got" != "$2" ]]; then
        mv -f "$1" "$1.bad"   # a rerun downloads it again
        die "sha256 mismatch for $(basename "$1"): got $got, pinned $2"
    fi
}

orig="$dl/$MPY_ORIG_TARBALL"
deb="$dl/$MPY_DEBIAN_TARBALL"
if [[ ! -f "$orig" || ! -f "$deb" ]]; then
    fetch_sources
fi
[[ -f "$orig" ]] || die "$MPY_ORIG_TARBALL not downloaded"
[[ -f "$deb" ]] || die "$MPY_DEBIAN_TARBALL not downloaded"
check_sha "$orig" "$MPY_ORIG_SHA256"
if [[ -n "${MPY_DEBIAN_SHA256:-}" ]]; then
    check_sha "$deb" "$MPY_DEBIAN_SHA256"
else
    log "WARNING: MPY_DEBIAN_SHA256 not pinned; debian tarball is $(sha256sum "$deb" | cut -d' ' -f1)"
fi
log "sha256 verified"

# --- unpack into a fresh tree, then patch --------------------------------------
tmp="$build/micropython-src.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/debian-pkg"
tar -xf "$orig" -C "$tmp" --strip-components=1
tar -xf "$deb" -C "$tmp/debian-pkg"

apply() { # patchfile label
    log "applying $2"
    patch -d "$tmp" -p1 --forward --batch --no-backup-if-mismatch -s < "$1" \
        || die "patch $2 failed"
}
for name in $MPY_DEBIAN_PATCHES; do
    p="$tmp/debian-pkg/debian/patches/$name"
    [[ -f "$p" ]] || die "Debian patch $name not in $MPY_DEBIAN_TARBALL"
    apply "$p" "debian/$name"
done
shopt -s nullglob
for p in "$here"/patches/*.patch; do
    apply "$p" "ours/$(basename "$p")"
done
rm -rf "$tmp/debian-pkg"

rm -rf "$src"
mv "$tmp" "$src"
echo "$want_stamp" > "$stamp"
log "ready: $src ($MPY_DEB_VERSION)"
