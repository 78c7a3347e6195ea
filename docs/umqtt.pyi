"""Type stubs for the QuecPython-compatible `umqtt` module (see docs/umqtt.md)."""
from typing import Any, Callable, List, Optional, Tuple, Union

_Text = Union[str, bytes]
_Buffer = Union[str, bytes, bytearray, memoryview]


class MQTTException(ValueError):
    """CONNACK refusal or protocol error; args[0] is QuecPython's message,
    e.g. "MQTT Connect error='5' FAIL"."""


class MQTTClient:
    # get_mqttsta() values, QuecPython's names
    CONNECTEXCE: int = -1
    CONNECTSUCCESS: int = 0
    ARECONNECT: int = 1
    SEVCLOSE: int = 2

    # QuecPython's attributes, read from the client's state (read-only but
    # for cb and error_callback); a script may add attributes of its own.
    client_id: Optional[_Text]
    server: str
    port: int
    user: Optional[_Text]
    keepalive: int
    ssl: bool
    ssl_params: dict
    reconn: bool
    mqttversion: int
    clean_session: bool
    pingmaxnum: int
    ipvtype: int
    manage: bool
    cb: Optional[Callable[[bytes, bytes], Any]]
    error_callback: Optional[Callable[[str], Any]]
    sock: Any
    topic_list: List[str]
    lw_topic: Optional[_Text]
    lw_msg: Optional[_Buffer]
    lw_qos: int
    lw_retain: bool
    # extension: the CONNACK's session-present flag of the last connect()
    session_present: bool

    def __init__(
        self,
        client_id: Optional[_Text],
        server: _Text,
        port: int = 0,
        user: Optional[_Text] = None,
        password: Optional[_Text] = None,
        keepalive: int = 0,
        ssl: bool = False,
        ssl_params: dict = {},
        reconn: bool = True,
        version: int = 4,
        pingmaxnum: int = 0,
        manage: bool = False,
        ipvtype: int = 0,
        *,
        queue_size: int = 4,
    ) -> None: ...
    def set_callback(self, f: Optional[Callable[[bytes, bytes], Any]]) -> None: ...
    # detail (positional): also our reports, which QuecPython never sends
    def error_register_cb(self, f: Optional[Callable[[str], Any]], detail: bool = False, /) -> None: ...
    def set_credentials_cb(
        self, f: Optional[Callable[[], Tuple[_Text, Optional[_Text], Optional[_Text]]]]
    ) -> None: ...
    def set_last_will(self, topic: _Text, msg: _Buffer, retain: bool = False, qos: int = 0) -> None: ...
    def connect(self, clean_session: bool = True, *, sock: Any = None) -> int:
        """Always 0; every failure is a ValueError with QuecPython's message."""
        ...
    def publish(self, topic: _Text, msg: _Buffer, retain: bool = False, qos: int = 0) -> bool: ...
    def subscribe(self, topic: _Text, qos: int = 0, sock: Any = None) -> None: ...
    def unsubscribe(self, topic: _Text) -> None: ...
    def check_msg(self) -> None: ...
    def wait_msg(self) -> None:
        """None; also (at once) after disconnect()."""
        ...
    def ping(self) -> None: ...
    def disconnect(self) -> None: ...
    def close(self) -> None: ...
    def get_mqttsta(self) -> int:
        """0 connected, 1 connecting, 2 server closed, -1 closed."""
        ...


# QuecPython's base class: the same class here
BaseMqtt = MQTTClient
