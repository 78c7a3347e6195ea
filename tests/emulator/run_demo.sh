#!/usr/bin/env bash
# Runs the guide's script (examples/huaweicloud_demo.py, unchanged) on the
# unix-port firmware against the local IoTDA emulator:
#   - the emulator runs with the guide's device registered (its fixed
#     ClientId/password pair, copied from Huawei's tool in the script);
#   - the script's Huawei host name resolves to 127.0.0.1 for this run only
#     (private mount + network namespace: `unshare -mn`, a private /etc/hosts
#     bind-mounted; nothing outside sees port 1883 or the hosts file);
#   - shows the property report arriving at the platform, sends a downlink
#     through the REST messages API, shows the script printing it and exiting.
#
# With IOTDA_TLS=1 the device goes over TLS with certificate verification:
# the emulator listens on 8883 with a test CA it generates (its server
# certificate names the guide's host), and the script is the guide's with
# PORT = 8883 and `ssl=True, ssl_params={'cadata': <the test CA, DER>}`
# added to its MQTTClient(...) call (the rest unchanged).
#
# With IOTDA_CONNINFO=<path to iotda-conninfo> it checks the host tool
# instead: the device is registered with a secret, and the script is the
# guide's with its CLIENT_ID/USER/PASSWORD lines replaced by the tool's
# output (the rest unchanged): the emulator's HMAC check must accept it.
#
# usage: tests/emulator/run_demo.sh [MICROPYTHON] [EMULATOR]
#   MICROPYTHON  default build/unix/micropython
#   EMULATOR     default $IOTDA_EMULATOR, else target/{release,debug}/iotda-emulator
#                (built with cargo if neither exists)
# Needs root (unshare, mount). Exit 0 on success, 1 on failure, 2 on usage.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HOST="a15fbbd7ce.iot-mqtts.cn-north-4.myhuaweicloud.com"
DEVICE_ID="5fbbb784b4ec2202e982e643_868540050954037"
CLIENT_ID="5fbbb784b4ec2202e982e643_868540050954037_0_0_2021011909"
PASSWORD="8001a12405743199b3396943a2ed397286117a9ebab4f5dfda8dd6fafe341d94"
HTTP="127.0.0.1:8080"
SCRIPT="$ROOT/examples/huaweicloud_demo.py"

if [[ "${1:-}" != "--inside" ]]; then
    MP="$(realpath -m "${1:-$ROOT/build/unix/micropython}")"
    EMU="${2:-${IOTDA_EMULATOR:-}}"
    if [[ -z "$EMU" ]]; then
        for c in "$ROOT/target/release/iotda-emulator" "$ROOT/target/debug/iotda-emulator"; do
            if [[ -x "$c" ]]; then EMU="$c"; break; fi
        done
    fi
    if [[ -z "$EMU" ]]; then
        echo "== building the emulator (cargo build -p iotda-emulator)"
        (cd "$ROOT" && cargo build -q -p iotda-emulator) || { echo "FAIL: emulator build"; exit 1; }
        EMU="$ROOT/target/debug/iotda-emulator"
    fi
    EMU="$(realpath -m "$EMU")"
    [[ -x "$MP" ]] || { echo "FAIL: no firmware at $MP (build it first)"; exit 2; }
    [[ -x "$EMU" ]] || { echo "FAIL: no emulator binary at $EMU"; exit 2; }
    [[ -f "$SCRIPT" ]] || { echo "FAIL: $SCRIPT missing"; exit 2; }
    if [[ "$(id -u)" != 0 ]] || ! command -v unshare >/dev/null; then
        echo "SKIP: needs root and unshare for the private network namespace and /etc/hosts"
        exit 2
    fi
    for tool in ip mount curl timeout; do
        command -v "$tool" >/dev/null || { echo "FAIL: $tool not found"; exit 2; }
    done
    exec timeout --kill-after=5 90 unshare -mn -- bash "${BASH_SOURCE[0]}" --inside "$MP" "$EMU"
fi

