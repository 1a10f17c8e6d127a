"""Shared helpers for the Python interop scripts.

Every script prints exactly one JSON document on stdout; the Rust harness
(crates/tessera-cli/tests/interop.rs) reads it and owns every assertion.
"""
import json
import os
import sys
from importlib.metadata import version


def peer_version(dist: str) -> str:
    return version(dist)


def emit(doc) -> None:
    sys.stdout.write(json.dumps(doc, indent=1) + "\n")


def writer(directory: str):
    os.makedirs(directory, exist_ok=True)

    def write(name: str, contents) -> str:
        path = os.path.join(directory, name)
        data = contents.encode() if isinstance(contents, str) else contents
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return path

    return write


def outcome(fn):
    """{"ok": True, **value} or {"ok": False, "code": <exception class>, "message"}."""
    try:
        return {"ok": True, **fn()}
    except Exception as e:  # noqa: BLE001 - every failure is a reported outcome
        return {"ok": False, "code": type(e).__name__, "message": str(e)}


def skipped(reason: str):
    return {"skipped": True, "reason": reason}
