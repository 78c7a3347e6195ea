"""Type stubs for `huaweicloud_files` (docs/huaweicloud.md, "Files")."""
from typing import Any, Dict, Optional, Protocol, Union

from huaweicloud import HuaweiCloud

_Text = Union[str, bytes]


class _Reader(Protocol):
    def readinto(self, buf: Any) -> Optional[int]: ...


class _Writer(Protocol):
    def write(self, buf: Any) -> Any: ...


class Files:
    cloud: HuaweiCloud
    timeout: float
    def __init__(
        self, cloud: HuaweiCloud, timeout: float = 30, chunk: int = 1024, ssl_params: Optional[Dict[str, Any]] = None
    ) -> None: ...
    def upload(
        self, file_name: _Text, source: Union[str, _Reader], size: Optional[int] = None, hash_code: Optional[_Text] = None
    ) -> str: ...
    def download(self, file_name: _Text, sink: Union[str, _Writer]) -> int: ...
