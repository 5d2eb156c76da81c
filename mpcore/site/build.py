"""``python -m mpcore site --out DIR``: the course as a static web site, built offline.

Steps (each prints a progress line):

1. a Jupyter Book 1.x project is written into a temporary folder: ``_config.yml`` and
   ``_toc.yml`` generated from :data:`mpcore.site.pages.PAGES`, an index page, and a copy of each
   notebook with its committed outputs (nothing is executed) and two additions -- a box at the top
   (learning objectives, prerequisites, expected time, the Binder link and the download link) and,
   under every explorer output, the explorer's figure for each setting it ships
   (``Explorer.views()``), with its alt text and its setting as caption;
2. Jupyter Book builds the HTML (``jupyter-book build``, in a child process); formulas become
   MathML and figures keep their alt text (:mod:`mpcore.site.sphinx_ext`);
3. the HTML is checked for anything it would load from another host, and copied into ``DIR``,
   with the original notebooks under ``DIR/notebooks/`` and a ``.mpcore-site.json`` that marks
   the folder as a site this command may overwrite.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from .pages import BINDERHUB, INTRO, PAGES, TITLE, Page, github_repository

#: The repository's notebooks folder (present in a source checkout / editable install).
NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
#: The site's own static files (style, script, icon).
STATIC = Path(__file__).parent / "static"
#: The file that marks ``DIR`` as a site built here (and lists what it holds).
MARKER = ".mpcore-site.json"
#: Entries of ``DIR`` a rebuild leaves alone: a ``gh-pages`` worktree's ``.git`` and GitHub Pages' ``CNAME``.
KEEP = frozenset({".git", "CNAME"})
#: The myst-nb output renderer (entry point ``myst_nb.renderers``) that keeps figures' alt text.
RENDER_PLUGIN = "mpcore"
#: Python packages the build needs (the ``site`` extra).
NEEDS = {"jupyter_book": "jupyter-book", "latex2mathml": "latex2mathml", "nbformat": "nbformat"}


class SiteError(Exception):
    """The site cannot be built; the message says why and what to do."""


def build_site(out, *, repository: str | None = None, branch: str | None = None, notebooks=None,
               progress=print) -> dict:
    """Build the course site into folder ``out``; returns what it holds (the manifest written to
    ``out/.mpcore-site.json``). ``repository`` (``OWNER/NAME`` or a GitHub URL; default: the
    checkout's ``origin`` remote when it is on GitHub) gives every page a Binder link to
    ``branch`` (default ``HEAD``, the repository's default branch). Raises :class:`SiteError`."""
    missing = [package for module, package in NEEDS.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise SiteError(f"{', '.join(missing)} not installed: install the site extra, pip install 'mpcore[site]' "
                        f"(in a checkout: pip install -e '.[site]')")
    notebooks = Path(notebooks) if notebooks is not None else NOTEBOOKS_DIR
    absent = [p.notebook for p in PAGES if not (notebooks / p.notebook).is_file()]
    if absent:
        raise SiteError(f"{notebooks}: notebooks {', '.join(absent)} not found; the site is built from a source "
                        "checkout of mpcore (pass --notebooks DIR to point at its notebooks/ folder)")
    repository, source = resolve_repository(repository, notebooks)
    branch = branch or "HEAD"
    out = Path(out)
    created = check_output_dir(out)
    if repository:
        progress(f"mpcore site: Binder links to github.com/{repository} ({branch}; {source})")
    else:
        progress("mpcore site: no Binder links (no --repository given and no GitHub remote 'origin'); pages say "
                 "how to run the notebooks instead")
    try:
        with tempfile.TemporaryDirectory(prefix="mpcore-site-") as tmp:
            book = Path(tmp) / "book"
            manifest = write_project(book, notebooks, repository, branch, progress)
            progress("mpcore site: building the HTML with Jupyter Book (about a minute) ...")
            html, warnings = run_jupyter_book(book, Path(tmp) / "build")
            manifest["warnings"] = warnings
            for line in warnings:
                progress(f"mpcore site: Sphinx {line}")
            outside = outside_requests(html)
            if outside:
                raise SiteError("the built pages would load from other hosts (the site must work offline): "
                                + "; ".join(outside[:10]))
            progress(f"mpcore site: copying the site into {out}/ ...")
            install(html, out, manifest)
    except BaseException:
        _remove_if_created(out, created)
        raise
    return manifest


# -- the output folder ----------------------------------------------------------------------------


def check_output_dir(out: Path) -> bool:
    """Fail before any work if ``out`` is a file, cannot be written, or is a non-empty folder that
    is not a site built here (refuse rather than delete someone's files). Returns whether the
    folder was created."""
    if out.exists() and not out.is_dir():
        raise SiteError(f"--out {out} is a file, not a folder: choose another path")
    if out.is_dir():
        entries = sorted(p.name for p in out.iterdir() if p.name not in KEEP)
        if entries and not (out / MARKER).is_file():
            raise SiteError(f"--out {out} is not empty and is not a site built by mpcore (it has no {MARKER}): "
                            f"refusing to replace its {len(entries)} entries ({', '.join(entries[:3])}"
                            f"{', ...' if len(entries) > 3 else ''}); choose an empty or new folder")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise SiteError(f"cannot write to --out {out} ({e.strerror or e}): choose a folder you can write to") from None
    return created


def _remove_if_created(out: Path, created: bool) -> None:
    if created and out.is_dir() and not any(out.iterdir()):
        out.rmdir()


def install(html: Path, out: Path, manifest: dict) -> None:
    """Replace ``out``'s contents (except :data:`KEEP`) with the built site ``html``."""
    (out / MARKER).write_text(json.dumps({"incomplete": True}))  # the folder is ours from here on
    for entry in out.iterdir():
        if entry.name in KEEP or entry.name == MARKER:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    shutil.copytree(html, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".buildinfo"))
    (out / ".nojekyll").touch()  # GitHub Pages: serve _static/ and _images/ as they are
    (out / MARKER).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")


# -- the repository and Binder --------------------------------------------------------------------


def resolve_repository(repository: str | None, notebooks: Path) -> tuple[str | None, str]:
    """``(OWNER/NAME or None, where it came from)``: ``repository`` if given, else the git remote
    ``origin`` of the checkout holding ``notebooks`` when it is on GitHub."""
    if repository:
        found = github_repository(repository)
        if found is None:
            raise SiteError(f"--repository {repository!r}: expected OWNER/NAME or a github.com URL")
        return found, "--repository"
    try:
        url = subprocess.run(["git", "-C", str(notebooks), "remote", "get-url", "origin"], capture_output=True,
                             text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, ""
    found = github_repository(url) if "github.com" in url else None
    return found, "git remote origin"


def lab_folder_url(repository: str, branch: str) -> str:
    return f"{BINDERHUB}/v2/gh/{repository}/{branch}?urlpath=lab/tree/notebooks"


# -- the Jupyter Book project ---------------------------------------------------------------------


def write_project(book: Path, notebooks: Path, repository: str | None, branch: str, progress=print) -> dict:
    """Write the Jupyter Book project into ``book``; returns the manifest (pages and galleries)."""
    import nbformat

    book.mkdir(parents=True)
    (book / "_extra" / "notebooks").mkdir(parents=True)
    progress(f"mpcore site: writing the Jupyter Book project from {notebooks}/ ...")
    shutil.copy(STATIC / "favicon.svg", book / "favicon.svg")
    (book / "_config.yml").write_text(json.dumps(book_config(repository, branch), indent=1, ensure_ascii=False))
    (book / "_toc.yml").write_text(json.dumps(book_toc(), indent=1))
    manifest = {"built_by": "python -m mpcore site", "repository": repository, "branch": branch, "pages": []}
    figures = {}  # (factory, setting) -> (file, alt): an explorer shown twice is rendered once
    exercises = {}
    for page in PAGES:
        nb = nbformat.read(notebooks / page.notebook, as_version=4)
        shutil.copy(notebooks / page.notebook, book / "_extra" / "notebooks" / page.notebook)  # the download
        exercises[page.name] = count_exercises(nb) if page.is_walkthrough else ""
        galleries = prepare_notebook(nb, page, repository, branch, exercises[page.name], book, figures, progress)
        nbformat.write(nb, book / page.notebook)
        manifest["pages"].append({"page": f"{page.name}.html", "notebook": f"notebooks/{page.notebook}",
                                  "walkthrough": page.is_walkthrough,
                                  "binder": page.binder_url(repository, branch) if repository else None,
                                  "galleries": galleries})
    (book / "index.md").write_text(index_page(repository, branch, exercises))
    manifest["pages"].insert(0, {"page": "index.html", "notebook": None, "walkthrough": False, "binder": None,
                                 "galleries": []})
    return manifest


def book_config(repository: str | None, branch: str) -> dict:
    """The ``_config.yml`` (JSON is YAML): no execution, MathML, alt text, no widget JS, nothing
    loaded from other hosts (no thebe, comments, analytics or intersphinx)."""
    repo_url = f"https://github.com/{repository}" if repository else ""
    return {
        "title": TITLE,
        "author": "the mpcore authors",
        "copyright": str(date.today().year),
        "only_build_toc_files": True,
        "exclude_patterns": ["_extra", "_gallery"],
        "execute": {"execute_notebooks": "off"},
        "html": {"use_multitoc_numbering": False, "home_page_in_navbar": True, "favicon": "favicon.svg",
                 "use_repository_button": bool(repository)},
        "repository": {"url": repo_url, "path_to_book": "notebooks", "branch": branch},
        "latex": {"use_jupyterbook_latex": False},
        "sphinx": {"config": {
            # Jupyter Book's defaults minus sphinx_thebe, sphinx_comments and intersphinx (they load
            # or name scripts on other hosts) and sphinx_togglebutton (nothing here is toggled)
            "extensions": ["myst_nb", "jupyter_book", "sphinx_external_toc", "sphinx_design", "sphinx_copybutton",
                           "sphinx_book_theme", "mpcore.site.sphinx_ext"],
            "language": "en",
            "numfig": False,  # a gallery's figures are captioned by their setting, not "Fig. 39"
            "html_math_renderer": "mathml",
            "myst_enable_extensions": ["colon_fence", "dollarmath"],  # not linkify: "plots.py" is no web address
            "myst_dmath_double_inline": True,
            "nb_render_plugin": RENDER_PLUGIN,
            # the explorers' live widgets need require.js and the widget manager from a CDN and a
            # kernel: show their PNG instead, and load no widget JavaScript
            "nb_mime_priority_overrides": [["html", "application/vnd.jupyter.widget-view+json", None]],
            "nb_ipywidgets_js": {},
            "html_extra_path": ["_extra"],
            "html_copy_source": False,
            "html_context": {"default_mode": "auto"},  # light or dark as the reader's system is; the switcher stays
            "html_show_sourcelink": False,
            "html_theme_options": {
                "search_bar_text": "Search this site",
                "home_page_in_toc": True,
                "use_download_button": False,  # each page links its original notebook instead
                "use_fullscreen_button": False,
                "repository_url": repo_url,
                "repository_branch": branch,
                "path_to_docs": "notebooks",
                "use_repository_button": bool(repository),
                "launch_buttons": {},  # each page has its own Binder link (the dashboard's opens Voilà)
            },
        }},
    }


def book_toc() -> dict:
    return {"format": "jb-book", "root": "index", "chapters": [{"file": page.name} for page in PAGES]}


def count_exercises(nb) -> str:
    """"5 exercises (11 points) and 2 questions", from the notebook's ``check:`` and ``answer:`` tags."""
    from ..exercises import EXERCISES

    tags = [tag for cell in nb.cells for tag in cell.metadata.get("tags", [])]
    checks = [t.split(":", 1)[1] for t in tags if t.startswith("check:")]
    answers = [t for t in tags if t.startswith("answer:")]
    points = sum(EXERCISES[name].points for name in checks if name in EXERCISES)
    text = f"{len(checks)} exercise{'s' * (len(checks) != 1)} ({points} points)"
    if answers:
        text += f" and {len(answers)} question{'s' * (len(answers) != 1)}"
    return text


def prepare_notebook(nb, page: Page, repository, branch, exercises: str, book: Path, figures: dict,
                     progress=print) -> list[dict]:
    """Add the page box after the title and a gallery under every explorer output; hide the
    dashboard's code (as Voilà does). Returns the galleries: explorer, settings and figures."""
    import nbformat

    first = nb.cells[0] if nb.cells else None
    title, rest = page.name, ""
    if first is not None and first.cell_type == "markdown" and first.source.lstrip().startswith("# "):
        head, _, rest = first.source.lstrip().partition("\n")
        title = head[2:].strip()
        nb.cells = nb.cells[1:]
    cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\n" + page_box(page, repository, branch, exercises))]
    if rest.strip():
        cells.append(nbformat.v4.new_markdown_cell(rest.strip()))
    galleries = []
    for cell in nb.cells:
        if cell.cell_type == "code" and not page.is_walkthrough:
            cell.metadata.setdefault("tags", []).append("remove-input")
        cells.append(cell)
        for output in cell.get("outputs", []):
            spec = output.get("metadata", {}).get("mpcore_explorer")
            if spec:
                gallery = explorer_gallery(spec, book, figures, f"{page.name}: {spec.get('factory')}", progress)
                galleries.append(gallery)
                cells.append(nbformat.v4.new_markdown_cell(gallery_markdown(gallery, len(galleries))))
    nb.cells = cells
    return galleries


def page_box(page: Page, repository, branch, exercises: str) -> str:
    """The box at the top of a page: objectives, prerequisites, expected time, how to open it live
    and the download (MyST markdown)."""
    lines = [":::{container} mpcore-page-info", ""]
    if page.objectives:
        lines += ["**Learning objectives.** After this walkthrough you can", ""]
        lines += [f"- {o}" for o in page.objectives] + [""]
    if page.prerequisites:
        lines += ["**Prerequisites.**", ""] + [f"- {p}" for p in page.prerequisites] + [""]
    lines += [f"**Expected time:** {page.expected_time(exercises)}.", ""]
    download = (f'<a href="notebooks/{page.notebook}" download="{page.notebook}">Download the notebook '
                f"({page.notebook})</a>")
    where = "JupyterLab" if page.is_walkthrough else "Voilà, as a dashboard with the code hidden"
    if repository:
        lines += [f"**Run it live:** [open this notebook on Binder, in {where}]({page.binder_url(repository, branch)})"
                  f" (the first start can take a few minutes) · {download}.", ""]
    else:
        command = (f"jupyter lab notebooks/{page.notebook}" if page.is_walkthrough
                   else f"voila notebooks/{page.notebook}")
        lines += [f"**Run it live:** {download}, or in a clone of the repository: `pip install -e .` then "
                  f"`{command}`. (This site was built without a repository, so it has no Binder link: build it "
                  f"with `python -m mpcore site --repository OWNER/NAME` for one.)", ""]
    if not page.is_walkthrough:
        lines += ["Without a kernel the controls cannot move: under each explorer, the figure of every setting it "
                  "ships, with the setting as caption.", ""]
    return "\n".join(lines + [":::"])


def index_page(repository, branch, exercises: dict) -> str:
    """The site's home page: what the course is, what each page holds, how to run it live."""
    lines = [f"# {TITLE}", "", INTRO, "", "## The pages", ""]
    for k, page in enumerate(PAGES, 1):
        lines += [f"{k}. {{doc}}`{page.name}` — {page.summary} Expected time: "
                  f"{page.expected_time(exercises.get(page.name, ''))}."]
    lines += ["", "Each walkthrough page starts with its learning objectives, prerequisites and expected time, and "
              "links its notebook for download.", "", "## Run it live", ""]
    if repository:
        dashboard = next(p for p in PAGES if not p.is_walkthrough)
        lab = lab_folder_url(repository, branch)
        lines += [f"On Binder, nothing to install: [the walkthroughs in JupyterLab]({lab})"
                  f" or [the explorers as a dashboard, in Voilà]({dashboard.binder_url(repository, branch)}). Every "
                  f"page also has its own Binder link. The first start builds the environment and can take a few "
                  f"minutes.", ""]
    clone = f"https://github.com/{repository or 'OWNER/NAME'}"
    lines += ["On your own machine (Python 3.10 or later):", "", "```bash", f"git clone {clone} mpcore && cd mpcore",
              "python -m venv .venv && . .venv/bin/activate && pip install -e .",
              "jupyter lab notebooks/                 # the walkthroughs",
              "voila notebooks/04_explorers.ipynb     # the explorers as a dashboard", "```", "",
              "## About this site", "",
              "These pages are the notebooks as committed, outputs included: nothing was re-executed to build them. "
              "An explorer's controls need a running kernel, so under each explorer the site shows the figure of "
              "every setting it ships, each with a text description and its setting as caption. Formulas are "
              "MathML, drawn by the browser; the pages load nothing from other hosts, and every page is audited with "
              "axe-core for WCAG 2.1 A and AA in Chromium. The site is built with `python -m mpcore site --out DIR` "
              "(Jupyter Book 1).", ""]
    return "\n".join(lines)


# -- the explorers' galleries ---------------------------------------------------------------------


def explorer_gallery(spec: dict, book: Path, figures: dict, where: str, progress=print) -> dict:
    """Render the figure of every setting an explorer ships (``spec``: the output metadata
    ``mpcore_explorer``, ``{"factory": name in mpcore.widgets, "opening": {kwargs}}``) into
    ``book/_gallery``: ``{"factory", "figures": [{"file", "alt", "caption"}]}``."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from .. import plots, widgets

    name = spec.get("factory", "")
    factory = getattr(widgets, name, None) if isinstance(name, str) and name.endswith("_explorer") else None
    if factory is None:
        raise SiteError(f"{where}: the output's mpcore_explorer metadata names {name!r}, which is not an explorer "
                        "in mpcore.widgets")
    explorer = factory(**dict(spec.get("opening") or {}))
    views = list(explorer.views())
    progress(f"mpcore site: {where}: the figures of its {len(views)} settings ...")
    (book / "_gallery").mkdir(exist_ok=True)
    out = []
    with plt.rc_context(), np.printoptions():
        plots.notebook_style()
        for values in views:
            key = (name, json.dumps(values, sort_keys=True, default=repr))
            if key not in figures:
                fig = explorer.render(**values)
                try:
                    png, alt = plots.png_bytes(fig), plots.alt_text(fig)
                finally:
                    plt.close(fig)
                file = f"_gallery/{hashlib.sha256(png).hexdigest()[:20]}.png"
                (book / file).write_bytes(png)
                figures[key] = (file, alt)
            file, alt = figures[key]
            out.append({"file": file, "alt": alt, "caption": setting_caption(explorer, values)})
    return {"factory": name, "title": getattr(explorer, "title", "") or name, "figures": out}


def setting_caption(explorer, values: dict) -> str:
    """A setting in the words of the explorer's controls: "λ = 0.0001, L_hid = 64"."""
    parts = []
    for key, value in values.items():
        control = getattr(explorer, "controls", {}).get(key)
        description = (getattr(control, "description", "") or key) if control is not None else key
        label = next((lab for lab, val in getattr(control, "_options_full", ()) if val == value), None)
        label = str(value) if label is None else label
        parts.append(f"{description}: {label}" if "=" in label else f"{description} = {label}")
    return ", ".join(parts)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|$~])")


def gallery_markdown(gallery: dict, k: int) -> str:
    """A closed dropdown (a ``<details>`` element: Enter or Space opens it) with one captioned
    figure per setting (MyST markdown)."""
    n = len(gallery["figures"])
    lines = [f"`````{{dropdown}} The figure for each of this explorer's {n} shipped settings (no kernel needed)",
             f":class-container: mpcore-gallery mpcore-gallery-{gallery['factory']}", ""]
    for fig in gallery["figures"]:
        alt = " ".join(fig["alt"].split())
        lines += ["```{figure} " + fig["file"], f":alt: {alt}", "", _MARKDOWN_SPECIAL.sub(r"\\\1", fig["caption"]),
                  "```", ""]
    return "\n".join(lines + ["`````"])


# -- building -------------------------------------------------------------------------------------


def run_jupyter_book(book: Path, build: Path) -> tuple[Path, list[str]]:
    """``jupyter-book build`` in a child process (a fresh Sphinx); returns the HTML folder and
    Sphinx's warnings. On failure, :class:`SiteError` with Sphinx's own message."""
    command = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
               "build", "--path-output", str(build), "--quiet", str(book)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning", "MPLBACKEND": "Agg", "NO_COLOR": "1"}
    done = subprocess.run(command, cwd=book, capture_output=True, text=True, env=env)
    html = build / "_build" / "html"
    log = (done.stdout + "\n" + done.stderr).strip()
    if done.returncode != 0 or not (html / "index.html").is_file():
        raise SiteError("Jupyter Book could not build the site:\n" + sphinx_message(log))
    return html, [line.strip() for line in _ANSI.sub("", log).splitlines() if "WARNING" in line or "ERROR" in line]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def sphinx_message(log: str, lines: int = 25) -> str:
    """The part of a failed build's output that says what went wrong: Sphinx's errors and
    warnings, or else the last lines (without Jupyter Book's decorations)."""
    log = _ANSI.sub("", log)
    kept = [line for line in log.splitlines() if line.strip() and not set(line.strip()) <= set("=-─│┌┐└┘")]
    errors = [line for line in kept if re.search(r"(ERROR|WARNING|Error|Exception|error:)", line)]
    return "\n".join((errors or kept)[-lines:])


_OUTSIDE = [
    (re.compile(r"<script\b[^>]*\bsrc=[\"']?((?:https?:)?//[^\"' >]+)", re.I), "script"),
    (re.compile(r"<link\b[^>]*\bhref=[\"']?((?:https?:)?//[^\"' >]+)", re.I), "link"),
    (re.compile(r"<(?:img|iframe|source|video|audio|embed)\b[^>]*\bsrc=[\"']?((?:https?:)?//[^\"' >]+)", re.I),
     "embedded"),
    (re.compile(r"@import\s+(?:url\()?[\"']?((?:https?:)?//[^\"')\s;]+)", re.I), "@import"),
    (re.compile(r"url\(\s*[\"']?((?:https?:)?//[^\"')\s]+)", re.I), "url()"),
]


def outside_requests(html: Path) -> list[str]:
    """What the built pages and their styles would load from another host: ``"file: kind URL"``
    (links are fine; scripts, styles, fonts and images are not)."""
    found = []
    for path in sorted(html.rglob("*")):
        if path.suffix not in {".html", ".css"} or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for pattern, kind in _OUTSIDE:
            if path.suffix == ".css" and kind not in {"@import", "url()"}:
                continue
            if path.suffix == ".html" and kind == "url()":
                continue
            found += [f"{path.relative_to(html)}: {kind} {m.group(1)}" for m in pattern.finditer(text)]
    return found
