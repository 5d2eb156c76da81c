"""``python -m mpcore reproduce``: rerun the study on the bundled data (or your course files),
write every figure as PNG plus ``summary.md`` and ``summary.json``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import experiments as E
from .runner import label, run_all
from .store import config_json

PARTS = tuple(E.PARTS)
PROBE_WORDS = ("government", "war", "year", "people", "states", "congress")


def study_configs(parts, quick: bool, data_dir=None) -> list:
    """Every experiment of the study, as configs. ``quick`` shrinks training to a smoke run.

    Sequence runs come first (the longest), every η of ``SEQ_LR_GRID`` with every seed of
    ``SEQ_SEEDS``; the choice of η is made afterwards, from their validation accuracy.
    """
    dd = None if data_dir is None else str(data_dir)
    cfgs = []
    if "sequence" in parts:
        small = dict(n_hidden=32, epochs=2, n_train=320) if quick else {}
        cfgs += [E.sequence_config(cell, lr, s, data_dir=dd, **small)
                 for cell in E.SEQ_CELLS for lr in E.SEQ_LR_GRID for s in E.SEQ_SEEDS]
    if "autoencoder" in parts:
        it = dict(maxiter=15) if quick else {}
        main = E.AutoencoderConfig(data_dir=dd, **it)
        cfgs += [main, E.AutoencoderConfig(zca_epsilon=None, data_dir=dd, **it)]  # main, then the course recipe
        hidden = E.AE_GRID_HIDDEN[:2] if quick else E.AE_GRID_HIDDEN
        lams = E.AE_GRID_LAMBDA[1:] if quick else E.AE_GRID_LAMBDA  # quick: keeps the warm start's λ
        # the L_hid x λ grid on whitened patches and on the course recipe; λ ascending, so a run that
        # starts from a smaller λ's weights (E.AE_WARM_START) finds them trained; then the same
        # settings from random weights
        for zca in (main.zca_epsilon, None):
            cfgs += [E.autoencoder_grid_config(h, lam, zca_epsilon=zca, data_dir=dd, **it) for h in hidden
                     for lam in lams if (h, lam) != (main.n_hidden, main.lam)]
            cfgs += [E.autoencoder_random_start_config(h, lam, zca_epsilon=zca, data_dir=dd, **it) for h in hidden
                     for lam in lams if lam in E.AE_WARM_START]
        sgd = dict(sgd=replace(E.AE_COURSE_SGD, epochs=2)) if quick else {}
        cfgs.append(E.autoencoder_course_sgd_config(data_dir=dd, **sgd))
        betas = E.AE_GRID_BETA[::2] if quick else E.AE_GRID_BETA
        rhos = E.AE_GRID_RHO[::2] if quick else E.AE_GRID_RHO
        cfgs += [E.AutoencoderConfig(beta=b, rho=r, data_dir=dd, **it) for b in betas for r in rhos
                 if (b, r) != (main.beta, main.rho)]
    if "language_model" in parts:
        ep = dict(epochs=1) if quick else {}
        cfgs += [E.language_model_config(D, P, data_dir=dd, **ep) for D, P in E.LM_SIZES]
        D, P = E.LM_SIZES[0]
        cfgs += [E.language_model_config(D, P, seed=s, data_dir=dd, **ep) for s in E.LM_SEEDS if s != 0]
    return cfgs


def run_study(parts, quick, data_dir, store, jobs=1, scheduler=None, progress=True, train=True):
    """Every experiment; returns (results, {cell: chosen η}). With ``train=False`` every result
    must already be in the store (:class:`NotInStore` otherwise)."""
    results = run_all(study_configs(parts, quick, data_dir), store, jobs=jobs, scheduler=scheduler,
                      progress=progress, train=train)
    chosen = _chosen([r for r in results if r.config.part == "sequence"], None)
    if chosen:
        print("learning rates chosen on mean validation accuracy: "
              + ", ".join(f"{c.upper()} η={lr:g}" for c, lr in chosen.items()), flush=True)
    return results, chosen


def mean_sd(values) -> dict:
    """``{"values", "mean", "sd"}`` (sd with ddof=1; 0 for a single value)."""
    v = np.asarray(values, dtype=float)
    return {"values": v.tolist(), "mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0}


def _is_grid_run(cfg) -> bool:
    """A run of the study's L_hid x λ grid (:func:`experiments.autoencoder_grid_config`), not a
    random-start twin or the SGD run."""
    main = E.AutoencoderConfig()
    return (cfg.solver == "lbfgs" and (cfg.beta, cfg.rho) == (main.beta, main.rho)
            and cfg.warm_start_lam == E.AE_WARM_START.get(cfg.lam))


def autoencoder_grids(results, whitened: bool = True) -> tuple[dict, dict]:
    """The whitened runs (or, ``whitened=False``, the course recipe's) as two grids:
    {(L_hid, λ): result} at the main β and ρ, and {(β, ρ): result} at the main L_hid and λ (the
    main run is in both). Random-start twins and the SGD run are in neither."""
    main = E.AutoencoderConfig()
    runs = [r for r in results if (r.config.zca_epsilon is not None) == whitened and r.config.solver == "lbfgs"]
    size_decay = {(r.config.n_hidden, r.config.lam): r for r in runs if _is_grid_run(r.config)}
    sparsity = {(r.config.beta, r.config.rho): r for r in runs
                if (r.config.n_hidden, r.config.lam) == (main.n_hidden, main.lam)
                and r.config.warm_start_lam is None and r.config.grad_tol is None}
    return size_decay, sparsity


_MEAN_PATCH_MSE = {}


def mean_patch_mse(cfg) -> float:
    """Reconstruction error of always answering the mean training patch, on the training patches
    of ``cfg``'s data and preprocessing (the yardstick of the notebooks' "MSE/mean")."""
    key = (str(cfg.data_dir), cfg.zca_epsilon, cfg.seed)
    if key not in _MEAN_PATCH_MSE:
        X, _ = E.autoencoder_inputs(cfg.data_dir, cfg.zca_epsilon, cfg.seed)
        _MEAN_PATCH_MSE[key] = float(np.mean((X - X.mean(axis=0)) ** 2))
    return _MEAN_PATCH_MSE[key]


def _preprocessings(rows) -> str:
    kinds = {g["whitened"] for g in rows}
    return "whitened and not" if len(kinds) == 2 else "whitened" if True in kinds else "course recipe"


def _autoencoder_row(r) -> dict:
    from .metrics import uniform_cosine
    from .models import autoencoder

    c = r.config
    return {"n_hidden": c.n_hidden, "lam": c.lam, "beta": c.beta, "rho": c.rho, "whitened": c.zca_epsilon is not None,
            "solver": c.solver, "start": "random" if c.warm_start_lam is None else f"λ={c.warm_start_lam:g}",
            **r.metrics, "reconstruction_vs_mean": r.metrics["reconstruction_mse"] / mean_patch_mse(c),
            "uniform_cosine": float(uniform_cosine(autoencoder.hidden_features(r.params)).mean()),
            "wall_time_s": round(r.wall_time, 1), "stopped": r.history["stopped"]}


def autoencoder_summary(results) -> dict:
    """Main result (the default config), its un-whitened twin, the L_hid x λ grids (whitened and
    on the course recipe), the β x ρ grid, the λ values trained from another λ's weights next to
    their random-start twins (``high_lambda``), and the course's SGD run."""
    main_cfg = E.AutoencoderConfig()
    size_decay, sparsity = autoencoder_grids(results)
    course, _ = autoencoder_grids(results, whitened=False)
    rows = lambda runs: sorted((_autoencoder_row(r) for r in runs), key=lambda g: (g["n_hidden"], g["lam"]))  # noqa: E731
    twins = [r for r in results if r.config.solver == "lbfgs" and r.config.lam in E.AE_WARM_START
             and r.config.warm_start_lam is None and r.config.grad_tol is not None]
    warm = [r for grid in (size_decay, course) for (h, lam), r in grid.items() if lam in E.AE_WARM_START]
    sgd = [r for r in results if r.config.solver == "sgd"]
    plain = course.get((main_cfg.n_hidden, main_cfg.lam))
    return {"main": _autoencoder_row(size_decay[(main_cfg.n_hidden, main_cfg.lam)]),
            "not_whitened": _autoencoder_row(plain) if plain else None,
            "grid": rows(size_decay.values()),
            "course_grid": rows(course.values()),
            "high_lambda": sorted((_autoencoder_row(r) for r in twins + warm),
                                  key=lambda g: (not g["whitened"], g["n_hidden"], g["start"] != "random")),
            "course_sgd": _autoencoder_row(sgd[0]) if sgd else None,
            "sparsity_grid": sorted((_autoencoder_row(r) for r in sparsity.values()),
                                    key=lambda g: (g["beta"], g["rho"]))}


