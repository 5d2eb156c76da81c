"""The study: its grids and seeds, which experiments exist, how η and the shown seed are chosen,
and what the study reports (``summary.json`` and the README's findings).

Everything that lists the study's experiments reads them here: ``python -m mpcore reproduce``
(:mod:`mpcore.cli`), the notebooks (each trains its part with :func:`mpcore.runner.run_all`
before it shows anything) and ``scripts/update_readme.py``. The figures and ``summary.md`` are
:mod:`mpcore.report`'s.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import experiments
from .experiments import label
from .runner import expected_minutes, run_all
from .store import config_json
from .train import SGDConfig

#: The study's grids: every point is trained by ``mpcore reproduce`` and shipped, so the
#: notebooks' explorers replot without training.
AE_GRID_HIDDEN = (16, 64, 100)
AE_GRID_LAMBDA = (3e-5, 1e-4, 3e-4)
#: λ values whose grid runs start from another λ's trained weights, {λ: that λ}, and converge on
#: the gradient norm (AE_GRAD_TOL). From random weights, L-BFGS at λ = 3e-4 stops with every
#: weight near 0 (a stationary point it cannot leave; its cost is higher): notebook 1, section 6.
AE_WARM_START = {3e-4: 1e-4}
AE_GRAD_TOL = 2e-4
#: The course's own solver for the autoencoder: mini-batch gradient descent with momentum 0.4 and
#: batch 32. η = 0.3 had the lowest full-batch cost after 100 epochs of {0.1, 0.3, 1, 3}
#: (1 and 3 oscillate); 300 epochs, a few minutes.
AE_COURSE_SGD = SGDConfig(lr=0.3, momentum=0.4, batch_size=32, epochs=300, patience=50)
#: The sparsity grid: weight β of the KL term x target activation ρ, at the main L_hid and λ.
AE_GRID_BETA = (0.3, 3.0, 10.0)
AE_GRID_RHO = (0.01, 0.05, 0.2)
LM_SIZES = ((32, 256), (16, 128), (8, 64))
#: Seeds of the language model's main size, (32, 256): its spread across seeds.
LM_SEEDS = (0, 1, 2)
#: Learning rates tried for each recurrent cell, each with every seed of SEQ_SEEDS; the one with
#: the best mean validation accuracy over the seeds is chosen (:func:`choose_lr`), and the test
#: accuracies of those seeds are reported.
SEQ_LR_GRID = (0.01, 0.03, 0.1)
#: The cells the study compares (the course's three; ``mpcore.cells`` has more).
SEQ_CELLS = ("rnn", "lstm", "gru")
SEQ_SEEDS = (0, 1, 2)


def autoencoder_grid_config(n_hidden: int, lam: float, **fields) -> experiments.AutoencoderConfig:
    """The study's L_hid x λ grid run at (n_hidden, lam): a λ of :data:`AE_WARM_START` starts
    from that λ's weights and converges on the gradient norm; the others start at random.
    ``fields``: other AutoencoderConfig fields (``zca_epsilon=None`` for the course recipe)."""
    if lam in AE_WARM_START:
        fields = {"warm_start_lam": AE_WARM_START[lam], "grad_tol": AE_GRAD_TOL, **fields}
    return experiments.AutoencoderConfig(n_hidden=n_hidden, lam=lam, **fields)


def autoencoder_random_start_config(n_hidden: int, lam: float, **fields) -> experiments.AutoencoderConfig:
    """The same setting from random weights, converged on the gradient norm (the evidence for
    :data:`AE_WARM_START`)."""
    return experiments.AutoencoderConfig(n_hidden=n_hidden, lam=lam, grad_tol=AE_GRAD_TOL, **fields)


def autoencoder_course_sgd_config(**fields) -> experiments.AutoencoderConfig:
    """The main setting on the course recipe, trained with the course's solver (:data:`AE_COURSE_SGD`)."""
    return experiments.AutoencoderConfig(**{"zca_epsilon": None, "solver": "sgd", "sgd": AE_COURSE_SGD, **fields})


#: The names of the study's parts, in study order (their table is :data:`experiments.PARTS`).
PART_NAMES = tuple(experiments.PARTS)
PROBE_WORDS = ("government", "war", "year", "people", "states", "congress")


