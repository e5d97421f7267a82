"""A PEP 517 build backend in the standard library only, so `pip install ./clients/python`
works offline with no index and no build dependencies (setuptools without `wheel` cannot build
wheels, and pip's isolated build would have to download them)."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zipfile

NAME = "mctnas_client"
DIST = "mctnas_client"
VERSION = "0.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METADATA = f"""Metadata-Version: 2.1
Name: mctnas-client
Version: {VERSION}
Summary: Python client for the mctnas MCT-NAS experiment service (standard library only)
License: Apache-2.0
Requires-Python: >=3.9
Provides-Extra: torch
Requires-Dist: torch; extra == "torch"
"""
WHEEL = "Wheel-Version: 1.0\nGenerator: mctnas-client-backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _package_files():
    base = os.path.join(ROOT, NAME)
    for name in sorted(os.listdir(base)):
        if name.endswith(".py") or name == "py.typed":
            yield f"{NAME}/{name}", os.path.join(base, name)


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def _write_wheel(directory: str, files) -> str:
    filename = f"{DIST}-{VERSION}-py3-none-any.whl"
    info = f"{DIST}-{VERSION}.dist-info"
    records = []
    with zipfile.ZipFile(os.path.join(directory, filename), "w", zipfile.ZIP_DEFLATED) as wheel:
        for arcname, data in list(files) + [(f"{info}/METADATA", METADATA.encode()), (f"{info}/WHEEL", WHEEL.encode())]:
            wheel.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        records.append(f"{info}/RECORD,,")
        wheel.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return filename


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = []
    for arcname, path in _package_files():
        with open(path, "rb") as handle:
            files.append((arcname, handle.read()))
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, [(f"{NAME}.pth", (ROOT + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    filename = f"{DIST}-{VERSION}.tar.gz"
    prefix = f"{DIST}-{VERSION}"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as sdist:
        for relative in ["pyproject.toml", "README.md", "_build/backend.py"] + [a for a, _ in _package_files()]:
            sdist.add(os.path.join(ROOT, relative), arcname=f"{prefix}/{relative}")
        data = METADATA.encode()
        member = tarfile.TarInfo(f"{prefix}/PKG-INFO")
        member.size = len(data)
        sdist.addfile(member, io.BytesIO(data))
    return filename
