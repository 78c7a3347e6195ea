# Top-level build for the firmware (MicroPython unix port + our user C
# modules + the Rust staticlib). See ports/unix/build.sh and micropython/fetch.sh.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := firmware

PYTHON   ?= python3
APT_GET  ?= apt-get
# Two unix firmwares from the same source (ports/unix/build.sh):
#   FIRMWARE        GIL on (MICROPY_PY_THREAD_GIL=1), QuecPython's threading
#                   configuration: the default for every target
#   FIRMWARE_NOGIL  GIL off, the unix port's default
# The firmware suite (with the guide's script) runs on each of FIRMWARES, in order.
FIRMWARE       := build/unix/micropython
FIRMWARE_NOGIL := build/unix-nogil/micropython
FIRMWARES      := $(FIRMWARE) $(FIRMWARE_NOGIL)

# Debian packages the build and the tests need.
DEB_PACKAGES := build-essential pkg-config libffi-dev libmbedtls-dev \
                mosquitto mosquitto-clients cbindgen python3 iproute2 util-linux

.PHONY: interop soak setup fetch firmware gil-check rust-check test demo demo-mosquitto sanitize-test bench bench-smoke clean distclean fuzz fuzz-smoke reliability-test

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

## firmware: build/unix/micropython (GIL on) and build/unix-nogil/micropython (GIL off)
firmware: setup
	bash ports/unix/build.sh gil
	bash ports/unix/build.sh nogil

## gil-check: two CPU-bound threads serialise on the GIL build and run in parallel on the other
gil-check: firmware
	$(PYTHON) tests/run_gil_check.py $(FIRMWARE) --expect gil
	$(PYTHON) tests/run_gil_check.py $(FIRMWARE_NOGIL) --expect nogil

## rust-check: fmt, clippy, tests, and the C header must match the Rust FFI
rust-check: setup
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace
	cbindgen --config rust/ffi/cbindgen.toml --crate qpy-rust --output c_glue/qpy_rust.h --verify

## test: rust-check, the GIL check, the firmware tests (with the guide's script) on
## each of FIRMWARES, the demo against the emulator, and the other suites
test: rust-check firmware
	$(MAKE) --no-print-directory gil-check
	for fw in $(FIRMWARES); do $(PYTHON) tests/run_firmware_tests.py "$$fw"; done
	$(MAKE) --no-print-directory demo
	cargo build -q --release -p iotda-tool
	IOTDA_CONNINFO=target/release/iotda-conninfo bash tests/emulator/run_demo.sh $(FIRMWARE) target/release/iotda-emulator
	$(PYTHON) tests/emulator/test_huaweicloud_e2e.py $(FIRMWARE) target/release/iotda-emulator
	for fw in $(FIRMWARES); do $(PYTHON) tests/emulator/test_login_e2e.py "$$fw" target/release/iotda-emulator; done
	for fw in $(FIRMWARES); do $(PYTHON) tests/emulator/test_ota_e2e.py "$$fw" target/release/iotda-emulator; done
	for fw in $(FIRMWARES); do $(PYTHON) tests/emulator/test_services_e2e.py "$$fw" target/release/iotda-emulator; done
	$(MAKE) --no-print-directory cpython-test
	$(MAKE) --no-print-directory emulator-browser-test
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory reliability-test
	$(MAKE) --no-print-directory fuzz-smoke
	$(MAKE) --no-print-directory qemu-test
	$(MAKE) --no-print-directory quectel

## bench: full benchmark (valgrind for instruction counts); writes bench/RESULTS.md, bench/results.json
bench: firmware
	@command -v valgrind >/dev/null || { sudo=; [[ $$(id -u) == 0 ]] || sudo=sudo; \
	    DEBIAN_FRONTEND=noninteractive $$sudo $(APT_GET) install -y -qq valgrind \
	    || echo "bench: valgrind not installed: no instruction counts"; }
	$(PYTHON) bench/run.py --firmware $(FIRMWARE)

## bench-smoke: the benchmark in a short mode (every path once, no thresholds, < 60 s)
bench-smoke: firmware
	$(PYTHON) bench/run.py --quick --firmware $(FIRMWARE)

## soak: one client 30 min (SOAK_SECONDS), QoS 0/1/2 both ways, broker restarted every 2 min, gc stress; GIL-on firmware
soak: firmware
	$(PYTHON) tests/soak/run_soak.py $(FIRMWARE)

## fuzz: every cargo-fuzz target for FUZZ_SECONDS each (default 300), FUZZ_JOBS at once (default 1)
FUZZ_SECONDS ?= 300
FUZZ_JOBS ?= 1
fuzz:
	bash fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS)

## fuzz-smoke: every fuzz target for 15 s, two at a time (< 90 s once built)
fuzz-smoke:
	bash fuzz/run.sh 15 2

