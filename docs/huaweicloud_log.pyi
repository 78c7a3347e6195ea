"""Type stubs for `huaweicloud_log` (docs/huaweicloud.md, "Device logs and SDK information")."""
from typing import Optional, Tuple, Union

from huaweicloud import HuaweiCloud

_Text = Union[str, bytes]
SDK_VERSION: str
TYPES: Tuple[str, str, str, str]


class DeviceLog:
    cloud: HuaweiCloud
    enabled: bool
    end_time: Optional[str]
    def __init__(self, cloud: HuaweiCloud, enabled: bool = False) -> None: ...
    def collecting(self) -> bool: ...
    def report(self, content: _Text, log_type: str = "DEVICE_STATUS", timestamp: Optional[_Text] = None) -> bool: ...


def report_sdk_info(
    cloud: HuaweiCloud,
    sw_version: Optional[_Text] = None,
    fw_version: Optional[_Text] = None,
    device_ip: Optional[_Text] = None,
) -> bool: ...
