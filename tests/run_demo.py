#!/usr/bin/env python3
"""`make demo`: run the unchanged Huawei guide script against a local broker,
with friendly narration. Same as: tests/run_guide_script.py <micropython> --demo
"""
import os
import subprocess
import sys

if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: tests/run_demo.py <path-to-micropython>")
        sys.exit(2)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.exit(subprocess.call([sys.executable, os.path.join(here, "run_guide_script.py"),
                              sys.argv[1], "--demo"] + sys.argv[2:]))
