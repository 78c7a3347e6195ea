# Heap of one connected client: constructing it, then connecting it (to the
# local sink), each measured as gc.mem_alloc() after a collection.
from benchlib import *

impl = P["impl"]
if impl == "umqtt":
    from umqtt import MQTTClient
    args = {"keepalive": 0}
else:
    from umqtt_simple import MQTTClient
    args = {}
cid = "sink-ram"
gc.collect()
gc.collect()
a = gc.mem_alloc()
c = MQTTClient(cid, HOST, PORT, **args)
gc.collect()
b = gc.mem_alloc()
c.connect()
gc.collect()
d = gc.mem_alloc()
result(impl=impl, construct=b - a, connect=d - b, total=d - a)
c.disconnect()
