# Top-level build for the firmware (MicroPython unix port + our user C
# modules + the Rust staticlib). See ports/unix/build.sh and micropython/fetch.sh.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := firmware

PYTHON   ?= python3
APT_GET  ?= apt-get
FIRMWARE := build/unix/micropython

# Debian packages the build and the tests need.
DEB_PACKAGES := build-essential pkg-config libffi-dev libmbedtls-dev \
                mosquitto mosquitto-clients cbindgen python3 iproute2 util-linux

.PHONY: setup fetch firmware rust-check test demo clean distclean

## setup: install the missing Debian packages (apt-get update only if needed)
setup:
	@missing=(); \
	for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' \
	        || missing+=("$$p"); \
	done; \
	if (( $${#missing[@]} )); then \
	    sudo=; [[ $$(id -u) == 0 ]] || sudo=sudo; \
	    echo "setup: installing $${missing[*]}"; \
	    $$sudo $(APT_GET) update -qq; \
	    DEBIAN_FRONTEND=noninteractive $$sudo $(APT_GET) install -y -qq "$${missing[@]}"; \
	else \
	    echo "setup: all Debian packages present"; \
	fi

## fetch: download, verify and patch MicroPython's source (build/micropython-src)
fetch: setup
	bash micropython/fetch.sh

## firmware: build/unix/micropython (fetch + cargo + mpy-cross + unix port)
firmware: setup
	bash ports/unix/build.sh

## rust-check: fmt, clippy, tests, and the C header must match the Rust FFI
rust-check: setup
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace
	cbindgen --config rust/ffi/cbindgen.toml --crate qpy-rust --output c_glue/qpy_rust.h --verify

## test: rust-check, then the firmware tests
test: rust-check firmware
	$(PYTHON) tests/run_firmware_tests.py $(FIRMWARE)

## demo: run the demo against the firmware
demo: firmware
	$(PYTHON) tests/run_demo.py $(FIRMWARE)

## clean: remove build products (keeps the downloaded source archives)
clean:
	rm -rf build/unix build/micropython-src build/micropython-src.tmp
	cargo clean

## distclean: remove everything generated, downloads included
distclean:
	rm -rf build target
