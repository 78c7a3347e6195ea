"""Shared harness of the test runners and the benchmark (CPython 3).

    sys.path.insert(0, "<repo>/tests"); from lib import ...

  lib.net         free_port(), wait_port()
  lib.broker      Mosquitto: one mosquitto process (start on a free port,
                  restart on the same port, stop, log, context manager)
  lib.mqtt_bytes  MQTT 3.1.1 packets for the raw-socket test doubles, and a
                  reader that splits a byte stream into packets
  lib.proc        Process / run(): the firmware on a script, output read line
                  by line, killed (whole process group) after a timeout
  lib.emulator    Emulator: the IoTDA emulator on free ports, its listeners'
                  addresses read from its log, stopped
"""