def sequence_configs(data_dir=None, quick: bool = False) -> list:
    """Every η of ``SEQ_LR_GRID`` with every seed of ``SEQ_SEEDS``, for each cell (notebook 3);
    the choice of η is made afterwards, from their validation accuracy (:func:`choose_lr`)."""
    small = dict(n_hidden=32, epochs=2, n_train=320) if quick else {}
    return [experiments.sequence_config(cell, lr, s, data_dir=data_dir, **small)
            for cell in SEQ_CELLS for lr in SEQ_LR_GRID for s in SEQ_SEEDS]


def autoencoder_groups(data_dir=None, quick: bool = False) -> dict:
    """Every autoencoder run notebook 1 shows, by the section that shows it, in the notebook's
    order (so that a student's first results come first): the course recipe at the main setting
    with L-BFGS and with the course's SGD; the L_hid x λ grid on the course recipe; the same grid
    on whitened patches; the β x ρ grid. Each grid runs λ ascending, so a run that starts from a
    smaller λ's weights (``AE_WARM_START``) finds them trained, and is followed by those high-λ
    settings from random weights. ``quick``: a smoke-test version of each."""
    it = dict(maxiter=15) if quick else {}
    main = experiments.AutoencoderConfig(data_dir=data_dir, **it)
    hidden = AE_GRID_HIDDEN[:2] if quick else AE_GRID_HIDDEN
    lams = AE_GRID_LAMBDA[1:] if quick else AE_GRID_LAMBDA  # quick: keeps the warm start's λ

    def grid(zca):
        return ([autoencoder_grid_config(h, lam, zca_epsilon=zca, data_dir=data_dir, **it) for h in hidden
                 for lam in lams]
                + [autoencoder_random_start_config(h, lam, zca_epsilon=zca, data_dir=data_dir, **it) for h in hidden
                   for lam in lams if lam in AE_WARM_START])

    sgd = dict(sgd=replace(AE_COURSE_SGD, epochs=2)) if quick else {}
    course = [replace(main, zca_epsilon=None), autoencoder_course_sgd_config(data_dir=data_dir, **sgd)]
    betas = AE_GRID_BETA[::2] if quick else AE_GRID_BETA
    rhos = AE_GRID_RHO[::2] if quick else AE_GRID_RHO
    sparsity = [experiments.AutoencoderConfig(beta=b, rho=r, data_dir=data_dir, **it) for b in betas for r in rhos]
    groups = {"course recipe": course, "course recipe grid": grid(None), "whitened grid": grid(main.zca_epsilon),
              "sparsity grid": sparsity}
    seen = set()  # the main settings sit in two groups: each run once, where it is first needed
    return {name: [c for c in cfgs if not (c in seen or seen.add(c))] for name, cfgs in groups.items()}


def autoencoder_configs(data_dir=None, quick: bool = False) -> list:
    """Every autoencoder run of the study (:func:`autoencoder_groups`, in order)."""
    return [cfg for group in autoencoder_groups(data_dir, quick).values() for cfg in group]


def language_model_configs(data_dir=None, quick: bool = False) -> list:
    """The three model sizes of ``LM_SIZES`` (seed 0), then the first size with every other
    seed of ``LM_SEEDS`` (notebook 2)."""
    ep = dict(epochs=1) if quick else {}
    D, P = LM_SIZES[0]
    return ([experiments.language_model_config(D, P, data_dir=data_dir, **ep) for D, P in LM_SIZES]
            + [experiments.language_model_config(D, P, seed=s, data_dir=data_dir, **ep) for s in LM_SEEDS if s != 0])


#: Each part's experiments, in the order the study trains them (the longest first).
CONFIGS = {"sequence": sequence_configs, "autoencoder": autoencoder_configs, "language_model": language_model_configs}


def study_configs(parts, quick: bool = False, data_dir=None) -> list:
    """Every experiment of the study's ``parts``, as configs. ``quick`` shrinks training to a smoke run."""
    return [cfg for part in CONFIGS if part in parts for cfg in CONFIGS[part](data_dir, quick)]


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
    """A run of the study's L_hid x λ grid (:func:`autoencoder_grid_config`), not a
    random-start twin or the SGD run."""
    main = experiments.MAIN_AUTOENCODER
    return (cfg.solver == "lbfgs" and (cfg.beta, cfg.rho) == (main.beta, main.rho)
            and cfg.warm_start_lam == AE_WARM_START.get(cfg.lam))


