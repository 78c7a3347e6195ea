# What a command / property set / property get callback may return and the
# reply each return gets, without a network: downlinks are fed to the
# client's dispatch and what it would publish is recorded. Pins the default
# replies and the "bad return" reports (docs/huaweicloud.md).
import json
import huaweicloud as hc
from mqtt_test_util import Checker

ck = Checker("huaweicloud handler returns")
D = "dev_1"
c = hc.HuaweiCloud(D, "secret", "127.0.0.1", 1883)
sent = []
errors = []
c._pub = lambda kind, payload, qos=1, rid=None: sent.append((kind, rid, payload))
c.error_register_cb(errors.append)


def down(path, rid, body):
    del sent[:]
    del errors[:]
    c._dispatch("$oc/devices/%s/sys/%s/request_id=%s" % (D, path, rid), body)
    return sent[:], errors[:]


def command(ret, body='{"command_name": "x"}'):
    c.set_command_callback(lambda rid, req: ret)
    return down("commands", "c1", body)


def prop_set(ret, body='{"services": []}'):
    c.set_property_set_callback(lambda rid, req: ret)
    return down("properties/set", "s1", body)


def prop_get(ret, body='{"service_id": "S"}'):
    c.set_property_get_callback(lambda rid, req: ret)
    return down("properties/get", "g1", body)


CR, SR, GR = hc.COMMAND_RESPONSE, hc.PROPERTIES_SET_RESPONSE, hc.PROPERTIES_GET_RESPONSE
BAD_CMD = ["huaweicloud: command callback: bad return"]
BAD_SET = ["huaweicloud: property set callback: bad return"]
handler_error = {"result_code": 1, "response_name": "handler error"}

# commands
ck.eq(command(None), ([], []), "command: None, answered later")
ck.eq(command(0), ([(CR, "c1", {"result_code": 0})], []), "command: 0")
ck.eq(command(7), ([(CR, "c1", {"result_code": 7})], []), "command: 7")
ck.eq(command({"paras": {"a": 1}}), ([(CR, "c1", {"paras": {"a": 1}, "result_code": 0})], []),
      "command: a dict gets result_code 0")
ck.eq(command({"result_code": 3}), ([(CR, "c1", {"result_code": 3})], []), "command: a dict's own result_code")
for bad in (True, False, "x", 1.5, [1]):
    ck.eq(command(bad), ([(CR, "c1", handler_error)], BAD_CMD), "command: %r is a bad return" % (bad,))
r = command(0, "[1]")
ck.eq(r, ([(CR, "c1", {"result_code": 1, "response_name": "malformed request"})],
          ["huaweicloud: malformed command (not a JSON object)"]), "command: malformed request")
c.set_command_callback(None)
ck.eq(down("commands", "c2", "{}"), ([(CR, "c2", {"result_code": 1, "response_name": "no handler"})], []),
      "command: no handler")
c.set_command_callback(lambda rid, req: 1 / 0)
r = down("commands", "c3", "{}")
ck.eq(r[0], [(CR, "c3", handler_error)], "command: the callback raises")
ck.ok(len(r[1]) == 1 and r[1][0].startswith("huaweicloud: command callback: ZeroDivisionError"), "command: the raise reported: %s" % r[1])

# property set
ok = {"result_code": 0, "result_desc": "success"}
set_error = {"result_code": 1, "result_desc": "handler error"}
for ret in (None, 0, False, 0.0):
    ck.eq(prop_set(ret), ([(SR, "s1", ok)], []), "property set: %r is success" % (ret,))
ck.eq(prop_set(5), ([(SR, "s1", {"result_code": 5, "result_desc": "failure"})], []), "property set: 5")
ck.eq(prop_set({"result_desc": "x"}), ([(SR, "s1", {"result_desc": "x", "result_code": 0})], []),
      "property set: a dict gets result_code 0")
for bad in (True, "x", 1.5, [1]):
    ck.eq(prop_set(bad), ([(SR, "s1", set_error)], BAD_SET), "property set: %r is a bad return" % (bad,))
ck.eq(prop_set(0, "nope"), ([(SR, "s1", {"result_code": 1, "result_desc": "malformed request"})],
                            ["huaweicloud: malformed property set request (not a JSON object)"]),
      "property set: malformed request")
c.set_property_set_callback(None)
ck.eq(down("properties/set", "s2", "{}"), ([(SR, "s2", {"result_code": 1, "result_desc": "no handler"})], []),
      "property set: no handler")

# property get
svc = [{"service_id": "S", "properties": {"p": 1}}]
ck.eq(prop_get({"S": {"p": 1}}), ([(GR, "g1", {"services": svc})], []), "property get: a dict of services")
ck.eq(prop_get({"services": svc}), ([(GR, "g1", {"services": svc})], []), "property get: {'services': [...]}")
ck.eq(prop_get(svc), ([(GR, "g1", {"services": svc})], []), "property get: a list")
ck.eq(prop_get(None), ([(GR, "g1", {"services": []})], []), "property get: None")
r = prop_get(5)
ck.eq(r[0], [(GR, "g1", {"services": []})], "property get: a bad return answers no services")
ck.ok(len(r[1]) == 1 and r[1][0].startswith("huaweicloud: property get callback result: TypeError"), "property get: the bad return reported: %s" % r[1])
ck.eq(prop_get(None, "1"), ([(GR, "g1", {"services": []})],
                            ["huaweicloud: malformed property get request (not a JSON object)"]),
      "property get: malformed request")

ck.finish()
