# _huaweicloud's streaming SHA-256 (huaweicloud_ota checks packages with it):
# known digests, any chunking, the state left usable by sha256_hex, and bad
# input: a state of the wrong size or overwritten, data overlapping it,
# wrong types.
import _huaweicloud as hc
from mqtt_test_util import Checker

ck = Checker("huaweicloud: streaming sha256")
# Expected values computed on the host with CPython's hashlib, not by this module:
#   hashlib.sha256(b"").hexdigest(); hashlib.sha256(bytes(range(256)) * 5).hexdigest()
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
DATA = bytes(range(256)) * 5
DATA_SHA = "d414b085826eb06778483ba35564dc849e643359f69ed9747878ba6e54985bed"

st = hc.sha256_init()
ck.ok(isinstance(st, bytearray) and len(st) == 104, "the state is a 104-byte bytearray")
ck.eq(hc.sha256_hex(st), EMPTY, "digest of nothing")
for cut in (1, 63, 64, 65, 700):
    st = hc.sha256_init()
    hc.sha256_update(st, DATA[:cut])
    hc.sha256_update(st, memoryview(DATA)[cut:])
    ck.eq(hc.sha256_hex(st), DATA_SHA, "two chunks cut at %d (bytes, memoryview)" % cut)
st = hc.sha256_init()
buf = bytearray(100)
mv = memoryview(buf)
for i in range(0, len(DATA), 100):
    n = min(100, len(DATA) - i)
    buf[:n] = DATA[i:i + n]
    hc.sha256_update(st, mv[:n])
ck.eq(hc.sha256_hex(st), DATA_SHA, "one reused buffer, as a download does")
st = hc.sha256_init()
hc.sha256_update(st, DATA[:10])
hc.sha256_hex(st)
hc.sha256_update(st, DATA[10:])
ck.eq(hc.sha256_hex(st), DATA_SHA, "sha256_hex leaves the state usable")
hc.sha256_update(st, b"")
ck.eq(hc.sha256_hex(st), DATA_SHA, "an empty update changes nothing")

ck.raises(ValueError, lambda: hc.sha256_update(bytearray(103), b"x"), "a state of 103 bytes")
ck.raises(ValueError, lambda: hc.sha256_hex(bytearray(105)), "a state of 105 bytes")
ck.raises(ValueError, lambda: hc.sha256_update(bytearray(b"\xff" * 104), b"x"), "an overwritten state")
ck.raises(ValueError, lambda: hc.sha256_hex(bytearray(b"\xff" * 104)), "an overwritten state (hex)")
st = hc.sha256_init()
ck.raises(ValueError, lambda: hc.sha256_update(st, st), "data that is the state")
ck.raises(ValueError, lambda: hc.sha256_update(st, memoryview(st)[50:60]), "data inside the state")
ck.eq(hc.sha256_hex(st), EMPTY, "a refused update left the state as it was")
ck.raises(TypeError, lambda: hc.sha256_update(bytes(104), b"x"), "an immutable state")
# str data hashes its UTF-8 bytes, as MicroPython's hashlib does
a, b = hc.sha256_init(), hc.sha256_init()
hc.sha256_update(a, "h\u00e9")
hc.sha256_update(b, "h\u00e9".encode())
ck.eq(hc.sha256_hex(a), hc.sha256_hex(b), "str data: its UTF-8 bytes")
ck.raises(TypeError, lambda: hc.sha256_update(st, 5), "int data")
ck.raises(TypeError, lambda: hc.sha256_hex(None), "None state")
ck.finish()
