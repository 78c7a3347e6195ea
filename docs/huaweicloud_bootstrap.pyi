# Type stub of the optional frozen module huaweicloud_bootstrap
# (micropython/modules/huaweicloud_bootstrap.py); docs/huaweicloud.md, "Bootstrap".
from typing import Any, Dict, Optional, Tuple, Union

from huaweicloud import HuaweiCloud

def bootstrap(
    cloud: HuaweiCloud, keyword: Optional[str] = None, timeout: Union[int, float] = 30
) -> Tuple[str, int, Dict[str, Any]]:
    """(host, port, answer) from the bootstrap server `cloud` points at."""
    ...
