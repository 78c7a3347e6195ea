# huaweicloud_config: remote configuration ($device_config): the platform's
# config_update goes to a handler, whose result is sent back as
# config_update_response. Frozen (micropython/manifest.py);
# docs/huaweicloud.md, "Remote configuration".
_SVC = "$device_config"


class DeviceConfig:
    """handler(config_content: dict) -> None or 0 (success), an int result
    code, or (code, description); an exception answers 1."""

    def __init__(self, cloud, handler):
        self.cloud = cloud
        self._handler = cloud._check(handler)
        cloud.set_service_handler(_SVC, self._on_event)

    def _on_event(self, event_type, paras):
        if event_type != "config_update":
            return self.cloud._report("%s %s ignored" % (_SVC, event_type))
        content = paras.get("config_content")
        if not isinstance(content, dict):
            self.cloud._report("malformed config_update (config_content not an object)")
            return self._answer(1, "malformed config_content")
        if self._handler is None:
            return self._answer(1, "no handler")
        ok, r = self.cloud._call("config handler", self._handler, content)
        if not ok:
            return self._answer(1, "handler error")
        if r is None:
            r = 0
        if isinstance(r, tuple) and len(r) == 2:
            return self._answer(r[0], r[1])
        self._answer(r, "success" if r == 0 else "failure")

    def _answer(self, code, desc):
        if isinstance(code, bool) or not isinstance(code, int):
            self.cloud._report("config handler: bad result %r" % (code,))
            code, desc = 1, "handler error"
        self.cloud._event(_SVC, "config_update_response", {"result_code": code, "description": str(desc)})