## reliability-test: hostile broker, TLS and network-fault suites on the firmware (< 4 min)
reliability-test: firmware
	$(PYTHON) tests/hostile/run_hostile_tests.py $(FIRMWARE)
	$(PYTHON) tests/tls/run_tls_tests.py $(FIRMWARE)
	$(PYTHON) tests/tls/test_tls_record_pause.py $(FIRMWARE)
	$(PYTHON) tests/faults/run_fault_tests.py $(FIRMWARE)

## interop: the core scenarios against mosquitto and ejabberd (Debian), rumqttd
## (crates.io) and amqtt (PyPI) on both firmwares; installs what is missing, rumqttd
## and amqtt into build/tools (compiling rumqttd takes minutes: not part of `make test`)
interop: firmware
	rc=0; for fw in $(FIRMWARES); do $(PYTHON) tests/interop/run_interop.py "$$fw" || rc=1; done; exit $$rc

## sanitize-test: the unix firmware under ASan+UBSan (setjmp nlr, symbols), firmware and hostile suites
sanitize-test: firmware
	bash ports/unix/build-asan.sh
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/run_firmware_tests.py build/unix-asan/micropython
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/hostile/run_hostile_tests.py build/unix-asan/micropython

## qemu-setup: ARM cross toolchain + qemu (Debian) and nightly's rust-src, when missing
ARM_DEB_PACKAGES := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
.PHONY: qemu-setup qemu-firmware qemu-test quectel
qemu-setup: setup
	@$(MAKE) --no-print-directory setup DEB_PACKAGES="$(ARM_DEB_PACKAGES)"
	@rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src' \
	    || rustup component add rust-src --toolchain nightly

## qemu-firmware: build/qemu/firmware.elf (MicroPython qemu port, SABRELITE, Cortex-A9)
qemu-firmware: qemu-setup
	bash ports/qemu/build.sh

## qemu-test: offline tests (tests/qemu) on the ARM firmware under qemu and on the unix firmware
qemu-test: qemu-firmware firmware
	$(PYTHON) tests/run_qemu_tests.py --qemu build/qemu/firmware.elf --unix $(FIRMWARE)

## quectel: Rust archive + C glue with the EC600U and EC600N vendor flags, link check, size table
quectel: qemu-setup
	bash ports/quectel/build.sh

## demo: the guide's script, unchanged, on the firmware against the local IoTDA emulator
demo: firmware
	cargo build -q --release -p iotda-emulator
	bash tests/emulator/run_demo.sh $(FIRMWARE) target/release/iotda-emulator

## demo-tls: make demo with the device on the emulator's TLS listener (8883, generated test CA, certificate verified)
demo-tls: firmware
	cargo build -q --release -p iotda-emulator
	IOTDA_TLS=1 bash tests/emulator/run_demo.sh $(FIRMWARE) target/release/iotda-emulator

## demo-ota: an OTA upgrade end to end: package and task through the emulator's REST API, the
## device (huaweicloud_ota on the firmware) downloads, verifies, reports; then a tampered package fails
.PHONY: demo-ota
demo-ota: firmware
	cargo build -q --release -p iotda-emulator
	$(PYTHON) tests/emulator/test_ota_e2e.py $(FIRMWARE) target/release/iotda-emulator --demo

## emulator-browser-test: the emulator's web console in headless Chromium (installs chromium, chromium-driver, selenium if missing)
emulator-browser-test:
	cargo build -q --release -p iotda-emulator
	$(PYTHON) tests/emulator/test_console_browser.py target/release/iotda-emulator

## cpython-test: the frozen huaweicloud.py on CPython (paho-mqtt stand-in for umqtt) against the emulator over TLS,
## and the CPython stand-in of _huaweicloud checked against the firmware's native core
cpython-test: firmware
	cargo build -q --release -p iotda-emulator
	@$(PYTHON) -c 'import paho.mqtt' 2>/dev/null || $(PYTHON) -m pip install -q paho-mqtt
	$(PYTHON) tests/cpython/test_native_core_parity.py $(FIRMWARE)
	$(PYTHON) tests/cpython/test_huaweicloud_cpython.py target/release/iotda-emulator

.PHONY: demo-tls emulator-browser-test cpython-test

## demo-mosquitto: the same against a plain mosquitto broker
demo-mosquitto: firmware
	$(PYTHON) tests/run_demo.py $(FIRMWARE)

## clean: remove build products (keeps the downloaded source archives)
clean:
	rm -rf build/unix build/unix-nogil build/unix-asan build/qemu build/quectel build/micropython-src build/micropython-src.tmp
	cargo clean

## distclean: remove everything generated, downloads included
distclean:
	rm -rf build target
