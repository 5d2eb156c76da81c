"""Move a results folder written by mpcore with store format 2 to format 3, without retraining.

    python scripts/migrate_store.py mpcore/results          # the shipped results
    python scripts/migrate_store.py ~/.cache/mpcore         # a user cache

Format 3 nests the SGD settings in an ``SGDConfig`` and keys a result on the fields its run
uses plus the part's results schema (see ``mpcore/store.py``). Format-2 autoencoder and
language-model entries are rewritten under their new keys: the runs did not change, only how
their settings are written down. Format-2 sequence entries are moved only when they were
trained with weight averaging (an ``average`` field: schema 2); older ones are results of another
recipe and are left alone (never found, retrained on demand).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mpcore import experiments
from mpcore import store as S
from mpcore.train import SGDConfig

SGD_FIELDS = ("lr", "momentum", "batch_size", "epochs", "patience", "clip_norm", "monitor", "average")


def new_config(old: dict):
    """The format-3 config of a format-2 entry's config (one seed drove everything in format 2)."""
    d = {k: v for k, v in old.items() if k != "part"}
    sgd = {k: d.pop(k) for k in SGD_FIELDS if k in d}
    if old["part"] == "autoencoder":
        sgd["patience"] = sgd["epochs"]  # format 2 ran its SGD without early stopping
    return experiments.config_from_dict({**d, "part": old["part"], "sgd": SGDConfig(**sgd, seed=d["seed"])})


def migrate(root: Path) -> list[tuple[Path, Path]]:
    """Rewrite every format-2 entry under ``root`` that format 3 can read; returns the
    (old json, new json) pairs."""
    moved = []
    for part in experiments.PARTS:
        for js in sorted((root / part).glob("*.json")):
            meta = json.loads(js.read_text())
            if meta.get("format") != 2 or (part == "sequence" and "average" not in meta["config"]):
                continue
            cfg = new_config(meta["config"])
            key = S.config_key(cfg, meta["fingerprint"])
            meta.update(format=S.FORMAT, schema=cfg.schema, key=key, config=S.config_json(cfg))
            new_js = root / part / f"{key}.json"
            (root / part / f"{js.stem}.npz").rename(root / part / f"{key}.npz")
            new_js.write_text(json.dumps(meta, default=float))
            if new_js != js:
                js.unlink()
            moved.append((js, new_js))
    return moved


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    for old, new in migrate(parser.parse_args().root):
        print(f"{old.name} -> {new.name}")


if __name__ == "__main__":
    main()
