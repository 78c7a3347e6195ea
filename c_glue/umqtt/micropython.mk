# umqtt: QuecPython-compatible MQTT client over the Rust core (qpy_rust.h).
UMQTT_MOD_DIR := $(USERMOD_DIR)

SRC_USERMOD_C += $(UMQTT_MOD_DIR)/modumqtt.c
CFLAGS_USERMOD += -I$(UMQTT_MOD_DIR)/..
# The make-built firmwares here (unix, qemu) are test firmwares: they expose
# MQTTClient._test_secret_buffers(). QuecPython's (cmake) and the Quectel size
# build (ports/quectel) never define it.
CFLAGS_USERMOD += -DUMQTT_TEST_HOOKS

# The one Rust staticlib of the firmware (it carries every module's core).
QPY_RUST_LIB ?= $(abspath $(UMQTT_MOD_DIR)/../../target/release/libqpy_rust.a)
LDFLAGS_USERMOD += $(QPY_RUST_LIB)
