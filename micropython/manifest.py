# Frozen manifest for our unix firmware. Deliberately minimal: the Debian
# "+ds" source has no micropython-lib, so nothing from it may be required here.
include("$(MPY_DIR)/extmod/asyncio")

# huaweicloud: the client class over umqtt and the native core _huaweicloud
# (c_glue/huaweicloud/modhuaweicloud.c).
# opt=3: no line numbers in its tracebacks (~500 B less flash); the
# CPython tests (tests/cpython) run the same source with them.
module("huaweicloud.py", base_path="modules", opt=3)

# huaweicloud_bootstrap: IoTDP device provisioning (bootstrap request, then
# the IoTDA address); optional, remove the line to save its bytecode.
module("huaweicloud_bootstrap.py", base_path="modules", opt=3)

# huaweicloud_http: the HTTP(S) client of huaweicloud_ota and
# huaweicloud_files; needed when either is listed.
module("huaweicloud_http.py", base_path="modules", opt=3)

# huaweicloud_ota: optional OTA upgrades over HuaweiCloud ($ota events,
# streamed download, SHA-256 in the native core). Drop this line to save its
# flash when a product does not upgrade over the air, and build with
# MICROPY_PY_HUAWEICLOUD_OTA=0 (CFLAGS) to drop its native part too (~1 KB:
# _huaweicloud.sha256_* and the Rust they call).
module("huaweicloud_ota.py", base_path="modules", opt=3)

# Optional services over the client (each imports huaweicloud): gateway
# sub-devices, file upload/download, device logs + SDK info, remote
# configuration; remove a line to save its bytecode.
module("huaweicloud_gateway.py", base_path="modules", opt=3)
module("huaweicloud_files.py", base_path="modules", opt=3)
module("huaweicloud_log.py", base_path="modules", opt=3)
module("huaweicloud_config.py", base_path="modules", opt=3)