def language_model_summary(results) -> dict:
    D, P = E.LM_SIZES[0]
    sizes = [r for r in results if r.config.seed == 0]
    seeds = sorted((r for r in results if (r.config.D, r.config.P) == (D, P)), key=lambda r: r.config.seed)
    return {
        "sizes": [{"D": r.config.D, "P": r.config.P, **{k: r.metrics[k] for k in (
            "test_perplexity", "test_top1", "test_top10", "train_cross_entropy", "val_cross_entropy", "epochs")},
            "overfitting_gap": r.metrics["val_cross_entropy"] - r.metrics["train_cross_entropy"]} for r in sizes],
        "seeds": {"D": D, "P": P, "seeds": [r.config.seed for r in seeds],
                  "test_perplexity": mean_sd([r.metrics["test_perplexity"] for r in seeds]),
                  "test_top1": mean_sd([r.metrics["test_top1"] for r in seeds])},
    }


def max_rise(values) -> float:
    """The largest increase from one entry to the next (0 when it never rises)."""
    return float(max(np.max(np.diff(values)), 0.0)) if len(values) > 1 else 0.0


def epoch_cap_report(result) -> dict:
    """Did a sequence run stop at the epoch cap (the course's 50) instead of by early stopping?

    From the stored history: ``epochs_run``, ``epoch_cap``, ``hit_cap``, ``kept_epoch`` (1-based)
    and ``val_acc_gain_last_epochs``: the best validation accuracy of the last ``patience``
    epochs minus the best before them. Above 0, validation was still setting new bests when
    training stopped (possible only at the cap: early stopping waits ``patience`` epochs
    without one)."""
    h, sgd_cfg = result.history, result.config.sgd
    acc = np.asarray(h["val_acc"], dtype=float)
    w = sgd_cfg.patience
    gain = float(acc[-w:].max() - acc[:-w].max()) if len(acc) > w else None
    return {"seed": result.config.seed, "epochs_run": len(h["train_loss"]), "epoch_cap": sgd_cfg.epochs,
            "hit_cap": h["stopped"] == "max epochs", "kept_epoch": h["best_epoch"] + 1,
            "val_acc_gain_last_epochs": gain, "last_epochs": w}


