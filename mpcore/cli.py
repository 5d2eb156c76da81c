"""``python -m mpcore reproduce``: rerun the study on the bundled data (or your course files),
write every figure as PNG plus ``summary.md`` and ``summary.json``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import experiments as E
from .models.sequence import CELLS

PARTS = ("autoencoder", "language_model", "sequence")
PROBE_WORDS = ("government", "war", "year", "people", "states", "congress")


def study_configs(parts, quick: bool, data_dir=None) -> list:
    """Every experiment of the study, as configs. ``quick`` shrinks training to a smoke run."""
    dd = None if data_dir is None else str(data_dir)
    cfgs = []
    if "autoencoder" in parts:
        it = 15 if quick else 400
        cfgs.append(E.AutoencoderConfig(n_hidden=64, lam=5e-4, maxiter=it, data_dir=dd))
        hidden = E.AE_GRID_HIDDEN[:2] if quick else E.AE_GRID_HIDDEN
        lams = E.AE_GRID_LAMBDA[::2] if quick else E.AE_GRID_LAMBDA
        cfgs += [E.AutoencoderConfig(n_hidden=h, lam=lam, maxiter=it, data_dir=dd) for h in hidden for lam in lams]
    if "language_model" in parts:
        ep = 1 if quick else 50
        cfgs += [E.LanguageModelConfig(D=D, P=P, epochs=ep, data_dir=dd) for D, P in E.LM_SIZES]
    if "sequence" in parts:
        for cell in CELLS:
            if quick:
                cfgs.append(E.SequenceConfig(cell=cell, n_hidden=32, epochs=2, n_train=320, data_dir=dd))
            else:
                cfgs.append(E.SequenceConfig(cell=cell, data_dir=dd))
        if not quick:  # the other learning rate of the notebook's slider (shipped, not in the figures)
            cfgs += [E.SequenceConfig(cell=cell, lr=lr, data_dir=dd)
                     for lr in E.SEQ_LR_GRID if lr != E.SequenceConfig.lr for cell in CELLS]
    return cfgs


def _train(i, cfg):
    """Worker task: train one config (no progress bar: workers' output interleaves)."""
    return i, E.run(cfg, progress=False)


def run_all(cfgs, store, jobs: int = 1, scheduler: str | None = None, progress: bool = True):
    """Results for every config: from the store when there, else trained and saved.

    Missing experiments train in this process (``jobs=1``), in parallel with joblib
    (``jobs > 1``), or on an existing Dask distributed cluster (``scheduler`` address).
    Each result is written to the store as soon as it arrives, so an interrupted run
    resumes where it stopped.
    """
    from .store import dataset_fingerprint

    fps = [dataset_fingerprint(c) for c in cfgs]
    results = [store.get(c, fp) for c, fp in zip(cfgs, fps)]
    todo = [i for i, r in enumerate(results) if r is None]
    print(f"{len(cfgs) - len(todo)} of {len(cfgs)} experiments found in the store; training {len(todo)}", flush=True)
    if not todo:
        return results

    def finished(i, result):
        store.save(result, fps[i])
        results[i] = result
        print(f"  done: {cfgs[i].part} {_label(result.config)} ({result.wall_time:.0f} s)", flush=True)

    if scheduler is not None:
        from dask.distributed import Client, as_completed

        with Client(scheduler) as client:
            futures = [client.submit(_train, i, cfgs[i], pure=False) for i in todo]
            for future in as_completed(futures):
                finished(*future.result())
    elif jobs > 1:
        from joblib import Parallel, delayed

        for i, result in Parallel(n_jobs=jobs, return_as="generator_unordered")(
            delayed(_train)(i, cfgs[i]) for i in todo
        ):
            finished(i, result)
    else:
        for i in todo:
            finished(i, E.run(cfgs[i], progress=progress))
    return results


def _label(cfg: dict) -> str:
    if cfg["part"] == "autoencoder":
        return f"L_hid={cfg['n_hidden']}, λ={cfg['lam']:g}"
    if cfg["part"] == "language_model":
        return f"D={cfg['D']}, P={cfg['P']}"
    default_lr = E.SequenceConfig.lr
    return cfg["cell"].upper() + ("" if cfg["lr"] == default_lr else f" (η={cfg['lr']:g})")


def write_report(results, out: Path, data_dir=None) -> dict:
    """Figures and summaries from results. Returns the summary dict."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import data, plots
    from .models import autoencoder, language_model

    out.mkdir(parents=True, exist_ok=True)

    def save(fig, name):
        fig.savefig(out / f"{name}.png", dpi=110)
        plt.close(fig)

    summary = {"experiments": []}
    by_part = {p: [r for r in results if r.config["part"] == p] for p in PARTS}
    for r in results:
        summary["experiments"].append({"label": _label(r.config), "config": r.config, "metrics": r.metrics,
                                       "wall_time_s": round(r.wall_time, 2), "stopped": r.history["stopped"]})

    if by_part["autoencoder"]:
        path = None if data_dir is None else Path(data_dir) / "data1.h5"
        rgb = data.load_patches(path)
        save(plots.patches_figure(rgb, data.preprocess_patches(rgb)), "patches_rgb_vs_normalised")
        main = by_part["autoencoder"][0]
        save(plots.feature_grid(autoencoder.hidden_features(main.params), f"Hidden features, {_label(main.config)}"),
             "autoencoder_features_main")
        save(plots.cost_curve(main.history, f"Autoencoder cost, {_label(main.config)}"), "autoencoder_cost")
        grid = {(r.config["n_hidden"], r.config["lam"]): autoencoder.hidden_features(r.params)
                for r in by_part["autoencoder"][1:]}
        if grid:
            save(plots.feature_grid_matrix(grid, "Hidden features across L_hid and λ"), "autoencoder_features_grid")

    if by_part["language_model"]:
        path = None if data_dir is None else Path(data_dir) / "data2.h5"
        ng = data.load_ngrams(path)
        save(plots.loss_curves({_label(r.config): r.history for r in by_part["language_model"]},
                               "Language model: training and validation cross-entropy"), "language_model_loss_curves")
        best = by_part["language_model"][0]
        rng = np.random.default_rng(0)
        picks = rng.choice(len(ng.test_x), size=5, replace=False)
        summary["top10_candidates"] = [
            {"trigram": [ng.words[i] for i in ng.test_x[j]], "actual": ng.words[ng.test_y[j]],
             "candidates": language_model.top_k_words(best.params, ng.words, list(ng.test_x[j]), k=10)}
            for j in picks
        ]
        probes = [w for w in PROBE_WORDS if w in ng.words] or ng.words[:5]
        summary["nearest_words"] = {w: language_model.nearest_words(best.params, ng.words, w, k=5) for w in probes}

    if by_part["sequence"]:
        seqs = [r for r in by_part["sequence"] if r.config["lr"] == E.SequenceConfig.lr]
        classes = seqs[0].metrics["classes"]
        save(plots.loss_curves({_label(r.config): r.history for r in seqs}, "Sequence classifiers: cross-entropy"),
             "sequence_loss_curves")
        for r in seqs:
            save(plots.confusion_figure({"train": r.metrics["train_confusion"], "test": r.metrics["test_confusion"]},
                                        classes, f"{_label(r.config)} confusion matrices"),
                 f"sequence_confusion_{r.config['cell']}")
        save(plots.gradient_norms_figure({r.config["cell"]: r.metrics["hidden_gradient_norms"] for r in seqs}),
             "sequence_gradient_norms")

    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    (out / "summary.md").write_text(summary_markdown(summary))
    return summary


def _table(title: str, columns: dict, experiments: list) -> list:
    """Markdown lines: a heading and one row per experiment; ``columns`` maps header -> cell(e)."""
    lines = [title, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(e) for cell in columns.values()) + " |" for e in experiments]
    return lines + [""]


def summary_markdown(summary: dict) -> str:
    lines = ["# mpcore study summary", ""]
    rows = {p: [e for e in summary["experiments"] if e["config"]["part"] == p] for p in PARTS}
    label = lambda e: e["label"]  # noqa: E731
    seconds = lambda e: f"{e['wall_time_s']:.1f}"  # noqa: E731

    def metric(key, fmt):
        return lambda e: format(e["metrics"][key], fmt)

    if rows["autoencoder"]:
        lines += _table("## Part 1: sparse autoencoder", {
            "model": label, "cost J": metric("cost", ".4f"), "reconstruction MSE": metric("reconstruction_mse", ".5f"),
            "mean activation": metric("mean_activation", ".3f"), "iterations": metric("iterations", "d"),
            "time (s)": seconds}, rows["autoencoder"])
    if rows["language_model"]:
        lines += _table("## Part 2: language model", {
            "model": label, "test cross-entropy": metric("test_cross_entropy", ".3f"),
            "perplexity": metric("test_perplexity", ".1f"), "top-1": metric("test_top1", ".3f"),
            "top-10": metric("test_top10", ".3f"), "epochs": metric("epochs", "d"), "time (s)": seconds},
            rows["language_model"])
        for c in summary.get("top10_candidates", []):
            cands = ", ".join(f"{w} ({p:.2f})" for w, p in c["candidates"])
            lines.append(f"- *{' '.join(c['trigram'])}* → actual **{c['actual']}**; top 10: {cands}")
        lines.append("")
        for w, near in summary.get("nearest_words", {}).items():
            lines.append(f"- nearest to **{w}**: " + ", ".join(f"{v} ({d:.2f})" for v, d in near))
        lines.append("")
    if rows["sequence"]:
        lines += _table("## Part 3: sequence classification", {
            "cell": label, "train accuracy": metric("train_accuracy", ".3f"),
            "validation accuracy": metric("val_accuracy", ".3f"), "test accuracy": metric("test_accuracy", ".3f"),
            "test cross-entropy": metric("test_cross_entropy", ".3f"), "epochs": metric("epochs", "d"),
            "time (s)": seconds}, rows["sequence"])
    return "\n".join(lines)


def check_data_dir(data_dir: Path, parts) -> None:
    if not data_dir.is_dir():
        raise SystemExit(f"mpcore reproduce: --data-dir {data_dir} is not a directory")
    needed = {"autoencoder": "data1.h5", "language_model": "data2.h5", "sequence": "data3.h5"}
    missing = [needed[p] for p in parts if not (data_dir / needed[p]).is_file()]
    if missing:
        raise SystemExit(f"mpcore reproduce: {data_dir} lacks {', '.join(missing)} (needed for the parts asked for; "
                         f"use --parts to run only some)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="mpcore", description="mpcore: teaching neural networks in numpy")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="rerun the study and write figures and summaries")
    rep.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results)")
    rep.add_argument("--data-dir", type=Path, default=None,
                     help="folder with the course's data1.h5 / data2.h5 / data3.h5 (default: bundled data)")
    rep.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    rep.add_argument("--quick", action="store_true", help="a smoke run of every part in about a minute")
    rep.add_argument("--jobs", type=int, default=2, help="experiments trained in parallel with joblib (default 2)")
    rep.add_argument("--scheduler", default=None, help="address of a Dask distributed scheduler to train on")
    rep.add_argument("--store", type=Path, default=None,
                     help="results store folder (default: shipped results, then the user cache or $MPCORE_CACHE_DIR)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    if args.data_dir is not None:
        check_data_dir(args.data_dir, args.parts)
    from .data import DataFormatError
    from .store import Store

    t0 = time.perf_counter()
    cfgs = study_configs(args.parts, args.quick, args.data_dir)
    print(f"mpcore reproduce: {len(cfgs)} experiments ({', '.join(args.parts)}), jobs={args.jobs}", flush=True)
    try:
        store = Store(args.store) if args.store is not None else Store()
        results = run_all(cfgs, store, jobs=args.jobs, scheduler=args.scheduler, progress=sys.stderr.isatty())
        write_report(results, args.out, args.data_dir)
    except DataFormatError as e:
        print(f"mpcore reproduce: bad data file: {e}", file=sys.stderr)
        return 2
    print((args.out / "summary.md").read_text())
    print(f"done in {time.perf_counter() - t0:.0f} s; figures and summaries in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
