# Frozen manifest for our unix firmware. Deliberately minimal: the Debian
# "+ds" source has no micropython-lib, so nothing from it may be required here.
include("$(MPY_DIR)/extmod/asyncio")
