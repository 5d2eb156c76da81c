"""The numerics training runs under: flush-to-zero for float32, one BLAS thread, and freed
memory kept for reuse (:func:`training_numerics`).

Over 150 steps of backpropagation through time, float32 gradients decay into the *denormal*
range (below 1.2e-38), where x86 CPUs fall back to slow microcode: matmuls get 60-190x slower.
The CPU's MXCSR register has two bits that treat denormals as zero -- FTZ (results) and DAZ
(inputs). Such tiny gradients are numerically irrelevant, so flushing them changes nothing
that matters and restores full speed. float64 never gets there (its denormals start at 2e-308).

MXCSR is per thread: :func:`flush_denormals` sets it for the calling thread, through glibc's
``fegetenv`` / ``fesetenv``. OpenBLAS worker threads started earlier keep their own flags, so
for float32 recurrent training run BLAS with one thread (``threadpoolctl.threadpool_limits(1)``,
also the faster setting at these shapes) or set the flag before numpy starts its pool.

Every training step allocates the same few large arrays again (for the LSTM ~50 MB per
mini-batch, for the autoencoder's full-batch cost ~100 MB). glibc's default is to hand such
blocks back to the kernel when they are freed and to map fresh zeroed pages for the next ones;
about 2,500 page faults per LSTM batch, 4,700 per GRU batch, 3,300 per autoencoder cost, which
made those steps 1.2-1.3x slower (each side in its own processes, medians). :func:`keep_freed_memory`
asks glibc to keep the blocks for reuse: no faults after the first step.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform
from contextlib import contextmanager

import numpy as np

_FTZ_DAZ = (1 << 15) | (1 << 6)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc <malloc.h>
#: Blocks up to this size come from the heap, not from fresh mappings: glibc's largest
#: allowed value on 64-bit (half its 64 MB heap size).
MMAP_THRESHOLD = 32 * 2**20
#: Freed memory at the top of the heap is returned to the kernel only beyond this much.
TRIM_THRESHOLD = 512 * 2**20
_MXCSR_OFFSET = 28  # glibc x86-64 fenv_t: 28 bytes of x87 state, then the 32-bit mxcsr


@functools.cache  # find_library runs ldconfig: once per process
def _libc():
    if platform.system() != "Linux":
        return None
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    return libc if libc is not None and hasattr(libc, "mallopt") else None


def keep_freed_memory() -> bool:
    """Ask glibc (Linux) to serve blocks up to :data:`MMAP_THRESHOLD` from the heap and to give
    freed heap memory back to the kernel only when more than :data:`TRIM_THRESHOLD` of it is
    free, so that a training step reuses the pages of the previous one. For the whole process and for good
    (glibc has no getter to restore from); memory in use is unchanged, and the process keeps at
    most its peak. Returns whether it was set (False elsewhere)."""
    libc = _libc()
    if libc is None:
        return False
    mmap_set = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    trim_set = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return bool(mmap_set and trim_set)  # mallopt returns 1 on success


@functools.cache
def _libm():
    if platform.machine().lower() not in ("x86_64", "amd64") or platform.system() != "Linux":
        return None
    name = ctypes.util.find_library("m")
    return ctypes.CDLL(name) if name else None


def _get_env(libm):
    env = ctypes.create_string_buffer(32)
    if libm.fegetenv(env) != 0:
        raise OSError("fegetenv failed")
    return env


def available() -> bool:
    """True where the flags can be set (Linux on x86-64 with glibc)."""
    return _libm() is not None


def get_mxcsr() -> int:
    """The calling thread's MXCSR register."""
    libm = _libm()
    if libm is None:
        raise OSError("MXCSR is only reachable on Linux x86-64")
    return int.from_bytes(_get_env(libm).raw[_MXCSR_OFFSET : _MXCSR_OFFSET + 4], "little")


def set_flush_denormals(enabled: bool) -> bool:
    """Turn FTZ+DAZ on or off for the calling thread; returns the previous state."""
    libm = _libm()
    if libm is None:
        raise OSError("flush-to-zero is only supported on Linux x86-64 in mpcore")
    env = _get_env(libm)
    mxcsr = int.from_bytes(env.raw[_MXCSR_OFFSET : _MXCSR_OFFSET + 4], "little")
    new = (mxcsr | _FTZ_DAZ) if enabled else (mxcsr & ~_FTZ_DAZ)
    ctypes.memmove(ctypes.addressof(env) + _MXCSR_OFFSET, new.to_bytes(4, "little"), 4)
    if libm.fesetenv(env) != 0:
        raise OSError("fesetenv failed")
    return bool(mxcsr & _FTZ_DAZ == _FTZ_DAZ)


@contextmanager
def flush_denormals(enabled: bool = True):
    """Context manager: denormals flushed to zero inside, previous state restored after.
    A no-op where the flags are unavailable."""
    if not available():
        yield False
        return
    before = set_flush_denormals(enabled)
    try:
        yield True
    finally:
        set_flush_denormals(before)


@contextmanager
def training_numerics(dtype):
    """The numerics policy every training loop runs under (:func:`mpcore.train.sgd`,
    :func:`mpcore.train.lbfgs`, the experiment runners); call it yourself around other heavy work.

    * **One BLAS thread.** At these matrix shapes a second thread gains little, and on a busy
      2-core machine two threads per process (or two parallel jobs with two threads each)
      are several times *slower* than one.
    * **float32: denormals flushed to zero** (:func:`flush_denormals`). Set here, in the thread
      that runs the math, after limiting BLAS to that thread -- so FTZ reaches every matmul.
    * **Freed memory kept for reuse** (:func:`keep_freed_memory`; stays set afterwards).
    """
    from threadpoolctl import threadpool_limits

    keep_freed_memory()
    with threadpool_limits(1), flush_denormals(np.dtype(dtype) == np.float32):
        yield
