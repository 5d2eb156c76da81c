"""Results store: trained results on disk, keyed by a stable hash of config + dataset.

Layout: ``<root>/<part>/<key>.npz`` (the trained parameters, plain arrays) and
``<root>/<part>/<key>.json`` (config, history, metrics, wall time, dataset fingerprint).
No pickle anywhere: arrays are loaded with ``allow_pickle=False``, so a results folder shared
by a teacher can never run code.

* **Stable keys**: sha256 of the canonical JSON of the config fields the run *uses* (minus
  ``data_dir``: the data is identified by its content, and minus ``config.unused()``), the
  part's results-schema version ``config.schema``, and the dataset file's sha256. Changing a
  default the part does not use keeps its results; changing what a run computes means bumping
  ``schema``, which retires the old results. Results trained on other data are never reused.
* **Checked entries**: an entry whose JSON does not match the config asked for, or lacks one
  of the part's metrics (``config.metric_names``), is reported as a warning and retrained.
* **Atomic writes**: each file is written to a temporary name in the same folder and moved
  into place with ``os.replace``; the JSON is written last, so an entry exists only once it
  is complete. A killed run leaves no half file. Files get the process umask's mode (0644
  under the usual umask 022), so a store can be shared.
* **Concurrency**: :meth:`Store.get_or_run` holds a per-key file lock while it trains, so two
  processes (two notebook kernels, parallel workers, two CLI runs) asking for the same result
  train it once.
* **Training is not the store's business**: :meth:`Store.get_or_run` takes the function that
  trains (``mpcore.experiments.run``).
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
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from . import __version__, data

FORMAT = 3  # 3: keys of used fields + schema; nested SGD settings (older entries are not found)


@dataclass
class Result:
    """What an experiment produced: its ``config`` (the config object), trained ``params``,
    per-epoch ``history`` (lists), ``metrics`` (numbers and small lists), ``wall_time`` in s."""

    config: object
    params: dict
    history: dict
    metrics: dict
    wall_time: float


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
    path = data.course_path(config.data_file, config.data_dir)
    if not path.is_file():
        raise data.DataFormatError(f"{path}: file does not exist (needed for a {config.part} experiment)")
    return data.file_fingerprint(path)


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=list)


def config_json(config) -> dict:
    """The config as plain JSON data, with its part."""
    return json.loads(_canonical({**asdict(config), "part": config.part}))


def used_fields(config) -> dict:
    """The fields the config's run uses: all but ``data_dir`` and ``config.unused()``."""
    d = config_json(config)
    for name in ("data_dir", *config.unused()):
        d.pop(name, None)
    return d


def config_key(config, fingerprint: str | None = None) -> str:
    """Stable hex key of the used fields + results schema + dataset (order of fields, paths and
    Python version do not matter)."""
    fp = fingerprint if fingerprint is not None else dataset_fingerprint(config)
    keyed = {"format": FORMAT, "schema": config.schema, "config": used_fields(config), "data": fp}
    return hashlib.sha256(_canonical(keyed).encode()).hexdigest()[:24]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); a store shared by a class needs the usual mode
        os.chmod(tmp, 0o666 & ~_umask())
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

    def save(self, result: Result, fingerprint: str) -> str:
        """Write a result atomically; returns its key."""
        cfg = result.config
        key = config_key(cfg, fingerprint)
        npz, js = self._paths(self.root, cfg.part, key)
        _atomic_write(npz, lambda f: np.savez_compressed(f, **result.params))
        meta = {"format": FORMAT, "schema": cfg.schema, "mpcore": __version__, "key": key,
                "fingerprint": fingerprint, "config": config_json(cfg), "history": result.history,
                "metrics": result.metrics, "wall_time": result.wall_time}
        _atomic_write(js, lambda f: f.write(json.dumps(meta, default=float).encode()))
        return key

    def _load(self, npz: Path, js: Path, key: str, config) -> Result:
        try:
            meta = json.loads(js.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise StoreError(f"{js}: not a readable mpcore result ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("key") != key:
            raise StoreError(f"{js}: not an mpcore result of format {FORMAT} with key {key}")
        ignored = ("data_dir", *config.unused())  # fields that do not change the result
        if meta.get("schema") != config.schema or not isinstance(meta.get("config"), dict) or \
                {k: v for k, v in meta["config"].items() if k not in ignored} != used_fields(config):
            raise StoreError(f"{js}: its config or schema is not the one asked for (written by another mpcore?)")
        metrics = meta.get("metrics")
        missing = [m for m in config.metric_names if not isinstance(metrics, dict) or m not in metrics]
        if missing:
            raise StoreError(f"{js}: lacks the metrics {missing} (written by an older mpcore?)")
        try:
            with np.load(npz, allow_pickle=False) as z:
                params = {k: z[k] for k in z.files}
        except ValueError as e:
            if "pickle" in str(e):  # numpy's word for "this is not an .npy array"
                raise StoreError(f"{npz}: corrupt (not an .npz of plain arrays)") from None
            raise StoreError(f"{npz}: corrupt ({e})") from None
        except (OSError, EOFError, zipfile.BadZipFile) as e:
            raise StoreError(f"{npz}: corrupt ({e})") from None
        try:
            return Result(config, params, meta["history"], metrics, float(meta["wall_time"]))
        except (KeyError, TypeError, ValueError) as e:
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
                    return self._load(npz, js, key, config)
                except StoreError as e:
                    warnings.warn(f"ignoring store entry (it will be retrained): {e}", stacklevel=2)
        return None

    def get_or_run(self, config, run, progress: bool = True) -> Result:
        """Stored result, or ``run(config, progress=progress)`` (holding a per-key lock), saved
        and returned."""
        from filelock import FileLock

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
