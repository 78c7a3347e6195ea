#!/usr/bin/env python3
"""The emulator's web console in a real headless browser (Debian's Chromium).

- starts iotda-emulator (plain MQTT, TLS with a generated test CA, console)
  with the guide's device registered (its fixed ClientId/password pair);
- runs the guide-style device script (tests/emulator/guide_device_cpython.py,
  CPython) over TLS with certificate verification: it logs in, subscribes,
  reports the guide's property report and waits for a message;
- opens http://127.0.0.1:PORT/ in Chromium and requires the console to show
  the device ONLINE and its property report (in the trace and as the last
  report);
- sends a command and a property get from the console's forms: the
  device's replies must show in the console;
- types a message into the console's form and sends it: the device script
  must print it.

Fails (exit 1) if any of these is not seen. Installs what it needs when it
is missing: `apt-get install -y chromium chromium-driver` (as root) and
`pip install selenium`.

usage: test_console_browser.py [EMULATOR] [--screenshot PNG]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEVICE_ID = "5fbbb784b4ec2202e982e643_868540050954037"
CLIENT_ID = DEVICE_ID + "_0_0_2021011909"
PASSWORD = "8001a12405743199b3396943a2ed397286117a9ebab4f5dfda8dd6fafe341d94"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MESSAGE = "Hello from the browser console"


def log(*a):
    print("==", *a, flush=True)


def ensure_browser():
    if os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER):
        return
    if os.geteuid() != 0:
        sys.exit("FAIL: chromium / chromium-driver missing and not root to install them")
    log("installing chromium and chromium-driver (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]
    if subprocess.run(cmd, env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(cmd, env=env, check=True)


def ensure_selenium():
    try:
        import selenium  # noqa: F401
    except ImportError:
        log("installing selenium (pip)")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "selenium"], check=True)


def find_emulator(arg):
    if arg:
        return os.path.abspath(arg)
    for c in ("target/release/iotda-emulator", "target/debug/iotda-emulator"):
        p = os.path.join(ROOT, c)
        if os.access(p, os.X_OK):
            return p
    log("building the emulator (cargo build -p iotda-emulator)")
    subprocess.run(["cargo", "build", "-q", "-p", "iotda-emulator"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target/debug/iotda-emulator")


def start_emulator(binary, tmp):
    cfg = os.path.join(tmp, "iotda.toml")
    with open(cfg, "w") as f:
        f.write('[[device]]\ndevice_id = "%s"\nclient_id = "%s"\npassword = "%s"\n'
                % (DEVICE_ID, CLIENT_ID, PASSWORD))
    logf = open(os.path.join(tmp, "emulator.log"), "w+")
    p = subprocess.Popen([binary, "--config", cfg, "--mqtt", "127.0.0.1:0", "--http", "127.0.0.1:0",
                          "--mqtts", "127.0.0.1:0", "--tls-generate", os.path.join(tmp, "tls")],
                         stdout=logf, stderr=subprocess.STDOUT)
    addrs = {}
    deadline = time.time() + 20
    while time.time() < deadline and len(addrs) < 3:
        logf.seek(0)
        for line in logf.read().splitlines():
            for key in ("mqtts", "http"):
                tag = " %s listening on " % key
                if tag in line:
                    addrs[key] = line.split(tag)[1].strip()
            if "test CA certificate " in line:
                addrs["ca"] = line.split("test CA certificate ")[1].strip()
        if p.poll() is not None:
            break
        time.sleep(0.1)
    if len(addrs) < 3:
        p.kill()
        logf.seek(0)
        sys.exit("FAIL: the emulator did not start:\n" + logf.read())
    return p, logf, addrs


def main():
    args = sys.argv[1:]
    shot = None
    if "--screenshot" in args:
        i = args.index("--screenshot")
        shot = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    ensure_browser()
    ensure_selenium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    tmp = tempfile.mkdtemp(prefix="iotda-console-")
    emu = dev = driver = None
    failed = None
    try:
        emu, emu_log, addrs = start_emulator(find_emulator(args[0] if args else None), tmp)
        url = "http://%s/" % addrs["http"]
        log("emulator: console %s, MQTT over TLS %s (CA %s)" % (url, addrs["mqtts"], addrs["ca"]))
        host, port = addrs["mqtts"].rsplit(":", 1)
        dev_out = open(os.path.join(tmp, "device.out"), "w+")
        env = dict(os.environ, IOTDA_HOST=host, IOTDA_PORT=port, IOTDA_CA=addrs["ca"],
                   IOTDA_TLS_NAME="localhost", IOTDA_WAIT="60", IOTDA_LINGER="3")
        dev = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/emulator/guide_device_cpython.py")],
                               stdout=dev_out, stderr=subprocess.STDOUT, env=env)

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1500",
                  "--user-data-dir=" + tempfile.mkdtemp(prefix="chromium-", dir=tmp)):
            opts.add_argument(a)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        driver.get(url)
        # The console re-renders its tables as events arrive: an element
        # found a moment ago may be gone; such a poll is simply retried.
        wait = WebDriverWait(driver, 20, poll_frequency=0.2,
                             ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))

        row_css = 'tr[data-device-id="%s"]' % DEVICE_ID

        def status(_):
            rows = driver.find_elements(By.CSS_SELECTOR, "#devices " + row_css + " td.status")
            return rows and rows[0].text == "ONLINE"
        wait.until(status, "the console never showed the device ONLINE")
        log("console shows %s ONLINE" % DEVICE_ID)

        def report_in_trace(_):
            for tr in driver.find_elements(By.CSS_SELECTOR, '#trace tbody tr[data-kind="uplink"]'):
                topic = tr.find_element(By.CSS_SELECTOR, "td.topic").text
                if topic.endswith("/sys/properties/report") and "T:15c, H: 85%" in tr.text:
                    return True
            return False
        wait.until(report_in_trace, "the console's trace never showed the property report")
        wait.until(lambda _: "WaterMeterControl" in driver.find_element(By.ID, "last-report").text,
                   "the console never showed the last report")
        wait.until(lambda _: "T:15c" in driver.find_element(By.ID, "shadow").text,
                   "the console's shadow never showed the reported state")
        log("console shows the property report (trace, last report, shadow)")

        def select_device(_):
            driver.find_element(By.CSS_SELECTOR, "#devices " + row_css).click()
            return driver.find_element(By.ID, "device-select").get_attribute("value") == DEVICE_ID
        wait.until(select_device, "could not select the device in the console")
        def fill(field_id, text):
            el = driver.find_element(By.ID, field_id)
            el.clear()
            el.send_keys(text)

        fill("cmd-service", "WaterMeterControl")
        fill("cmd-name", "open_valve")
        fill("cmd-paras", '{"valve": 1}')
        driver.find_element(By.ID, "cmd-send").click()
        wait.until(lambda _: '"echo"' in driver.find_element(By.ID, "cmd-result").text
                   and '"valve": 1' in driver.find_element(By.ID, "cmd-result").text,
                   "the console did not show the device's reply to the command")
        def response_in_trace(_):
            return any("/sys/commands/response/request_id=" in tr.text and '"echo"' in tr.text for tr in
                       driver.find_elements(By.CSS_SELECTOR, '#trace tbody tr[data-kind="uplink"]'))
        wait.until(response_in_trace, "the console's trace never showed the device's command response")
        log("console: command answered by the device: " +
            " ".join(driver.find_element(By.ID, "cmd-result").text.split()))
        fill("pget-service", "WaterMeterControl")
        driver.find_element(By.ID, "pget-send").click()
        wait.until(lambda _: "T:15c" in driver.find_element(By.ID, "pget-result").text,
                   "the console did not show the device's answer to the property get")
        log("console: property get answered by the device")

        box = driver.find_element(By.ID, "msg-text")
        box.clear()
        box.send_keys(MESSAGE)
        driver.find_element(By.ID, "msg-send").click()
        wait.until(lambda _: "DELIVERED" in driver.find_element(By.ID, "msg-result").text,
                   "the console's message was not DELIVERED")
        log("console: message sent, platform says DELIVERED")

        def downlink_in_trace(_):
            return any(MESSAGE in tr.text for tr in
                       driver.find_elements(By.CSS_SELECTOR, '#trace tbody tr[data-kind="downlink"]'))
        wait.until(downlink_in_trace, "the console's trace never showed the downlink")
        if shot:
            driver.save_screenshot(shot)
            log("screenshot " + shot)
        deadline = time.time() + 15
        while time.time() < deadline and dev.poll() is None:
            time.sleep(0.1)
        dev_out.seek(0)
        out = dev_out.read()
        if MESSAGE not in out or "Subscribe Recv: Topic=$oc/devices/%s/sys/messages/down" % DEVICE_ID not in out:
            raise AssertionError("the device script did not print the console's message:\n" + out)
        log("the device script printed: " + [l for l in out.splitlines() if "Subscribe Recv" in l][0])

    except Exception as e:  # noqa: BLE001 - every failure is reported the same way
        failed = "%s: %s" % (type(e).__name__, e)
    finally:
        if driver is not None:
            if failed:
                try:
                    driver.save_screenshot(os.path.join(tmp, "failure.png"))
                except Exception:  # noqa: BLE001
                    pass
            driver.quit()
        for p in (dev, emu):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
    if failed:
        print("FAIL:", failed)
        for name in ("emulator.log", "device.out"):
            path = os.path.join(tmp, name)
            if os.path.exists(path):
                print("---- %s (tail) ----" % name)
                print("".join(open(path).readlines()[-25:]))
        print("(kept %s)" % tmp)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("OK: console showed the device online and its report; its message reached the device script")
    return 0


if __name__ == "__main__":
    sys.exit(main())