def autoencoder_grids(results, whitened: bool = True) -> tuple[dict, dict]:
    """The whitened runs (or, ``whitened=False``, the course recipe's) as two grids:
    {(L_hid, λ): result} at the main β and ρ, and {(β, ρ): result} at the main L_hid and λ (the
    main run is in both). Random-start twins and the SGD run are in neither."""
    main = experiments.MAIN_AUTOENCODER
    runs = [r for r in results if (r.config.zca_epsilon is not None) == whitened and r.config.solver == "lbfgs"]
    size_decay = {(r.config.n_hidden, r.config.lam): r for r in runs if _is_grid_run(r.config)}
    sparsity = {(r.config.beta, r.config.rho): r for r in runs
                if (r.config.n_hidden, r.config.lam) == (main.n_hidden, main.lam)
                and r.config.warm_start_lam is None and r.config.grad_tol is None}
    return size_decay, sparsity


def mean_patch_mse(cfg) -> float:
    """Reconstruction error of always answering the mean training patch, on the training patches
    of ``cfg``'s data and preprocessing (the yardstick of the notebooks' "MSE/mean")."""
    X, _ = experiments.autoencoder_inputs(cfg.data_dir, cfg.zca_epsilon, cfg.seed)
    return float(np.mean((X - X.mean(axis=0)) ** 2))


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
    main_cfg = experiments.MAIN_AUTOENCODER
    size_decay, sparsity = autoencoder_grids(results)
    course, _ = autoencoder_grids(results, whitened=False)
    rows = lambda runs: sorted((_autoencoder_row(r) for r in runs), key=lambda g: (g["n_hidden"], g["lam"]))  # noqa: E731
    twins = [r for r in results if r.config.solver == "lbfgs" and r.config.lam in AE_WARM_START
             and r.config.warm_start_lam is None and r.config.grad_tol is not None]
    warm = [r for grid in (size_decay, course) for (h, lam), r in grid.items() if lam in AE_WARM_START]
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
    D, P = LM_SIZES[0]
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
        median = median_result(at_lr, key="val_accuracy")
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
    return {"lr_grid": list(SEQ_LR_GRID), "seeds": list(SEQ_SEEDS), "classes": classes, "cells": cells}


def sequence_study_summary(by_cell: dict) -> dict:
    """:func:`sequence_summary` of what :func:`sequence_study` returned: every run it holds, with
    the η it chose for each cell -- what notebook 3 prints."""
    runs = [r for s in by_cell.values() for rs in s["runs"].values() for r in rs]
    return sequence_summary(runs, {c: s["lr"] for c, s in by_cell.items()})


def _chosen(seq, chosen_lr):
    if chosen_lr is not None:
        return chosen_lr
    return {c: choose_lr([r for r in seq if r.config.cell == c]) for c in SEQ_CELLS
            if any(r.config.cell == c for r in seq)}


def build_summary(results, data_dir=None, chosen_lr: dict | None = None) -> dict:
    """Every number the study reports, from its results (no figures).

    ``chosen_lr`` ({cell: η}) marks the sequence results of each cell's chosen learning rate;
    without it, it is chosen here from the results (the same rule, :func:`choose_lr`)."""
    from .models import language_model

    summary = {"experiments": []}
    by_part = {p: [r for r in results if r.config.part == p] for p in PART_NAMES}
    for r in results:
        summary["experiments"].append({"label": label(r.config), "config": config_json(r.config), "metrics": r.metrics,
                                       "wall_time_s": round(r.wall_time, 2), "stopped": r.history["stopped"]})
    if by_part["autoencoder"]:
        summary["autoencoder"] = autoencoder_summary(by_part["autoencoder"])
    if by_part["language_model"]:
        summary["language_model"] = language_model_summary(by_part["language_model"])
        ng = experiments.PARTS["language_model"].load(data_dir)
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



