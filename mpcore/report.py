"""The study's report: every figure as PNG, ``summary.json`` and ``summary.md``, from results
(:func:`write_report`); the numbers come from :func:`mpcore.study.build_summary`."""

from __future__ import annotations

import json
from pathlib import Path

from . import experiments, study
from .experiments import label


def write_report(results, out: Path, data_dir=None, chosen_lr: dict | None = None) -> dict:
    """Figures, ``summary.json`` and ``summary.md`` from results (see :func:`study.build_summary`);
    ``summary.md`` ends with every figure as a Markdown image whose alt text is the figure's
    (:func:`mpcore.plots.alt_text`). Returns the summary dict."""
    import matplotlib.pyplot as plt

    from . import plots

    out.mkdir(parents=True, exist_ok=True)
    summary = study.build_summary(results, data_dir, chosen_lr)
    figures = {}  # file name -> alt text, in the order written

    def save(fig, name):
        fig.savefig(out / f"{name}.png", dpi=110)
        figures[f"{name}.png"] = plots.alt_text(fig)
        plt.close(fig)

    with plt.rc_context(plots.STYLE):  # the notebooks' palette and colour map, whatever the caller's settings
        _figures(results, summary, data_dir, chosen_lr, save)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    (out / "summary.md").write_text(summary_markdown(summary, figures))
    return summary


def _figures(results, summary: dict, data_dir, chosen_lr, save):
    """Every figure of the report, each handed to ``save(fig, name)``."""
    from . import data, plots
    from .models import autoencoder

    by_part = {p: [r for r in results if r.config.part == p] for p in study.PART_NAMES}
    if by_part["autoencoder"]:
        ae = summary["autoencoder"]
        rgb = experiments.PARTS["autoencoder"].load(data_dir)
        main_cfg = experiments.MAIN_AUTOENCODER
        whitened = data.preprocess_patches(rgb, main_cfg.zca_epsilon)
        save(plots.patches_figure(rgb, data.preprocess_patches(rgb), whitened), "patches_rgb_vs_normalised")
        grid, sparsity = study.autoencoder_grids(by_part["autoencoder"])
        main = grid[(ae["main"]["n_hidden"], ae["main"]["lam"])]
        shown = {f"whitened: {label(main.config)}\n{plots.spectrum_note(main.metrics)}":
                 autoencoder.hidden_features(main.params)}
        course, _ = study.autoencoder_grids(by_part["autoencoder"], whitened=False)
        plain = course.get((main.config.n_hidden, main.config.lam))
        if plain is not None:
            shown[f"course recipe, not whitened\n{plots.spectrum_note(plain.metrics)}"] = \
                autoencoder.hidden_features(plain.params)
        save(plots.feature_grids(shown), "autoencoder_features_main")
        _, X_held = experiments.autoencoder_inputs(data_dir, main.config.zca_epsilon, main.config.seed)
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
        chosen_lr = study._chosen(seq, chosen_lr)
        ss = summary["sequence"]
        shown = {c: next(r for r in seq if r.config.cell == c and r.config.sgd.lr == chosen_lr[c]
                         and r.config.seed == ss["cells"][c]["median_seed"]) for c in chosen_lr}
        classes = next(iter(shown.values())).metrics["classes"]
        by_seed = {c.upper(): {float(k): v for k, v in ss["cells"][c]["val_accuracy_by_lr_and_seed"].items()}
                   for c in chosen_lr}
        save(plots.lr_selection(by_seed, {c.upper(): lr for c, lr in chosen_lr.items()}), "sequence_lr_selection")
        save(plots.seed_spread({f"{c.upper()} (η={chosen_lr[c]:g})": ss["cells"][c]["test_accuracy"]["values"]
                                for c in chosen_lr},
                               title="Test accuracy at the chosen η: each seed, mean ± sd",
                               seeds=next(iter(ss["cells"].values()))["seeds"]),
             "sequence_seeds")
        save(plots.training_curves({label(r.config): r.history for r in shown.values()},
                                   "The median seed of each cell: averaged weights W̄ (validated and kept)"),
             "sequence_training_curves")
        save(plots.iterate_loss({label(r.config): r.history for r in shown.values()}), "sequence_training_loss_iterate")
        for c, r in shown.items():
            save(plots.confusion_figure({"train": r.metrics["train_confusion"], "test": r.metrics["test_confusion"]},
                                        classes, f"{label(r.config)} confusion matrices (the median seed)"),
                 f"sequence_confusion_{c}")
        profiles = {"at initialisation": {}, "after training (kept weights)": {}}
        for r in shown.values():
            g = experiments.gradients_at_init_and_trained(r)
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


def _table(title: str, columns: dict, rows: list) -> list:
    """Markdown lines: a heading and one row per item; ``columns`` maps header -> cell(row)."""
    lines = [title, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(e) for cell in columns.values()) + " |" for e in rows]
    return lines + [""]


def _pm(d: dict, fmt: str = ".3f") -> str:
    return f"{d['mean']:{fmt}} ± {d['sd']:{fmt}} ({', '.join(format(v, fmt) for v in d['values'])})"


def _markdown_alt(alt: str) -> str:
    """``alt`` inside a Markdown image's brackets: brackets and backslashes escaped, one line."""
    return " ".join(alt.split()).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def figures_markdown(figures: dict) -> list:
    """Markdown lines: a Figures section with each ``{file name: alt text}`` as an image."""
    lines = ["## Figures", ""]
    for name, alt in figures.items():
        lines += [f"![{_markdown_alt(alt)}]({name})", ""]
    return lines


def summary_markdown(summary: dict, figures: dict | None = None) -> str:
    """The summary as Markdown; with ``figures`` (``{file name: alt text}``), a Figures section
    that shows each with its alt text."""
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
    if figures:
        lines += figures_markdown(figures)
    return "\n".join(lines)
