"""The message format between the grader and the sandboxed student process: JSON plus raw arrays.

Both sides use this file: the trusted grader imports it as ``mpcore.grading.wire``, the student
process (which cannot import mpcore) loads it from the sandbox's ``/grader`` folder. So it
imports nothing but the standard library and numpy.

A message is ``[8-byte header length][header JSON][array bytes ...]``. The header holds one
value as a tree -- tuples, lists, dicts with string keys, numbers, strings, None, arrays and
(from the grader only) functions to call back --
and, for each array, its dtype and shape; the array bytes follow in order. Nothing is ever
unpickled, and a reader refuses what it did not ask for: dtypes outside :data:`DTYPES`, headers
over :data:`MAX_HEADER` bytes, arrays over ``max_bytes`` in all, nesting over :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np

#: The array dtypes a message may carry (numbers and booleans only: no objects, no strings).
DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16",
          "uint8", "bool", "complex128", "complex64")
MAX_HEADER = 1 << 20
MAX_DEPTH = 32
#: Default limit on the array bytes of one message (a student's function returns small arrays).
MAX_BYTES = 256 << 20


class WireError(ValueError):
    """A message that is malformed, too large, or holds a value that cannot be sent."""


def encode(value, callbacks: dict | None = None) -> bytes:
    """``value`` as one message (see the module docstring); :class:`WireError` for what cannot be sent.

    A function in ``value`` is sent only when ``callbacks`` is a dict: it is stored there under a
    new key and sent as that key; the other side calls it back by that key (the grader passes
    its functions this way, e.g. the cost J a student's gradient checker evaluates).
    """
    arrays: list[np.ndarray] = []

    def tree(v, depth):
        if depth > MAX_DEPTH:
            raise WireError(f"a value nested more than {MAX_DEPTH} levels deep")
        if v is None:
            return {"n": None}
        if isinstance(v, (bool, np.bool_)):
            return {"b": bool(v)}
        if isinstance(v, (int, np.integer)):
            return {"i": int(v)}
        if isinstance(v, (float, np.floating)):
            return {"f": float(v)}
        if isinstance(v, str):
            return {"s": v}
        if isinstance(v, np.ndarray):
            if v.dtype.name not in DTYPES:
                raise WireError(f"an array of dtype {v.dtype} (expected numbers)")
            arrays.append(np.ascontiguousarray(v))
            return {"a": len(arrays) - 1}
        if isinstance(v, tuple):
            return {"t": [tree(x, depth + 1) for x in v]}
        if isinstance(v, list):
            return {"l": [tree(x, depth + 1) for x in v]}
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                raise WireError("a dict whose keys are not all strings")
            return {"d": {k: tree(x, depth + 1) for k, x in v.items()}}
        if callable(v) and callbacks is not None:
            key = f"callback:{len(callbacks)}"
            callbacks[key] = v
            return {"c": key}
        raise WireError(f"a value of type {type(v).__name__} (expected arrays, numbers, tuples, lists or dicts)")

    header = {"v": tree(value, 0), "arrays": [[a.dtype.name, list(a.shape)] for a in arrays]}
    head = json.dumps(header).encode()
    return b"".join([struct.pack("<Q", len(head)), head, *(a.tobytes() for a in arrays)])


def _read_exactly(fd: int, n: int, read) -> bytes:
    chunks, left = [], n
    while left:
        chunk = read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, max_bytes: int = MAX_BYTES, read=os.read, callback=None):
    """Read one message from file descriptor ``fd`` and return its value.

    ``read(fd, n)`` returns at most ``n`` bytes (``b""`` at end of file); the grader passes one
    that enforces its deadline. ``callback(key)`` turns a function sent by key (see
    :func:`encode`) into something callable; without it (the grader) such a message is refused.
    :class:`EOFError` if the other side has gone.
    """
    (n,) = struct.unpack("<Q", _read_exactly(fd, 8, read))
    if n > MAX_HEADER:
        raise WireError(f"a message header of {n} bytes (at most {MAX_HEADER})")
    try:
        header = json.loads(_read_exactly(fd, n, read))
        specs = [(np.dtype(dt), tuple(int(s) for s in shape)) for dt, shape in header["arrays"]]
    except (ValueError, TypeError, KeyError) as e:
        raise WireError(f"a malformed message header ({e})") from None
    total = 0
    for dt, shape in specs:
        if dt.name not in DTYPES or any(s < 0 for s in shape):
            raise WireError(f"an array of dtype {dt} and shape {shape}")
        total += dt.itemsize * int(np.prod(shape, dtype=object))
    if total > max_bytes:
        raise WireError(f"{total} bytes of arrays in one message (at most {max_bytes})")
    arrays = [np.frombuffer(_read_exactly(fd, dt.itemsize * int(np.prod(shape, dtype=object)), read),
                            dtype=dt).reshape(shape).copy() for dt, shape in specs]

    def value(node, depth):
        if depth > MAX_DEPTH or not isinstance(node, dict) or len(node) != 1:
            raise WireError("a malformed value in a message")
        ((kind, v),) = node.items()
        if kind == "a":
            if not isinstance(v, int) or not 0 <= v < len(arrays):
                raise WireError("a message refers to an array it does not hold")
            return arrays[v]
        if kind in ("n", "b", "i", "f", "s"):
            expected = {"n": type(None), "b": bool, "i": int, "f": (float, int), "s": str}[kind]
            if not isinstance(v, expected):
                raise WireError("a malformed number or string in a message")
            return float(v) if kind == "f" else v
        if kind in ("t", "l") and isinstance(v, list):
            items = [value(x, depth + 1) for x in v]
            return tuple(items) if kind == "t" else items
        if kind == "d" and isinstance(v, dict):
            return {str(k): value(x, depth + 1) for k, x in v.items()}
        if kind == "c" and callback is not None and isinstance(v, str):
            return callback(v)
        raise WireError("a malformed value in a message")

    return value(header.get("v"), 0)


def write(fd: int, message: bytes) -> None:
    """Write the encoded ``message`` to file descriptor ``fd``, all of it."""
    view = memoryview(message)
    while view:
        view = view[os.write(fd, view):]


def send(fd: int, value) -> None:
    """Write ``value`` to file descriptor ``fd`` as one message."""
    write(fd, encode(value))