def findings_markdown(summary: dict) -> str:
    """The README's "What the study finds" bullets, generated from a summary (so they cannot drift)."""
    lines = []
    if "autoencoder" in summary:
        ae = summary["autoencoder"]
        m, p = ae["main"], ae["not_whitened"]
        cfg = experiments.MAIN_AUTOENCODER
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
            lines.append("  Sparsity makes the edges: over β = " + ", ".join(f"{b:g}" for b in AE_GRID_BETA)
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
            f"{', '.join(map(str, SEQ_SEEDS))}, η chosen per cell on mean validation accuracy): "
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


def choose_lr(results: list) -> float:
    """The learning rate whose results have the highest mean validation accuracy (ties: the
    lower mean of the best validation cross-entropies). Never looks at test data."""
    by_lr = {}
    for r in results:
        by_lr.setdefault(r.config.sgd.lr, []).append(r)

    def score(lr):
        rs = by_lr[lr]
        return (np.mean([r.metrics["val_accuracy"] for r in rs]), -np.mean([min(r.history["val_loss"]) for r in rs]))

    return max(by_lr, key=score)


def median_result(results: list, key: str = "val_accuracy"):
    """The result whose ``metrics[key]`` is the median (the lower middle one for an even count):
    the seed the figures show. Picked by *validation* accuracy: the test set is never used for a
    choice, not even which seed to show."""
    ranked = sorted(results, key=lambda r: r.metrics[key])
    return ranked[(len(ranked) - 1) // 2]


#: The study's protocols for choosing η (:func:`sequence_study`): every η with every seed, or --
#: for course files on a machine where that takes too long -- η chosen on seed 0 alone, then the
#: other seeds at the chosen η only (15 runs instead of 27; the choice rests on one run per η).
PROTOCOLS = ("full", "light")


#: Notebook 3 trains the full protocol on course files when it takes at most this long here.
LIGHT_PROTOCOL_MINUTES = 30


def sequence_protocol(store, data_dir=None, jobs: int = 2) -> tuple[str, float]:
    """Which protocol notebook 3 runs (:data:`PROTOCOLS`), and the full one's minutes here.

    "full" when every run of the full protocol is in ``store`` (the bundled data: all shipped),
    or when the full protocol -- all its runs, those already trained included, so that a rerun
    makes the same choice -- takes at most :data:`LIGHT_PROTOCOL_MINUTES` on this machine
    (:func:`mpcore.runner.expected_minutes`, ``jobs`` at a time); "light" otherwise."""
    full = sequence_configs(data_dir)
    if all(store.get(c) is not None for c in full):
        return "full", 0.0
    minutes = expected_minutes(full, None, jobs)
    return ("light" if minutes > LIGHT_PROTOCOL_MINUTES else "full"), minutes


def sequence_study(store, data_dir=None, cell_names=None, protocol: str = "full", jobs: int = 2) -> dict:
    """The sequence part of the study, from ``store``; what is missing is trained, ``jobs`` at a
    time, seed 0 first (:func:`mpcore.runner.run_all`, which says how long it will take).

    ``protocol="full"``: every η of ``SEQ_LR_GRID`` with every seed of ``SEQ_SEEDS``, η chosen on
    the mean validation accuracy over seeds. ``"light"``: every η with seed 0, η chosen on that
    run's validation accuracy, then the other seeds at the chosen η only.

    Returns ``{cell: {"runs": {η: [Result per seed trained]}, "lr": chosen η, "seeds": the chosen
    η's results, "median": the median seed's Result (by validation accuracy)}}``.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    cells = cell_names or SEQ_CELLS
    first_seeds = SEQ_SEEDS if protocol == "full" else SEQ_SEEDS[:1]

    def config(cell, lr, seed):
        return experiments.sequence_config(cell, lr, seed, data_dir=data_dir)

    cfgs = [config(c, lr, s) for c in cells for lr in SEQ_LR_GRID for s in first_seeds]
    got = dict(zip(cfgs, run_all(cfgs, store, jobs=jobs, notebook=True)))
    runs = {c: {lr: [got[config(c, lr, s)] for s in first_seeds] for lr in SEQ_LR_GRID} for c in cells}
    chosen = {c: choose_lr([r for rs in runs[c].values() for r in rs]) for c in cells}
    if protocol == "light":
        more = [config(c, chosen[c], s) for c in cells for s in SEQ_SEEDS[1:]]
        got.update(zip(more, run_all(more, store, jobs=jobs, notebook=True)))
        for c in cells:
            runs[c][chosen[c]] = [got[config(c, chosen[c], s)] for s in SEQ_SEEDS]
    return {c: {"runs": runs[c], "lr": chosen[c], "seeds": runs[c][chosen[c]],
                "median": median_result(runs[c][chosen[c]], key="val_accuracy")} for c in cells}
