# huaweicloud_gateway: a gateway's sub-devices ($sub_device_manager) over a
# huaweicloud.HuaweiCloud client: add / delete requests, status updates,
# the platform's notifications, list sync, and commands addressed to a
# sub-device routed to its own handler. Frozen (micropython/manifest.py);
# docs/huaweicloud.md, "Gateway and sub-devices".
import huaweicloud as _hc

_SVC = "$sub_device_manager"
_MAX_ADD = 50  # devices per add / delete request (IoTDA)
_MAX_STATUS = 100  # statuses per update


def _ids(devices, what):
    out = []
    for d in devices:
        out.append(_hc.check_id(_hc._text(d, what), 0))
    return out


class Gateway:
    """The gateway side of IoTDA's sub-device management for `cloud`."""

    def __init__(self, cloud, callback=None):
        self.cloud = cloud
        self.sub_devices = {}  # device_id -> DeviceInfo dict, as the platform last said
        self.version = 0  # of the platform's sub-device list, for sync()
        self._cb = cloud._check(callback)
        self._seq = 0
        cloud.set_service_handler(_SVC, self._on_event)

    def set_callback(self, f):
        """f(event_type, paras) after each $sub_device_manager event is applied."""
        self._cb = self.cloud._check(f)

    def set_command_handler(self, device_id, f):
        """Commands whose object_device_id is `device_id` go to f(request_id,
        command), answered as set_command_callback's are; None removes it."""
        device_id = _hc.check_id(_hc._text(device_id, "device_id"), 0)
        if self.cloud._check(f) is None:
            self.cloud._sub_commands.pop(device_id, None)
        else:
            self.cloud._sub_commands[device_id] = f

    def _send(self, event_type, paras, event_id=None):
        if event_id is None:
            self._seq += 1
            event_id = "%08x-0000-4000-8000-%012x" % (_hc.device_ms() & 0xFFFFFFFF, self._seq)
        svc = {"service_id": _SVC, "event_type": event_type, "event_time": _hc.event_time(),
               "event_id": _hc._text(event_id, "event_id"), "paras": paras}
        self.cloud._pub(_hc.EVENTS_UP, {"object_device_id": self.cloud._id, "services": [svc]})
        return event_id

    def add_sub_devices(self, devices, event_id=None):
        """add_sub_device_request: `devices` is a list (1..50) of dicts with
        node_id and product_id (mandatory), device_id, name, description,
        extension_info. Returns the event id; the platform answers with
        add_sub_device_response."""
        if not isinstance(devices, (list, tuple)) or not 0 < len(devices) <= _MAX_ADD:
            raise ValueError("devices: a list of 1..%d dicts" % _MAX_ADD)
        out = []
        for d in devices:
            if not isinstance(d, dict) or not isinstance(d.get("node_id"), str) \
                    or not isinstance(d.get("product_id"), str):
                raise ValueError("each device needs node_id and product_id (str)")
            d = dict(d)
            d["parent_device_id"] = self.cloud._id
            if "device_id" in d:
                _ids((d["device_id"],), "device_id")
            out.append(d)
        return self._send("add_sub_device_request", {"devices": out}, event_id)

    def delete_sub_devices(self, device_ids, event_id=None):
        """delete_sub_device_request for 1..50 sub-device ids."""
        if not isinstance(device_ids, (list, tuple)) or not 0 < len(device_ids) <= _MAX_ADD:
            raise ValueError("device_ids: a list of 1..%d ids" % _MAX_ADD)
        return self._send("delete_sub_device_request", {"devices": _ids(device_ids, "device_id")}, event_id)

    def update_status(self, statuses, event_id=None):
        """sub_device_update_status: `statuses` is {device_id: "ONLINE" |
        "OFFLINE"} (True / False accepted), 1..100 of them."""
        if not isinstance(statuses, dict) or not 0 < len(statuses) <= _MAX_STATUS:
            raise ValueError("statuses: a dict of 1..%d {device_id: status}" % _MAX_STATUS)
        out = []
        for k, v in statuses.items():
            if v is True or v is False:
                v = "ONLINE" if v else "OFFLINE"
            if v not in ("ONLINE", "OFFLINE"):
                raise ValueError("status must be ONLINE or OFFLINE")
            out.append({"device_id": _ids((k,), "device_id")[0], "status": v})
        return self._send("sub_device_update_status", {"device_statuses": out}, event_id)

    def sync(self):
        """sub_device_sync_request from self.version: the platform sends the
        changes since (as add / delete notifications)."""
        return self._send("sub_device_sync_request", {"version": self.version})

    def report_properties(self, devices, qos=1):
        """The batch report, `HuaweiCloud.report_sub_device_properties`."""
        return self.cloud.report_sub_device_properties(devices, qos)

    def _on_event(self, event_type, paras):
        devs = paras.get("devices") or paras.get("successful_devices") or []
        if not isinstance(devs, list):
            return self.cloud._report("malformed %s (devices not a list)" % event_type)
        subs = self.sub_devices
        for d in devs:
            if isinstance(d, str):  # delete_sub_device_response lists ids
                d = {"device_id": d}
            i = d.get("device_id") if isinstance(d, dict) else None
            if not isinstance(i, str):
                continue
            if event_type in ("add_sub_device_notify", "add_sub_device_response"):
                subs[i] = d
            elif event_type in ("delete_sub_device_notify", "delete_sub_device_response"):
                subs.pop(i, None)
                self.cloud._sub_commands.pop(i, None)
            elif event_type == "sub_device_update_status_response" and i in subs:
                subs[i]["status"] = d.get("status")
        v = paras.get("version")
        if isinstance(v, int) and not isinstance(v, bool):
            self.version = v
        if self._cb is not None:
            self.cloud._call("gateway callback", self._cb, event_type, paras)