def sequence_summary(results, chosen: dict) -> dict:
    """Per cell: validation accuracy for each η (every seed, and their mean), the chosen η, and
    the test accuracy and test cross-entropy of every seed at that η with mean and sd; per run
    at that η whether it stopped at the epoch cap (:func:`epoch_cap_report`); the median seed
    is the one the figures show."""
    cells = {}
    for cell, lr in chosen.items():
        mine = [r for r in results if r.config.cell == cell]
        by_lr = {}
        for r in sorted(mine, key=lambda r: (r.config.sgd.lr, r.config.seed)):
            by_lr.setdefault(r.config.sgd.lr, []).append(r.metrics["val_accuracy"])
        at_lr = sorted((r for r in mine if r.config.sgd.lr == lr), key=lambda r: r.config.seed)
        median = E.median_result(at_lr, key="val_accuracy")
        cells[cell] = {
            "val_accuracy_by_lr": {f"{k:g}": float(np.mean(v)) for k, v in by_lr.items()},
            "val_accuracy_by_lr_and_seed": {f"{k:g}": v for k, v in by_lr.items()},
            "chosen_lr": lr,
            "seeds": [r.config.seed for r in at_lr],
            "test_accuracy": mean_sd([r.metrics["test_accuracy"] for r in at_lr]),
            # mean -log p(true class) on the test windows, nats: against accuracy, a measure of over-confidence
            "test_cross_entropy": mean_sd([r.metrics["test_cross_entropy"] for r in at_lr]),
            "val_accuracy": mean_sd([r.metrics["val_accuracy"] for r in at_lr]),
            "train_accuracy": mean_sd([r.metrics["train_accuracy"] for r in at_lr]),
            # stability: the largest rise of validation cross-entropy from one epoch to the next
            "val_loss_max_rise": mean_sd([max_rise(r.history["val_loss"]) for r in at_lr]),
            "epochs": [r.metrics["epochs"] for r in at_lr],
            "epoch_cap": [epoch_cap_report(r) for r in at_lr],
            "median_seed": median.config.seed,
            "n_params": median.metrics["n_params"],
            "seconds_per_epoch": mean_sd([r.metrics["seconds_per_epoch"] for r in at_lr]),
        }
    classes = next((r.metrics["classes"] for r in results if "classes" in r.metrics), None)
    return {"lr_grid": list(E.SEQ_LR_GRID), "seeds": list(E.SEQ_SEEDS), "classes": classes, "cells": cells}


def _chosen(seq, chosen_lr):
    if chosen_lr is not None:
        return chosen_lr
    return {c: E.choose_lr([r for r in seq if r.config.cell == c]) for c in E.SEQ_CELLS
            if any(r.config.cell == c for r in seq)}


def build_summary(results, data_dir=None, chosen_lr: dict | None = None) -> dict:
    """Every number the study reports, from its results (no figures).

    ``chosen_lr`` ({cell: η}) marks the sequence results of each cell's chosen learning rate;
    without it, it is chosen here from the results (the same rule, :func:`experiments.choose_lr`)."""
    from .models import language_model

    summary = {"experiments": []}
    by_part = {p: [r for r in results if r.config.part == p] for p in PARTS}
    for r in results:
        summary["experiments"].append({"label": label(r.config), "config": config_json(r.config), "metrics": r.metrics,
                                       "wall_time_s": round(r.wall_time, 2), "stopped": r.history["stopped"]})
    if by_part["autoencoder"]:
        summary["autoencoder"] = autoencoder_summary(by_part["autoencoder"])
    if by_part["language_model"]:
        summary["language_model"] = language_model_summary(by_part["language_model"])
        ng = E.PARTS["language_model"].load(data_dir)
        best = next(r for r in by_part["language_model"] if r.config.seed == 0)
        picks = np.random.default_rng(0).choice(len(ng.test_x), size=5, replace=False)
        summary["top10_candidates"] = [
            {"trigram": [ng.words[i] for i in ng.test_x[j]], "actual": ng.words[ng.test_y[j]],
             "candidates": language_model.top_k_words(best.params, ng.words, list(ng.test_x[j]), k=10)}
            for j in picks
        ]
        probes = [w for w in PROBE_WORDS if w in ng.words] or ng.words[:5]
        summary["nearest_words"] = {w: language_model.nearest_words(best.params, ng.words, w, k=5) for w in probes}
    if by_part["sequence"]:
        summary["sequence"] = sequence_summary(by_part["sequence"], _chosen(by_part["sequence"], chosen_lr))
    summary["total_training_time_s"] = round(sum(r.wall_time for r in results), 1)
    return summary


