"""Type stubs for `huaweicloud_config` (docs/huaweicloud.md, "Remote configuration")."""
from typing import Any, Callable, Dict, Optional, Tuple, Union

from huaweicloud import HuaweiCloud


class DeviceConfig:
    cloud: HuaweiCloud
    def __init__(
        self, cloud: HuaweiCloud, handler: Callable[[Dict[str, Any]], Optional[Union[int, Tuple[int, str]]]]
    ) -> None: ...
