"""The IoTDA emulator (rust/iotda-emulator) for the end-to-end tests.

    emu = Emulator(binary, ["--config", cfg], work, listeners=("mqtt", "http"))
    emu.addrs["http"]    "127.0.0.1:PORT" of each listener it announced
    emu.port("mqtt")     the port as an int
    emu.log_text()       its log so far (stdout and stderr, in work/emulator.log)
    emu.stop()           terminate, then kill after 5 s

Its listeners are given as 127.0.0.1:0 (in the config or the flags): the
addresses are read back from the "<kind> listening on <addr>" log lines.
RuntimeError (with the log's tail) when the listeners do not appear in time.
"""
import os
import re
import subprocess
import time


class Emulator:
    def __init__(self, binary, args, work, listeners=("mqtt", "http"), timeout=10):
        self.log = open(os.path.join(work, "emulator.log"), "w+")
        self.proc = subprocess.Popen([binary, *args], stdout=self.log, stderr=subprocess.STDOUT)
        self.addrs = {}
        deadline = time.monotonic() + timeout
        while True:
            self.addrs.update(re.findall(r"(mqtts|mqtt|http) listening on (\S+)", self.log_text()))
            if set(listeners) <= set(self.addrs):
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("emulator did not start:\n" + self.log_text()[-2000:])
            time.sleep(0.1)

    def port(self, kind):
        return int(self.addrs[kind].rsplit(":", 1)[1])

    def log_text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