def write_report(results, out: Path, data_dir=None, chosen_lr: dict | None = None) -> dict:
    """Figures, ``summary.json`` and ``summary.md`` from results (see :func:`build_summary`).
    Returns the summary dict."""
    import matplotlib.pyplot as plt

    from . import data, plots
    from .models import autoencoder

    out.mkdir(parents=True, exist_ok=True)
    summary = build_summary(results, data_dir, chosen_lr)

    def save(fig, name):
        fig.savefig(out / f"{name}.png", dpi=110)
        plt.close(fig)

    by_part = {p: [r for r in results if r.config.part == p] for p in PARTS}
    if by_part["autoencoder"]:
        ae = summary["autoencoder"]
        rgb = E.PARTS["autoencoder"].load(data_dir)
        main_cfg = E.AutoencoderConfig()
        whitened = data.preprocess_patches(rgb, main_cfg.zca_epsilon)
        save(plots.patches_figure(rgb, data.preprocess_patches(rgb), whitened), "patches_rgb_vs_normalised")
        grid, sparsity = autoencoder_grids(by_part["autoencoder"])
        main = grid[(ae["main"]["n_hidden"], ae["main"]["lam"])]
        shown = {f"whitened: {label(main.config)}\n{plots.spectrum_note(main.metrics)}":
                 autoencoder.hidden_features(main.params)}
        course, _ = autoencoder_grids(by_part["autoencoder"], whitened=False)
        plain = course.get((main.config.n_hidden, main.config.lam))
        if plain is not None:
            shown[f"course recipe, not whitened\n{plots.spectrum_note(plain.metrics)}"] = \
                autoencoder.hidden_features(plain.params)
        save(plots.feature_grids(shown), "autoencoder_features_main")
        _, X_held = E.autoencoder_inputs(data_dir, main.config.zca_epsilon, main.config.seed)
        save(plots.reconstructions(X_held, autoencoder.forward(main.params, X_held)[1],
                                   title=f"Held-out whitened patches and reconstructions, {label(main.config)}"),
             "autoencoder_reconstructions")
        save(plots.cost_terms_figure(main.history, f"Autoencoder cost during training, {label(main.config)}"),
             "autoencoder_cost")
        for name, g, what in [("autoencoder_features_grid", grid, "whitened patches"),
                              ("autoencoder_features_grid_course_recipe", course, "course recipe")]:
            if len(g) > 1:
                save(plots.feature_grid_matrix({k: autoencoder.hidden_features(r.params) for k, r in g.items()},
                                               f"Hidden features across L_hid and λ ({what})",
                                               notes={k: plots.spectrum_note(r.metrics) for k, r in g.items()},
                                               scale="panel"), name)
        if len(sparsity) > 1:
            save(plots.feature_grid_matrix({k: autoencoder.hidden_features(r.params) for k, r in sparsity.items()},
                                           f"Hidden features across β and ρ ({label(main.config)})",
                                           notes={k: plots.spectrum_note(r.metrics) for k, r in sparsity.items()},
                                           labels=("β", "ρ")),
                 "autoencoder_features_sparsity")

    if by_part["language_model"]:
        sizes = [r for r in by_part["language_model"] if r.config.seed == 0]
        save(plots.loss_curves({label(r.config): r.history for r in sizes},
                               "Language model: training and validation cross-entropy"), "language_model_loss_curves")

    if by_part["sequence"]:
        seq = by_part["sequence"]
        chosen_lr = _chosen(seq, chosen_lr)
        ss = summary["sequence"]
        shown = {c: next(r for r in seq if r.config.cell == c and r.config.sgd.lr == chosen_lr[c]
                         and r.config.seed == ss["cells"][c]["median_seed"]) for c in chosen_lr}
        classes = next(iter(shown.values())).metrics["classes"]
        run_name = lambda r: f"{r.config.cell.upper()} (η={r.config.sgd.lr:g}, seed {r.config.seed})"  # noqa: E731
        by_seed = {c.upper(): {float(k): v for k, v in ss["cells"][c]["val_accuracy_by_lr_and_seed"].items()}
                   for c in chosen_lr}
        save(plots.lr_selection(by_seed, {c.upper(): lr for c, lr in chosen_lr.items()}), "sequence_lr_selection")
        save(plots.seed_spread({f"{c.upper()} (η={chosen_lr[c]:g})": ss["cells"][c]["test_accuracy"]["values"]
                                for c in chosen_lr},
                               title="Test accuracy at the chosen η: each seed, mean ± sd",
                               seeds=next(iter(ss["cells"].values()))["seeds"]),
             "sequence_seeds")
        save(plots.training_curves({run_name(r): r.history for r in shown.values()},
                                   "The median seed of each cell: averaged weights W̄ (validated and kept)"),
             "sequence_training_curves")
        save(plots.iterate_loss({run_name(r): r.history for r in shown.values()}), "sequence_training_loss_iterate")
        for c, r in shown.items():
            save(plots.confusion_figure({"train": r.metrics["train_confusion"], "test": r.metrics["test_confusion"]},
                                        classes, f"{run_name(r)} confusion matrices (the median seed)"),
                 f"sequence_confusion_{c}")
        profiles = {"at initialisation": {}, "after training (kept weights)": {}}
        for r in shown.values():
            g = E.gradients_at_init_and_trained(r)
            for panel, when in zip(profiles, ("init", "trained")):
                at_T = g[when]["h"][:, -1:]
                profiles[panel][f"{r.config.cell.upper()} ‖∂L/∂h_t‖"] = g[when]["h"] / at_T
                if "c" in g[when]:
                    profiles[panel][f"{r.config.cell.upper()} ‖∂L/∂c_t‖"] = g[when]["c"] / at_T
        save(plots.gradient_profiles(profiles, "‖∂L/∂h_t‖ (or ‖∂L/∂c_t‖) / ‖∂L/∂h_T‖, per window",
                                     "Gradient reaching each step, median seeds, class-balanced test windows: "
                                     "median and 10-90% of windows",
                                     styles=plots.cell_styles(next(iter(profiles.values())))),
             "sequence_gradient_norms")

    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    (out / "summary.md").write_text(summary_markdown(summary))
    return summary