# ---- inside the private namespaces ----
MP="$2"
EMU="$3"
TMP="$(mktemp -d /tmp/iotda-demo.XXXXXX)"
EMU_PID=""
MP_PID=""
cleanup() {
    [[ -n "$MP_PID" ]] && kill "$MP_PID" 2>/dev/null || true
    if [[ -n "$EMU_PID" ]]; then
        kill -TERM "$EMU_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$EMU_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$EMU_PID" 2>/dev/null || true
    fi
    umount /etc/hosts 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "---- emulator log (tail) ----"; tail -n 30 "$TMP/emulator.log" 2>/dev/null || true
    echo "---- script output ----"; cat "$TMP/script.out" 2>/dev/null || true
    exit 1
}

ip link set lo up
printf '127.0.0.1 localhost\n::1 localhost\n127.0.0.1 %s\n' "$HOST" > "$TMP/hosts"
chmod 644 "$TMP/hosts"
mount --bind "$TMP/hosts" /etc/hosts
getent hosts "$HOST" | grep -q '^127\.0\.0\.1' || fail "private hosts file not effective"

if [[ -n "${IOTDA_CONNINFO:-}" ]]; then
    SECRET="paste-test-secret-$$"
    cat > "$TMP/iotda.toml" <<EOF
mqtt = "127.0.0.1:1883"
http = "$HTTP"
project_id = "local"

# The guide's device id, registered with a secret: only credentials
# computed from it are accepted.
[[device]]
device_id = "$DEVICE_ID"
secret = "$SECRET"
EOF
    echo "== host tool: iotda-conninfo --device-id $DEVICE_ID --secret-stdin"
    printf '%s' "$SECRET" | "$IOTDA_CONNINFO" --device-id "$DEVICE_ID" --secret-stdin > "$TMP/conninfo.py" \
        || fail "iotda-conninfo failed"
    sed 's/^/   /' "$TMP/conninfo.py"
    # the guide's script with the three credential lines pasted over
    python3 - "$SCRIPT" "$TMP/conninfo.py" "$TMP/pasted_demo.py" <<'PY' || fail "could not paste the credentials"
import sys
script, tool, out = sys.argv[1:]
lines = {l.split(" =")[0]: l.rstrip("\n") for l in open(tool) if " = " in l}
assert {"CLIENT_ID", "USER", "PASSWORD"} <= set(lines), lines
text = open(script).read().split("\n")
replaced = 0
for i, l in enumerate(text):
    for key in ("CLIENT_ID", "USER", "PASSWORD"):
        if l.startswith(key + " ="):
            text[i] = lines[key]
            replaced += 1
assert replaced == 3, replaced
open(out, "w").write("\n".join(text))
PY
    SCRIPT="$TMP/pasted_demo.py"
else
    cat > "$TMP/iotda.toml" <<EOF
mqtt = "127.0.0.1:1883"
http = "$HTTP"
project_id = "local"

# The guide's device: fixed ClientId/password pair copied from Huawei's tool.
[[device]]
device_id = "$DEVICE_ID"
client_id = "$CLIENT_ID"
password = "$PASSWORD"
EOF
fi

EMU_ARGS=(--config "$TMP/iotda.toml")
MQTT_DESC="MQTT 127.0.0.1:1883"
if [[ "${IOTDA_TLS:-0}" == 1 ]]; then
    EMU_ARGS+=(--mqtts 127.0.0.1:8883 --tls-generate "$TMP/tls" --tls-name "$HOST")
    MQTT_DESC="MQTT over TLS 127.0.0.1:8883, test CA $TMP/tls/ca.pem"
    # the script (the guide's, or the pasted one) with TLS on
    python3 - "$SCRIPT" "$TMP/tls/ca.der" "$TMP/tls_demo.py" <<'PY' || fail "could not turn TLS on in the script"
import sys
script, ca, out = sys.argv[1:]
text = open(script).read()
n_port = text.count("PORT = 1883")
n_call = text.count("keepalive=30)")
assert n_port == 1 and n_call == 1, (n_port, n_call)
text = text.replace("PORT = 1883", "PORT = 8883")
text = text.replace("keepalive=30)", "keepalive=30, ssl=True, ssl_params={'cadata': open(%r, 'rb').read()})" % ca)
open(out, "w").write(text)
PY
    SCRIPT="$TMP/tls_demo.py"
