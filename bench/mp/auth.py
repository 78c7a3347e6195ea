# Huawei IoTDA credentials (client id, user name, password) for one hour:
# the project's Rust huaweicloud.conninfo() against the pure-Python way
# (micropython-hmac over hashlib.sha256, as a pure-Python SDK does it).
# P: impl (rust|python), duration_ms or count
from benchlib import *
import hashlib
import binascii

impl = P["impl"]
count = P.get("count", 0)
duration = P.get("duration_ms", 1000) * 1000
DEVICE = "6512a8f1e4b0c1d2e3f4a5b6_bench01"
SECRET = "s3cret-For-bench-0123456789"
T = 1700000000  # 2023-11-14 22:13:20 UTC -> stamp 2023111422
WANT = "2023111422"

if impl == "rust":
    try:
        import huaweicloud
    except ImportError:
        result(impl=impl, missing=True)
        raise SystemExit(0)

    def one():
        return huaweicloud.conninfo(DEVICE, SECRET, time=T)
else:
    import hmac

    class _Sha256:
        # micropython-hmac wants digest_size, block_size and copy(); the
        # firmware's hashlib.sha256 has none, so keep the data and hash it
        # in one go at digest() time.
        digest_size = 32
        block_size = 64

        def __init__(self, d=b""):
            self._d = d

        def update(self, d):
            self._d += d

        def copy(self):
            return _Sha256(self._d)

        def digest(self):
            return hashlib.sha256(self._d).digest()

    def one():
        tm = time.gmtime(T)
        stamp = "%04d%02d%02d%02d" % (tm[0], tm[1], tm[2], tm[3])
        pw = binascii.hexlify(hmac.new(stamp.encode(), SECRET.encode(), _Sha256).digest()).decode()
        return (DEVICE + "_0_0_" + stamp, DEVICE, pw)

r = one()
check = list(r) if isinstance(r, (tuple, list)) else None
if count:
    for _ in range(count):
        one()
    result(impl=impl, count=count, value=check)
else:
    n = 0
    t0 = ticks_us()
    while True:
        for _ in range(16):
            one()
        n += 16
        dt = ticks_diff(ticks_us(), t0)
        if dt >= duration:
            break
    result(impl=impl, n=n, us=dt, per_call_us=dt / n, value=check)