def _table(title: str, columns: dict, rows: list) -> list:
    """Markdown lines: a heading and one row per item; ``columns`` maps header -> cell(row)."""
    lines = [title, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(e) for cell in columns.values()) + " |" for e in rows]
    return lines + [""]


def _pm(d: dict, fmt: str = ".3f") -> str:
    return f"{d['mean']:{fmt}} ± {d['sd']:{fmt}} ({', '.join(format(v, fmt) for v in d['values'])})"


def summary_markdown(summary: dict) -> str:
    lines = ["# mpcore study summary", ""]
    f = lambda key, fmt: (lambda e: "n/a" if e[key] is None else format(e[key], fmt))  # noqa: E731
    if "autoencoder" in summary:
        ae = summary["autoencoder"]
        rows = ae["grid"] + [e for e in ae["sparsity_grid"] if e != ae["main"]] + ae.get("course_grid", [])
        rows += [e for e in ae.get("high_lambda", []) if e["start"] == "random"]
        rows += [ae["course_sgd"]] if ae.get("course_sgd") else []
        lines += _table("## Part 1: sparse autoencoder", {
            "L_hid": f("n_hidden", "d"), "λ": f("lam", "g"), "β": f("beta", "g"), "ρ": f("rho", "g"),
            "whitened": lambda e: "yes" if e["whitened"] else "no",
            "solver, start": lambda e: f"{e['solver']}, {e['start']}",
            "cost J": f("cost", ".4f"), "MSE train": f("reconstruction_mse", ".5f"),
            "MSE held-out": f("held_out_mse", ".5f"), "mean activation": f("mean_activation", ".4f"),
            "dead units": f("dead_units", "d"), "‖W1 col‖": f("weight_norm", ".3f"),
            "selectivity": f("selectivity", ".3f"),
            "high-freq.": f("high_frequency", ".3f"), "redundancy": f("redundancy", ".3f"),
            "uniform cos.": f("uniform_cosine", ".3f"),
            "iterations (SGD: epochs)": f("iterations", "d"), "time (s)": f("wall_time_s", ".0f"),
            "stopped": lambda e: e["stopped"]}, rows)
        m = ae["main"]
        lines += [f"Main setting L_hid={m['n_hidden']}, λ={m['lam']:g}: selectivity {m['selectivity']:.3f}, "
                  f"high-frequency share {m['high_frequency']:.3f}.", ""]
    if "language_model" in summary:
        lm = summary["language_model"]
        lines += _table("## Part 2: language model", {
            "D": f("D", "d"), "P": f("P", "d"), "perplexity": f("test_perplexity", ".2f"),
            "top-1": f("test_top1", ".3f"), "top-10": f("test_top10", ".3f"),
            "train CE": f("train_cross_entropy", ".3f"), "validation CE": f("val_cross_entropy", ".3f"),
            "gap (val - train)": f("overfitting_gap", ".3f"), "epochs": f("epochs", "d")}, lm["sizes"])
        s = lm["seeds"]
        lines += [f"(D, P) = ({s['D']}, {s['P']}) over seeds {s['seeds']}: test perplexity "
                  f"{_pm(s['test_perplexity'], '.2f')}, top-1 {_pm(s['test_top1'])}.", ""]
        for c in summary.get("top10_candidates", []):
            cands = ", ".join(f"{w} ({p:.2f})" for w, p in c["candidates"])
            lines.append(f"- *{' '.join(c['trigram'])}* → actual **{c['actual']}**; top 10: {cands}")
        lines.append("")
        for w, near in summary.get("nearest_words", {}).items():
            lines.append(f"- nearest to **{w}**: " + ", ".join(f"{v} ({d:.2f})" for v, d in near))
        lines.append("")
    if "sequence" in summary:
        sq = summary["sequence"]
        cells = [{"cell": c, **v} for c, v in sq["cells"].items()]
        lines += _table("## Part 3: sequence classification", {
            "cell": lambda e: e["cell"].upper(),
            f"mean validation accuracy for η = {', '.join(format(lr, 'g') for lr in sq['lr_grid'])}":
                lambda e: ", ".join(f"{v:.3f}" for v in e["val_accuracy_by_lr"].values()),
            "chosen η": f("chosen_lr", "g"),
            "test accuracy, mean ± sd (seeds)": lambda e: _pm(e["test_accuracy"]),
            "train accuracy (mean)": lambda e: f"{e['train_accuracy']['mean']:.3f}",
            "largest epoch-to-epoch rise of validation CE (mean)": lambda e: f"{e['val_loss_max_rise']['mean']:.2f}",
            "parameters": f("n_params", "d"),
            "s / epoch": lambda e: f"{e['seconds_per_epoch']['mean']:.2f}",
            "epochs": lambda e: ", ".join(map(str, e["epochs"]))}, cells)
        runs = [{"cell": c, "lr": v["chosen_lr"], "test_ce": ce, **run} for c, v in sq["cells"].items()
                for run, ce in zip(v["epoch_cap"], v["test_cross_entropy"]["values"])]
        cap = runs[0]["epoch_cap"] if runs else 0
        gain = lambda e: "n/a" if e["val_acc_gain_last_epochs"] is None else f"{e['val_acc_gain_last_epochs']:+.3f}"  # noqa: E731
        lines += _table(f"### Each run at the chosen η: the {cap}-epoch cap and the test cross-entropy", {
            "cell": lambda e: e["cell"].upper(), "η": f("lr", "g"), "seed": f("seed", "d"),
            "epochs run": f("epochs_run", "d"), "epoch kept": f("kept_epoch", "d"),
            "stopped at the cap": lambda e: "yes" if e["hit_cap"] else "no (early stopping)",
            "best validation accuracy of the last epochs minus the best before them":
                lambda e: f"{gain(e)} (last {e['last_epochs']})",
            "test cross-entropy (nats)": f("test_ce", ".3f")}, runs)
    return "\n".join(lines)


