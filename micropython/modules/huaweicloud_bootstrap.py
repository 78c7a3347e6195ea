# huaweicloud_bootstrap: Huawei Cloud IoTDP device provisioning (bootstrap).
# The device logs in to the bootstrap server as it would to IoTDA (secret or
# certificate, same ClientId), subscribes $oc/devices/{id}/sys/bootstrap/down,
# publishes $oc/devices/{id}/sys/bootstrap/up and gets back the IoTDA address
# ("host:port") to log in to. Optional, frozen by micropython/manifest.py.
# Docs: docs/huaweicloud.md, "Bootstrap".
import json
import time
from huaweicloud import topic, BOOTSTRAP_UP, BOOTSTRAP_DOWN


def bootstrap(cloud, keyword=None, timeout=30):
    """cloud: a HuaweiCloud set up for the bootstrap server (not connected).
    Returns (host, port, answer): the IoTDA address and the whole answer
    (a dict with "address", "initConfig", ...). OSError(110) after timeout
    seconds without an answer; ValueError for a malformed one; what
    umqtt's connect() raises for a refused login."""
    import umqtt
    dev = cloud._id
    down = topic(BOOTSTRAP_DOWN, dev)
    got = []

    def on_msg(t, msg):
        if (t.decode() if isinstance(t, bytes) else t) == down:
            got.append(msg)

    m = umqtt.MQTTClient(dev, cloud._server, port=cloud._port, keepalive=60, ssl=cloud._ssl,
                         ssl_params=cloud._ssl_params, reconn=False)
    m.set_credentials_cb(cloud._credentials)
    m.set_callback(on_msg)
    try:
        m.connect()
        m.subscribe(down, 1)
        m.publish(topic(BOOTSTRAP_UP, dev), json.dumps({"baseStrategyKeyword": keyword}) if keyword else "",
                  False, 1)
        end = time.ticks_add(time.ticks_ms(), int(timeout * 1000))
        while not got:
            if time.ticks_diff(end, time.ticks_ms()) <= 0:
                raise OSError(110)  # ETIMEDOUT
            m.check_msg()
            time.sleep_ms(20)
        try:
            m.disconnect()
        except OSError:
            pass
    finally:
        m.close()
    answer = json.loads(got[0])
    host, _, port = str(answer.get("address", "")).rpartition(":") if isinstance(answer, dict) else ("", "", "")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("malformed bootstrap answer: %r" % (got[0],))
    return host, int(port), answer
