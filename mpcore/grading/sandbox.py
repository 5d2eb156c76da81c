"""Run a student's function in a separate, sandboxed process and call it from the grader.

:class:`StudentFunction` starts ``child.py`` (see there for the protocol) in a fresh process,
sends it the solution cell's source, and is then called like the student's function: each call
sends the arguments and returns the value the student's code computed. The comparison with
mpcore's reference and the finite differences run here, in the grader, where the student's code
cannot reach them.

The sandbox (Linux, `bubblewrap <https://github.com/containers/bubblewrap>`_, ``bwrap``):

* read-only: the system's ``/usr`` (and ``/lib*``, ``/bin``, ``/sbin``), the Python installation
  and its site-packages -- with mpcore itself, its notebooks and the course folder hidden under
  empty folders (mpcore's reference implementations are not importable);
* nothing else of the file system: not the course folder (``source/``, ``gradebook.db``, other
  submissions), not the home folder; a private, empty ``/tmp`` (capped in size) as the working
  and home folder;
* no network, its own process, IPC and host-name namespaces, another user id (65534), a new
  session; every process it starts dies with it (``--die-with-parent``, its own PID namespace);
* limits (``setrlimit``): CPU seconds, address space, file size; a wall-clock deadline for the
  whole exercise, enforced here, after which the process is killed.

Without bwrap, :func:`sandbox_available` says why, and the grader refuses unless the teacher
asks for ``sandbox=False``: the child then still runs in its own process under the same limits,
but it can read what the teacher's account can read and can import mpcore.
"""

from __future__ import annotations

import os
import resource
import select
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import wire

CHILD_DIR = Path(__file__).resolve().parent
#: Default limits for one exercise (its whole check, every call included).
TIMEOUT_S = 60.0
CPU_S = 60
MEMORY_BYTES = 2 << 30
FILE_BYTES = 16 << 20
TMP_BYTES = 64 << 20


class SandboxFailure(Exception):
    """The student's process did not answer: it ran out of time, died, or sent something unreadable.

    Its message is a sentence for the student's feedback."""


class StudentError(Exception):
    """The student's code raised an exception (its type's name is :attr:`type_name`)."""

    def __init__(self, type_name: str, message: str):
        super().__init__(message)
        self.type_name = type_name


def sandbox_available() -> str | None:
    """None if bubblewrap can run a sandbox here, else why not (one sentence)."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux (bubblewrap); this is {sys.platform}"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = subprocess.run([bwrap, "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"bubblewrap cannot create a sandbox here ({probe.stderr.strip() or probe.returncode})"
    return None


def _readable_roots() -> list[Path]:
    """What the student's Python needs to start and import numpy: the installation and its packages."""
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    roots.update(Path(p) for p in site.getsitepackages() if Path(p).is_dir())
    roots = sorted(r.resolve() for r in roots)
    return [r for r in roots if not any(o != r and o in r.parents for o in roots)]  # outermost only


def _system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    return args


def bwrap_command(hidden: list[Path]) -> list[str]:
    """The ``bwrap`` command line (module docstring) that runs the child under ``python -I``."""
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
            "--die-with-parent", "--new-session", "--clearenv", *_system_mounts(),
            "--proc", "/proc", "--dev", "/dev", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    roots = _readable_roots()
    for root in roots:
        args += ["--ro-bind", str(root), str(root)]
    for path in hidden:  # an empty folder over what the student must not see
        path = path.resolve()
        if path.is_dir() and any(r == path or r in path.parents for r in roots + [Path("/usr")]):
            args += ["--tmpfs", str(path)]
    args += ["--ro-bind", str(CHILD_DIR / "child.py"), "/grader/child.py",
             "--ro-bind", str(CHILD_DIR / "wire.py"), "/grader/wire.py", "--chdir", "/tmp"]
    for key, value in _ENV.items():
        args += ["--setenv", key, value]
    return args + ["--", sys.executable, "-I", "/grader/child.py"]