def findings_markdown(summary: dict) -> str:
    """The README's "What the study finds" bullets, generated from a summary (so they cannot drift)."""
    lines = []
    if "autoencoder" in summary:
        ae = summary["autoencoder"]
        m, p = ae["main"], ae["not_whitened"]
        cfg = E.AutoencoderConfig()
        lines.append(
            f"- Sparse autoencoder ({m['n_hidden']} hidden units, λ = {m['lam']:g}, β = {cfg.beta:g}, ρ = {cfg.rho:g}, "
            f"ZCA-whitened patches, L-BFGS until converged: {m['iterations']} iterations): localised, oriented "
            f"edge detectors, mean orientation selectivity {m['selectivity']:.2f} with {m['high_frequency']:.2f} "
            f"of the power at high frequencies"
            + (f"; the same setting without whitening gives broader features, selectivity "
               f"{p['selectivity']:.2f}." if p else "."))
        high = ae.get("high_lambda", [])
        pairs = [(g, w) for g in high if g["start"] == "random" for w in high
                 if w["start"] != "random" and (w["whitened"], w["n_hidden"]) == (g["whitened"], g["n_hidden"])]
        def span(v, fmt):
            lo, hi = format(min(v), fmt), format(max(v), fmt)
            return lo if lo == hi else f"{lo}–{hi}"

        for whitened in (True, False):
            mine = [(g, w) for g, w in pairs if g["whitened"] == whitened]
            if not mine:
                continue
            cold, warm = [g for g, _ in mine], [w for _, w in mine]
            where = "whitened patches" if whitened else "the course recipe"
            sizes = ", ".join(str(g["n_hidden"]) for g in cold)
            off = [g for g in cold if g["reconstruction_vs_mean"] > 0.999]
            if len(off) == len(cold):
                lines.append(
                    f"  At λ = {cold[0]['lam']:g} on {where}, L-BFGS from random weights ends with the hidden layer "
                    f"off (L_hid = {sizes}: reconstruction error "
                    f"{span([g['reconstruction_vs_mean'] for g in cold], '.3f')} × the mean patch's), at a higher "
                    f"cost than from the λ = {warm[0]['start'][2:]} weights (by "
                    f"{span([g['cost'] - w['cost'] for g, w in mine], '.3f')}), which keep edge features (selectivity "
                    f"{span([w['selectivity'] for w in warm], '.2f')}): the cost has more than one minimum.")
            else:
                lines.append(
                    f"  At λ = {cold[0]['lam']:g} on {where}, L-BFGS from random weights and from the "
                    f"λ = {warm[0]['start'][2:]} weights reach the same cost (L_hid = {sizes}: within "
                    f"{max(abs(g['cost'] - w['cost']) for g, w in mine):.1g}).")
        by_rho = {}
        for g in ae.get("sparsity_grid", []):
            by_rho.setdefault(g["rho"], []).append(g["selectivity"])
        if len(by_rho) > 1:
            lines.append("  Sparsity makes the edges: over β = " + ", ".join(f"{b:g}" for b in E.AE_GRID_BETA)
                         + ", the selectivity is " + "; ".join(f"{min(v):.2f}–{max(v):.2f} at ρ = {r:g}"
                                                              for r, v in sorted(by_rho.items()))
                         + " (a dense code reconstructs better, but no unit is an edge).")
    if "language_model" in summary:
        lm = summary["language_model"]
        sizes = " / ".join(f"{s['test_perplexity']:.1f}" for s in lm["sizes"])
        names = " / ".join(f"({s['D']}, {s['P']})" for s in lm["sizes"])
        sd = lm["seeds"]
        lines.append(
            f"- Language model: test perplexity {sizes} for (D, P) = {names}; over seeds "
            f"{', '.join(map(str, sd['seeds']))} the ({sd['D']}, {sd['P']}) model reaches "
            f"{sd['test_perplexity']['mean']:.2f} ± {sd['test_perplexity']['sd']:.2f}, and the right 4th word is "
            f"its top guess {sd['test_top1']['mean']:.1%} of the time.")
    if "sequence" in summary:
        cells = summary["sequence"]["cells"]
        parts = [f"{c.upper()} {v['test_accuracy']['mean']:.3f} ± {v['test_accuracy']['sd']:.3f} "
                 f"(η = {v['chosen_lr']:g})" for c, v in cells.items()]
        lines.append(
            "- Activity windows of two unseen people, test accuracy (mean ± sd over seeds "
            f"{', '.join(map(str, E.SEQ_SEEDS))}, η chosen per cell on mean validation accuracy): "
            + ", ".join(parts) + ".")
        if all("test_cross_entropy" in v for v in cells.values()):
            lines.append("  Test cross-entropy (nats, mean over the seeds): " + ", ".join(
                f"{c.upper()} {v['test_cross_entropy']['mean']:.2f}" for c, v in cells.items())
                + (f" (a uniform guess over the K = {len(classes)} classes scores ln K = {np.log(len(classes)):.2f})"
                   if (classes := summary["sequence"].get("classes")) else "") + ".")
        capped = [f"{c.upper()} seed {run['seed']} (epoch {run['kept_epoch']} kept)" for c, v in cells.items()
                  for run in v.get("epoch_cap", []) if run["hit_cap"]]
        if capped:
            first = next(run for v in cells.values() for run in v["epoch_cap"])
            still = [f"{c.upper()} seed {run['seed']}" for c, v in cells.items() for run in v["epoch_cap"]
                     if run["hit_cap"] and (run["val_acc_gain_last_epochs"] or 0) > 0]
            lines.append(f"  Stopped by the course's {first['epoch_cap']}-epoch cap rather than by early stopping: "
                         + ", ".join(capped)
                         + (f"; validation accuracy was still setting new bests in the last "
                            f"{first['last_epochs']} epochs for " + ", ".join(still) if still else "")
                         + ".")
    lines.append(f"- Training every result of the study takes {summary['total_training_time_s'] / 60:.0f} minutes of "
                 f"one core in total (the sum over experiments; `--jobs 2` runs two at a time).")
    return "\n".join(lines)


