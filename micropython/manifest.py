# Frozen manifest for our unix firmware. Deliberately minimal: the Debian
# "+ds" source has no micropython-lib, so nothing from it may be required here.
include("$(MPY_DIR)/extmod/asyncio")

# huaweicloud: the client class over umqtt and the native core _huaweicloud
# (c_glue/huaweicloud/modhuaweicloud.c).
module("huaweicloud.py", base_path="modules")
