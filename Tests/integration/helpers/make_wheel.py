#!/usr/bin/env python3
"""make_wheel.py NAME VERSION DIR: writes DIR/NAME-VERSION-py3-none-any.whl, a
real (if tiny) pure-Python wheel — NAME.py with VERSION, its dist-info METADATA,
WHEEL and RECORD with each file's sha256 — for the lock tests' local package
index (no setuptools or wheel package needed, no network)."""
import base64
import hashlib
import os
import sys
import zipfile

name, version, directory = sys.argv[1:4]
files = {
    f"{name}.py": f'VERSION = "{version}"\n',
    f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: a test package\n",
    f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: make_wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for path, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(text.encode())}")
record.append(f"{name}-{version}.dist-info/RECORD,,")
files[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
os.makedirs(directory, exist_ok=True)
target = os.path.join(directory, f"{name}-{version}-py3-none-any.whl")
with zipfile.ZipFile(target, "w") as wheel:
    for path, text in files.items():
        info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
        wheel.writestr(info, text)
print(target)