def check_data_dir(data_dir: Path, parts) -> None:
    if not data_dir.is_dir():
        raise SystemExit(f"mpcore reproduce: --data-dir {data_dir} is not a directory")
    needed = [E.PARTS[p].config.data_file for p in parts]
    missing = [name for name in needed if not (data_dir / name).is_file()]
    if missing:
        raise SystemExit(f"mpcore reproduce: {data_dir} lacks {', '.join(missing)} (needed for the parts asked for; "
                         f"use --parts to run only some)")


def check_writable(path: Path, option: str, command: str = "reproduce") -> None:
    """Fail before any work if folder ``path`` cannot be created or written (SystemExit, status 2)."""
    import tempfile

    if path.exists() and not path.is_dir():
        raise SystemExit(f"mpcore {command}: {option} {path} is a file, not a folder: choose another path")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise SystemExit(f"mpcore {command}: cannot write to {option} {path} ({e.strerror or e}): choose a folder you "
                         f"can write to") from None


def classroom(out: Path, notebooks: Path | None) -> int:
    """``mpcore classroom``: the nbgrader course folder (:mod:`mpcore.classroom`)."""
    import importlib.util

    if importlib.util.find_spec("nbgrader") is None:
        print("mpcore classroom: nbgrader is not installed; install the classroom extra: "
              "pip install -e \".[classroom]\"", file=sys.stderr)
        return 2
    from . import classroom as C

    try:
        check_writable(out, "--out", "classroom")
        print(f"mpcore classroom: generating the student version with nbgrader in {out}/ ...", flush=True)
        release = C.build(out, notebooks)
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as e:
        print(f"mpcore classroom: {e}", file=sys.stderr)
        return 2
    print(f"instructor notebooks: {out / 'source' / C.ASSIGNMENT}/\nstudent notebooks:    {release}/\n"
          f"nbgrader course:      {out}/ (nbgrader_config.py, gradebook.db); see README, 'Teaching with mpcore'")
    return 0


