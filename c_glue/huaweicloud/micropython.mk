# _huaweicloud: the native core of huaweicloud (the client is frozen Python)
# (qpy_rust.h). The Rust staticlib is linked once, by umqtt's micropython.mk.
HUAWEICLOUD_MOD_DIR := $(USERMOD_DIR)

SRC_USERMOD_C += $(HUAWEICLOUD_MOD_DIR)/modhuaweicloud.c
CFLAGS_USERMOD += -I$(HUAWEICLOUD_MOD_DIR)/..
