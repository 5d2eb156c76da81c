"""Results store: trained results on disk, keyed by a stable hash of config + dataset.

Layout: ``<root>/<part>/<key>.npz`` (the trained parameters, plain arrays) and
``<root>/<part>/<key>.json`` (config, history, metrics, wall time, dataset fingerprint).
No pickle anywhere: arrays are loaded with ``allow_pickle=False``, so a results folder shared
by a teacher can never run code.

* **Stable keys**: sha256 of the canonical JSON of the config (minus ``data_dir``: the data
  is identified by its content) plus the dataset file's sha256. Results trained on other data
  are never reused.
* **Atomic writes**: each file is written to a temporary name in the same folder and moved
  into place with ``os.replace``; the JSON is written last, so an entry exists only once it
  is complete. A killed run leaves no half file.
* **Concurrency**: :meth:`Store.get_or_run` holds a per-key file lock while it trains, so two
  processes (two notebook kernels, parallel workers) asking for the same result train it once.
* **Where**: results shipped with the package (``mpcore/results``, read-only) are looked up
  first, then the user cache (``$MPCORE_CACHE_DIR`` or the platform's cache folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
import zipfile
from dataclasses import asdict
from importlib import resources
from pathlib import Path

import numpy as np

from . import __version__, data

FORMAT = 2  # 2: whitened autoencoder, feature and per-epoch metrics (older entries are not found)
DATA_FILES = {"autoencoder": "data1.h5", "language_model": "data2.h5", "sequence": "data3.h5"}


class StoreError(ValueError):
    """A store entry is corrupt or was not written by mpcore."""


def shipped_dir() -> Path:
    return Path(str(resources.files("mpcore") / "results"))


def user_cache_dir() -> Path:
    env = os.environ.get("MPCORE_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("mpcore"))


def dataset_fingerprint(config) -> str:
    """sha256 of the data file a config trains on (bundled or ``config.data_dir``)."""
    name = DATA_FILES[config.part]
    path = data.default_path(name) if config.data_dir is None else Path(config.data_dir) / name
    if not path.is_file():
        raise data.DataFormatError(f"{path}: file does not exist (needed for a {config.part} experiment)")
    return data.file_fingerprint(path)


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=list)


def config_key(config, fingerprint: str | None = None) -> str:
    """Stable hex key of config + dataset (order of fields, paths and Python version do not matter)."""
    d = asdict(config)
    d.pop("data_dir", None)
    d["part"] = config.part
    fp = fingerprint if fingerprint is not None else dataset_fingerprint(config)
    return hashlib.sha256(_canonical({"format": FORMAT, "config": d, "data": fp}).encode()).hexdigest()[:24]


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Store:
    """A results folder. ``Store()`` is the default: shipped results, then the user cache."""

    def __init__(self, root: str | Path | None = None, read_only_roots=None):
        self.root = Path(root) if root is not None else user_cache_dir()
        if read_only_roots is None:
            read_only_roots = [shipped_dir()] if root is None else []
        self.read_only_roots = [Path(r) for r in read_only_roots]

    def _paths(self, root: Path, part: str, key: str):
        return root / part / f"{key}.npz", root / part / f"{key}.json"

    def save(self, result, fingerprint: str) -> str:
        """Write a result atomically; returns its key."""
        from .experiments import config_from_dict

        cfg = config_from_dict(result.config)
        key = config_key(cfg, fingerprint)
        npz, js = self._paths(self.root, cfg.part, key)
        _atomic_write(npz, lambda f: np.savez_compressed(f, **result.params))
        meta = {"format": FORMAT, "mpcore": __version__, "key": key, "fingerprint": fingerprint,
                "config": result.config, "history": result.history, "metrics": result.metrics,
                "wall_time": result.wall_time}
        _atomic_write(js, lambda f: f.write(json.dumps(meta, default=float).encode()))
        return key

    def _load(self, npz: Path, js: Path, key: str):
        from .experiments import Result

        try:
            meta = json.loads(js.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise StoreError(f"{js}: not a readable mpcore result ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("key") != key:
            raise StoreError(f"{js}: not an mpcore result of format {FORMAT} with key {key}")
        try:
            with np.load(npz, allow_pickle=False) as z:
                params = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise StoreError(f"{npz}: corrupt or not an npz of plain arrays ({e})") from None
        try:
            return Result(meta["config"], params, meta["history"], meta["metrics"], float(meta["wall_time"]))
        except (KeyError, TypeError) as e:
            raise StoreError(f"{js}: incomplete result metadata ({e})") from None

    def get(self, config, fingerprint: str | None = None):
        """The stored result for ``config``, or None. A corrupt entry is reported (warning) and
        treated as missing, so the caller retrains and overwrites it."""
        fp = fingerprint if fingerprint is not None else dataset_fingerprint(config)
        key = config_key(config, fp)
        for root in [*self.read_only_roots, self.root]:
            npz, js = self._paths(root, config.part, key)
            if js.exists() and npz.exists():
                try:
                    return self._load(npz, js, key)
                except StoreError as e:
                    warnings.warn(f"ignoring corrupt store entry: {e}", stacklevel=2)
        return None

    def get_or_run(self, config, progress: bool = True):
        """Stored result, or train it (holding a per-key lock), save it and return it."""
        from filelock import FileLock

        from .experiments import run

        fp = dataset_fingerprint(config)
        found = self.get(config, fp)
        if found is not None:
            return found
        key = config_key(config, fp)
        lock = self.root / config.part / f"{key}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock)):
            found = self.get(config, fp)  # another process may have finished it meanwhile
            if found is not None:
                return found
            result = run(config, progress=progress)
            self.save(result, fp)
        return result