def grade(course: Path, student: str | None, sandbox: bool, timeout: float) -> int:
    """``mpcore grade``: score the submissions of an nbgrader course, student code sandboxed (:mod:`mpcore.grading`)."""
    import importlib.util

    if importlib.util.find_spec("nbgrader") is None:
        print("mpcore grade: nbgrader is not installed; install the classroom extra: "
              "pip install -e \".[classroom]\"", file=sys.stderr)
        return 2
    from .classroom import ASSIGNMENT
    from .grading import course as G

    if not sandbox:
        print("mpcore grade: --no-sandbox: student code runs in plain child processes that can read your files; "
              "use it only for submissions you trust", file=sys.stderr)
    try:
        results = G.grade(course, student, sandbox=sandbox, timeout=timeout)
    except G.GradingError as e:
        print(f"mpcore grade: {e}", file=sys.stderr)
        return 2
    total = sum(r.score for r in results)
    print(f"graded {len(results)} student(s) into {course / 'gradebook.db'} ({total:g} points in all); "
          f"inline questions: nbgrader formgrade; feedback: nbgrader generate_feedback {ASSIGNMENT}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="mpcore", description="mpcore: teaching neural networks in numpy")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="rerun the study and write figures and summaries")
    rep.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results)")
    rep.add_argument("--data-dir", type=Path, default=None,
                     help=f"folder with the course's {' / '.join(E.PARTS[p].config.data_file for p in PARTS)} "
                          "(default: bundled data)")
    rep.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    rep.add_argument("--quick", action="store_true", help="a smoke run of every part in under a minute")
    rep.add_argument("--jobs", type=int, default=2, help="experiments trained in parallel with joblib (default 2)")
    rep.add_argument("--scheduler", default=None, help="address of a Dask distributed scheduler to train on")
    rep.add_argument("--store", type=Path, default=None,
                     help="results store folder (default: shipped results, then the user cache or $MPCORE_CACHE_DIR)")
    rep.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    cls = sub.add_parser("classroom", help="build the student and instructor notebooks (nbgrader course folder)")
    cls.add_argument("--out", type=Path, default=Path("classroom"), help="course folder to write (default: classroom)")
    cls.add_argument("--notebooks", type=Path, default=None,
                     help="folder with the walkthrough notebooks (default: the checkout's notebooks/)")
    grd = sub.add_parser("grade", help="score a course's submissions, each solution in a sandboxed process")
    grd.add_argument("course", type=Path, help="the course folder written by `mpcore classroom`")
    grd.add_argument("--student", default=None, help="grade this student only (default: every submission)")
    grd.add_argument("--timeout", type=float, default=60.0, help="seconds for one exercise's check (default 60)")
    grd.add_argument("--no-sandbox", action="store_true",
                     help="run student code without bubblewrap (trusted submissions only)")
    args = parser.parse_args(argv)
    if args.command == "classroom":
        return classroom(args.out, args.notebooks)
    if args.command == "grade":
        return grade(args.course, args.student, not args.no_sandbox, args.timeout)
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    if args.data_dir is not None:
        check_data_dir(args.data_dir, args.parts)
    from .data import DataFormatError
    from .store import Store, user_cache_dir
    from .train import TrainingDiverged

    try:
        check_writable(args.out, "--out")
        check_writable(args.store if args.store is not None else user_cache_dir(), "--store")
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    print(f"mpcore reproduce: {', '.join(args.parts)}, jobs={args.jobs}", flush=True)
    import signal

    def terminated(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminated)  # like Ctrl-C: stop the workers, keep what is stored
    try:
        store = Store(args.store) if args.store is not None else Store()
        results, chosen = run_study(args.parts, args.quick, args.data_dir, store, jobs=args.jobs,
                                    scheduler=args.scheduler, progress=sys.stderr.isatty())
        write_report(results, args.out, args.data_dir, chosen)
    except DataFormatError as e:
        if args.debug:
            raise
        print(f"mpcore reproduce: bad data file: {e}", file=sys.stderr)
        return 2
    except TrainingDiverged as e:
        if args.debug:
            raise
        print(f"mpcore reproduce: training diverged: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if args.debug:
            raise
        print(f"mpcore reproduce: {e.strerror or e}: {e.filename or ''} (use --debug for the traceback)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("mpcore reproduce: interrupted; every experiment that finished is in the store, and a rerun "
              "continues from there", file=sys.stderr)
        return 130
    print((args.out / "summary.md").read_text())
    print(f"done in {time.perf_counter() - t0:.0f} s; figures and summaries in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
