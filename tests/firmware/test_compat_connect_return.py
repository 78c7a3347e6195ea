# Compatibility row "connect() return": QuecPython's connect() returns 0, also
# when the broker resumes a session. The session-present flag is kept
# readable as the attribute session_present (ours).
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid

ck = Checker("compat: connect() returns 0")
cid = uid("ret")
c = MQTTClient(cid, HOST, PORT, reconn=False)
ck.eq(c.connect(clean_session=True), 0, "clean session: 0")
ck.eq(c.session_present, False, "session_present False")
c.disconnect()
ck.eq(c.connect(clean_session=False), 0, "new persistent session: 0")
c.disconnect()
ck.eq(c.connect(clean_session=False), 0, "resumed session: still 0")
ck.eq(c.session_present, True, "session_present True: the broker resumed it")
c.disconnect()
ck.eq(c.connect(clean_session=True), 0, "clean again: 0")
ck.eq(c.session_present, False, "session_present False")
c.disconnect()
ck.finish()