_ENV = {"HOME": "/tmp", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLCONFIGDIR": "/tmp"}


def _limits(cpu_s: int, memory_bytes: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


class StudentFunction:
    """The student's function ``name``, defined by ``source``, running in its own sandboxed process.

    ``helpers`` maps the dotted names the solution may call (``"cells.rnn.step_forward"``) to the
    grader's functions that compute them. Use as a context manager; calling it returns the
    student's value or raises :class:`NotImplementedError`, :class:`StudentError` or
    :class:`SandboxFailure`. Every call shares one deadline, ``timeout`` seconds after the start.
    """

    def __init__(self, source: str, name: str, helpers: dict | None = None, *, sandbox: bool = True,
                 hidden: list[Path] = (), timeout: float = TIMEOUT_S, cpu_s: int = CPU_S,
                 memory_bytes: int = MEMORY_BYTES):
        self.source, self.name, self.helpers = source, name, dict(helpers or {})
        self.sandbox, self.hidden, self.timeout = sandbox, list(hidden), timeout
        self.cpu_s, self.memory_bytes = cpu_s, memory_bytes
        self.proc = None
        self.failure = None  # the SandboxFailure's message, once one was raised
        self.__name__ = name

    # -- process ----------------------------------------------------------------------------------
    def __enter__(self):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        self._scratch = None
        if self.sandbox:
            command = bwrap_command(self.hidden)
            cwd, env = "/", {}
        else:
            self._scratch = tempfile.TemporaryDirectory(prefix="mpcore-student-")
            command = [sys.executable, "-I", str(CHILD_DIR / "child.py")]
            cwd, env = self._scratch.name, {**_ENV, "HOME": self._scratch.name, "MPLCONFIGDIR": self._scratch.name}
        self._stderr = tempfile.TemporaryFile()
        self.deadline = time.monotonic() + self.timeout
        try:
            self.proc = subprocess.Popen(command + [str(to_child_r), str(from_child_w)], cwd=cwd, env=env,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                                         pass_fds=(to_child_r, from_child_w), start_new_session=True,
                                         preexec_fn=_limits(self.cpu_s, self.memory_bytes))
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        try:
            self._send({"op": "define", "source": self.source, "name": self.name, "helpers": sorted(self.helpers)})
            reply = self._receive()
            reply = reply if isinstance(reply, dict) else {}
            if reply.get("op") == "error":
                raise StudentError(str(reply.get("type", "Error")), str(reply.get("message", "")))
            if reply.get("op") != "ready":
                raise self._fail("the process running your solution sent an unexpected reply")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the child and anything it started
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
            for fd in (self._to_child, self._from_child):
                os.close(fd)
            self._stderr.close()
            if self._scratch is not None:
                self._scratch.cleanup()

    # -- messages ---------------------------------------------------------------------------------
    def _died(self) -> SandboxFailure:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and code < 0:
            why = {signal.SIGXCPU: f"it used more than {self.cpu_s} s of CPU time",
                   signal.SIGKILL: "it was killed (out of memory, or it killed itself)",
                   signal.SIGSEGV: "it crashed (segmentation fault)"}.get(-code, f"signal {-code}")
        else:
            self._stderr.seek(0)
            tail = self._stderr.read()[-2000:].decode(errors="replace").strip().splitlines()
            why = f"exit status {code}" + (f": {tail[-1]}" if tail else "")
            if "MemoryError" in "".join(tail):
                why = f"it ran out of memory (limit {self.memory_bytes >> 20} MiB)"
        return self._fail(f"the process running your function ended ({why})")

    def _fail(self, message: str) -> SandboxFailure:
        self.failure = self.failure or message
        return SandboxFailure(message)

    def _read(self, fd: int, n: int) -> bytes:
        left = self.deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise self._fail(f"your function did not finish within {self.timeout:g} s (the limit for one "
                                 "exercise's check)")
        return os.read(fd, n)

    def _receive(self):
        try:
            return wire.receive(self._from_child, read=self._read)
        except EOFError:
            raise self._died() from None
        except wire.WireError as e:
            raise self._fail(f"the process running your function sent {e}") from None

    def _send(self, value):
        try:
            wire.send(self._to_child, value)
        except BrokenPipeError:
            raise self._died() from None

    def __call__(self, *args, **kwargs):
        if self.proc is None:
            raise RuntimeError("use StudentFunction as a context manager")
        callbacks = {}  # functions among the arguments (e.g. the cost J of a gradient checker)
        try:
            message = wire.encode({"op": "call", "args": args, "kwargs": kwargs}, callbacks)
            wire.write(self._to_child, message)
        except BrokenPipeError:
            raise self._died() from None
        serve = {**self.helpers, **callbacks}
        while True:
            reply = self._receive()
            op = reply.get("op") if isinstance(reply, dict) else None
            if op == "result":
                return reply.get("value")
            if op == "not_implemented":
                raise NotImplementedError()
            if op == "error":
                raise StudentError(str(reply.get("type", "Error")), str(reply.get("message", "")))
            if op == "helper" and reply.get("name") in serve:
                try:
                    value = serve[reply["name"]](*reply.get("args", ()), **reply.get("kwargs", {}))
                    self._send({"op": "helper_result", "value": value})
                except (wire.WireError, BrokenPipeError):
                    raise
                except Exception as e:  # the student called a helper with wrong arguments
                    self._send({"op": "helper_error", "message": f"{type(e).__name__}: {e}"})
            elif op == "helper":
                self._send({"op": "helper_error", "message": f"{reply.get('name')!r} is not available here"})
            else:
                raise self._fail("the process running your function sent an unexpected reply")
