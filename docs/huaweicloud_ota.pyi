"""Type stubs for the optional `huaweicloud_ota` module (see docs/huaweicloud.md, "OTA upgrades")."""
from typing import Any, Callable, Dict, Optional, Protocol

from huaweicloud import HuaweiCloud

SUCCESS: int  # 0
BUSY: int  # 1
DOWNLOAD_FAILED: int  # 6
CHECK_FAILED: int  # 7
INSTALL_FAILED: int  # 10
INTERNAL_ERROR: int  # 255


class OTAError(Exception):
    """args: (result_code, description)"""


class Sink(Protocol):
    def begin(self, info: Dict[str, Any]) -> None: ...
    def write(self, data: memoryview) -> None: ...  # valid during the call only
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class FileSink:
    path: str
    def __init__(self, path: str) -> None: ...
    def begin(self, info: Dict[str, Any]) -> None: ...
    def write(self, data: memoryview) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class OTA:
    pause: float  # seconds before reopening a dropped download (1)
    busy: bool
    sink: Sink

    def __init__(
        self,
        cloud: HuaweiCloud,
        sink: Optional[Sink] = None,
        path: str = "ota.bin",
        chunk: int = 1024,
        retries: int = 3,
        timeout: int = 30,
        ssl_params: Optional[Dict[str, Any]] = None,
        step: int = 10,
        done: Optional[Callable[[int, str, Dict[str, Any]], None]] = None,
        background: bool = True,
    ) -> None: ...
