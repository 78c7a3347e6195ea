# umqtt: QuecPython-compatible MQTT client over the Rust core (qpy_rust.h).
UMQTT_MOD_DIR := $(USERMOD_DIR)

SRC_USERMOD_C += $(UMQTT_MOD_DIR)/modumqtt.c
CFLAGS_USERMOD += -I$(UMQTT_MOD_DIR)/..

# The one Rust staticlib of the firmware (it carries every module's core).
QPY_RUST_LIB ?= $(abspath $(UMQTT_MOD_DIR)/../../target/release/libqpy_rust.a)
LDFLAGS_USERMOD += $(QPY_RUST_LIB)