fi
echo "== starting the IoTDA emulator ($MQTT_DESC, REST $HTTP, private namespace)"
"$EMU" "${EMU_ARGS[@]}" > "$TMP/emulator.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 100); do
    grep -q "http listening on" "$TMP/emulator.log" 2>/dev/null && break
    kill -0 "$EMU_PID" 2>/dev/null || fail "emulator exited"
    sleep 0.1
done
grep -q "http listening on" "$TMP/emulator.log" || fail "emulator did not start"
echo "== console: http://$HTTP/ (this run's network namespace is private; to watch a script in"
echo "   a browser, run the emulator yourself: target/release/iotda-emulator --device ID=SECRET, then open it)"
if [[ "${IOTDA_TLS:-0}" == 1 ]]; then
    grep -q "mqtts listening on 127.0.0.1:8883" "$TMP/emulator.log" || fail "no TLS listener"
    echo "== the script, with TLS on (diff against the guide's):"
    diff "$ROOT/examples/huaweicloud_demo.py" "$SCRIPT" | sed 's/^/   /' || true
fi

echo "== running the guide's script: $MP ${SCRIPT#$ROOT/}"
(cd "$ROOT" && exec timeout 60 "$MP" "$SCRIPT") > "$TMP/script.out" 2>&1 &
MP_PID=$!

UPLINKS="http://$HTTP/emulator/devices/$DEVICE_ID/uplinks"
got=""
for _ in $(seq 150); do
    if curl -sf "$UPLINKS" | grep -q 'sys/properties/report'; then got=1; break; fi
    kill -0 "$MP_PID" 2>/dev/null || break
    sleep 0.1
done
[[ -n "$got" ]] || fail "no property report reached the platform"
echo "== UP: what the device sent (GET /emulator/devices/{device_id}/uplinks):"
curl -sf "$UPLINKS" | python3 -c '
import json, sys
for u in json.load(sys.stdin)["uplinks"]:
    print("   %s qos=%s %s" % (u["topic"], u["qos"], " ".join(u["payload"].split())))
' 2>/dev/null || curl -sf "$UPLINKS"; echo

# The script subscribes right after connecting; wait until it has.
for _ in $(seq 50); do
    curl -sf "http://$HTTP/emulator/devices" | grep -q 'sys/messages/down' && break
    sleep 0.1
done

BODY='{"message": "Hello from the local IoTDA emulator REST API", "name": "demo"}'
echo "== DOWN: POST /v5/iot/local/devices/$DEVICE_ID/messages $BODY"
RESP="$(curl -sf -X POST -H 'Content-Type: application/json' -d "$BODY" \
    "http://$HTTP/v5/iot/local/devices/$DEVICE_ID/messages")" || fail "messages API call failed"
echo "   platform answered: $RESP"
echo "$RESP" | grep -q '"DELIVERED"' || fail "message not delivered: $RESP"

rc=0
wait "$MP_PID" || rc=$?
MP_PID=""
echo "== the script printed:"
sed 's/^/   /' "$TMP/script.out"
[[ "$rc" == 0 ]] || fail "script exited with status $rc"
grep -q "Subscribe Recv: Topic=\$oc/devices/$DEVICE_ID/sys/messages/down" "$TMP/script.out" \
    || fail "the script did not print the downlink"
grep -q "Hello from the local IoTDA emulator REST API" "$TMP/script.out" \
    || fail "downlink content missing in the script's output"
grep -q "$DEVICE_ID: offline" "$TMP/emulator.log" || sleep 0.5
echo "== emulator log:"
grep -E "online|offline|uplink|subscribed|downlink|message " "$TMP/emulator.log" | sed 's/^/   /'
if [[ -n "${IOTDA_CONNINFO:-}" ]]; then
    grep -q "sign type 0" "$TMP/emulator.log" || fail "no sign-type-0 login in the emulator log"
    echo "OK: iotda-conninfo's credentials, pasted into the guide's script, logged in (HMAC checked)"
else
    if [[ "${IOTDA_TLS:-0}" == 1 ]]; then
        grep -q "$DEVICE_ID: online (.*over TLS" "$TMP/emulator.log" || fail "the device did not log in over TLS"
        echo "OK: guide script ran over TLS (certificate verified) against the local IoTDA emulator (report up, message down, clean exit)"
    else
        echo "OK: guide script ran against the local IoTDA emulator (report up, message down, clean exit)"
    fi
fi
