# Review finding (hang / heap corruption, GIL build): a client without a
# background thread (keepalive=0, reconn=False) that is dropped while
# connected is closed by its finaliser: umqtt_client_del -> close_quietly ->
# the unix socket's MP_STREAM_CLOSE does MP_THREAD_GIL_EXIT() around
# close(2). With the GIL build the GC is guarded by the GIL alone, so the
# sweep (gc_sweep_run_finalisers) lets another thread run mid-collection;
# that thread's gc.collect() runs a second collection over the half-swept
# heap. Seen: the process hangs in the GC's thread handshake (every run),
# where explicitly close()d clients dropped the same way hold (the control
# below). A finaliser must not release the GIL: leave the close to a
# thread (as the keeper does) or to the script.
import _thread
import gc
from umqtt import MQTTClient
from mqtt_test_util import HOST, PORT, Checker, uid, now_ms, elapsed_ms, sleep_ms

ck = Checker("review: the finaliser closes a socket mid-GC")
stop = [False]
alive = [0]
alive_lock = _thread.allocate_lock()


def count(d):
    with alive_lock:
        alive[0] += d


def gc_loop():
    while not stop[0]:
        gc.collect()
    count(-1)


def churn():
    keep = {}
    i = 0
    while not stop[0]:
        keep[i % 50] = [i, bytearray(32)]
        i += 1
    count(-1)


def rounds(close_first, ms):
    n = 0
    t0 = now_ms()
    while elapsed_ms(t0) < ms:
        stop[0] = True
        while alive[0]:
            sleep_ms(10)
        clients = []
        for i in range(40):
            c = MQTTClient(uid("rv-fin"), HOST, PORT, keepalive=0, reconn=False)
            c.connect()  # no other thread runs while connecting
            clients.append(c)
        if close_first:
            for c in clients:
                c.close()
        stop[0] = False
        count(2)
        _thread.start_new_thread(gc_loop, ())
        _thread.start_new_thread(churn, ())
        sleep_ms(20)
        clients = None
        c = None
        gc.collect()  # runs the clients' finalisers
        n += 1
    stop[0] = True
    while alive[0]:
        sleep_ms(10)
    return n


n = rounds(True, 4000)
ck.ok(n > 0, "control: {} rounds of 40 close()d clients dropped under GC stress".format(n))
n = rounds(False, 8000)
ck.ok(n > 0, "{} rounds of 40 connected clients dropped under GC stress".format(n))
ck.finish()
