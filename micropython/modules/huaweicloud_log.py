# huaweicloud_log: device logs ($log: log_report, honouring the platform's
# log_config switch and end time) and the SDK information report
# ($sdk_info), over a huaweicloud.HuaweiCloud client. Frozen
# (micropython/manifest.py); docs/huaweicloud.md, "Device logs".
import huaweicloud as _hc

SDK_VERSION = "QuecPython_huaweicloud_v1"
TYPES = ("DEVICE_STATUS", "DEVICE_PROPERTY", "DEVICE_MESSAGE", "DEVICE_COMMAND")


class DeviceLog:
    """Log reports of `cloud`'s device; sent only while the platform's log
    collection is on (log_config switch "on", before its end_time)."""

    def __init__(self, cloud, enabled=False):
        self.cloud = cloud
        self.enabled = bool(enabled)  # the platform's switch (IoTDA: off until enabled)
        self.end_time = None  # yyyyMMddTHHmmssZ, UTC
        cloud.set_service_handler("$log", self._on_event)

    def _on_event(self, event_type, paras):
        if event_type != "log_config":
            return self.cloud._report("$log %s ignored" % event_type)
        sw = paras.get("switch")
        if sw not in ("on", "off", None):
            return self.cloud._report("malformed log_config (switch %r)" % (sw,))
        if sw is not None:
            self.enabled = sw == "on"
        t = paras.get("end_time")
        self.end_time = t if isinstance(t, str) else None

    def collecting(self):
        """True while reports go out."""
        return self.enabled and (self.end_time is None or _hc.event_time() < self.end_time)

    def report(self, content, log_type="DEVICE_STATUS", timestamp=None):
        """Sends one log_report; False (nothing sent) while collection is off."""
        content = _hc._text(content, "content")
        if log_type not in TYPES:
            raise ValueError("log_type: one of " + ", ".join(TYPES))
        if not self.collecting():
            return False
        if timestamp is None:
            timestamp = "%d000" % _hc.utc_time()
        p = {"timestamp": _hc._text(timestamp, "timestamp"), "type": log_type, "content": content}
        self.cloud._event("$log", "log_report", p)
        return True


def report_sdk_info(cloud, sw_version=None, fw_version=None, device_ip=None):
    """$sdk_info sdk_info_report: this SDK's version, and the device's
    software / firmware versions and IP when given (as the C SDK sends it)."""
    p = {"device_sdk_version": SDK_VERSION}
    for k, v in (("sw_version", sw_version), ("fw_version", fw_version), ("device_ip", device_ip)):
        if v is not None:
            p[k] = _hc._text(v, k)
    return cloud._event("$sdk_info", "sdk_info_report", p)
