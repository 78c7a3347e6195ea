# Frozen into the qemu (ARM) firmware: the huaweicloud class, so its
# bytecode runs on ARM in tests/qemu (test_huawei_class). Same options as
# micropython/manifest.py.
module("huaweicloud.py", base_path="../../micropython/modules", opt=3)
