"""The static course site (issue 23): ``python -m mpcore site --out DIR``.

The site is built once for the module (Jupyter Book, offline) into a temporary folder, served by
Python's ``http.server`` on 127.0.0.1, and every page is loaded in Debian's Chromium with
Playwright: it must request nothing from another host, pass the axe audit (no serious or critical
WCAG 2.1 A/AA violation, tests/a11y.py), give every image a useful alt text, render its formulas
as MathML, show each walkthrough's objectives, prerequisites and time, link Binder and the
notebook's download, and show under each explorer one figure per shipped setting.

Needs the ``site`` extra (skipped without Jupyter Book); the browser tests need
``/usr/bin/chromium`` (or ``MPCORE_CHROMIUM``) and are skipped without it. Never
``playwright install``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytest.importorskip("jupyter_book", reason="the site extra is not installed (pip install -e '.[site]')")

from mpcore import cli  # noqa: E402
from mpcore.site import build as site_build  # noqa: E402
from mpcore.site.pages import PAGES, github_repository  # noqa: E402
from mpcore.site.sphinx_ext import to_mathml  # noqa: E402

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM = os.environ.get("MPCORE_CHROMIUM", "/usr/bin/chromium")
REPOSITORY, BRANCH = "mpcore-course/mpcore", "main"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


def _markdown_formulas():
    """Every ``$...$`` and ``$$...$$`` in the notebooks' markdown cells (code spans left out)."""
    pattern = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)
    for page in PAGES:
        for cell in json.loads((NOTEBOOKS / page.notebook).read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                text = re.sub(r"`[^`]*`", "", "".join(cell["source"]))
                for m in pattern.finditer(text):
                    yield page.notebook, m.group(1) or m.group(2), m.group(1) is not None


def _explorer_outputs(notebook):
    """The notebook's explorer outputs, in order: their ``mpcore_explorer`` metadata (None where missing)."""
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    return [output.get("metadata", {}).get("mpcore_explorer") for cell in cells for output in cell.get("outputs", [])
            if WIDGET_VIEW in output.get("data", {})]


# -- without a build ------------------------------------------------------------------------------


def test_every_formula_in_the_notebooks_converts_to_mathml():
    formulas = list(_markdown_formulas())
    assert len(formulas) > 100
    for notebook, latex, display in formulas:
        mathml = to_mathml(latex, display)
        assert mathml.startswith("<math") and "<merror" not in mathml, (notebook, latex)


def test_mathml_letters_that_browsers_draw():
    assert "&#x0211D;" in to_mathml(r"\mathbb{R}^{3D}") and "𝒙" in to_mathml(r"\boldsymbol{x}")  # ℝ, bold italic x
    assert "&#x002C6;" in to_mathml(r"\hat\rho_j")  # a circumflex that sits on the letter
    with pytest.raises(ValueError, match="unconverted|cannot convert"):
        to_mathml(r"\notacommand{x}")


def test_a_row_of_equations_becomes_one_math_element_per_equation():
    from mpcore.site.sphinx_ext import split_inline

    assert split_inline(r"a = b, \quad \left( c \quad d \right) \qquad e") == [
        ("a = b, ", "\u2003"), (r" \left( c \quad d \right) ", "\u2003\u2003"), (" e", "")]
    assert split_inline(r"\quad h_t = \tanh(x)") == [("", "\u2003"), (r" h_t = \tanh(x)", "")]
    assert split_inline(r"\frac{a \quad b}{c}") == [(r"\frac{a \quad b}{c}", "")]


@pytest.mark.parametrize("text", ["owner/name", "https://github.com/owner/name", "https://github.com/owner/name.git",
                                  "git@github.com:owner/name.git", "https://github.com/owner/name/"])
def test_repository_forms(text):
    assert github_repository(text) == "owner/name"


@pytest.mark.parametrize("text", ["name", "https://gitlab.com/owner/name", "owner/name/extra", ""])
def test_not_a_repository(text):
    assert github_repository(text) is None


def test_binder_links_open_the_notebook_in_lab_and_the_dashboard_in_voila():
    urls = {page.notebook: page.binder_url("o/n", "b") for page in PAGES}
    assert urls["01_sparse_autoencoder.ipynb"] == \
        "https://mybinder.org/v2/gh/o/n/b?urlpath=lab/tree/notebooks/01_sparse_autoencoder.ipynb"
    assert urls["04_explorers.ipynb"] == "https://mybinder.org/v2/gh/o/n/b?urlpath=voila/render/notebooks/04_explorers.ipynb"


def test_every_page_has_its_notebook_and_every_walkthrough_its_objectives():
    assert [p.notebook for p in PAGES] == sorted(p.name for p in NOTEBOOKS.glob("0*.ipynb"))
    for page in PAGES:
        if page.is_walkthrough:
            assert page.objectives and page.prerequisites and page.read_minutes < page.work_minutes


def test_without_a_repository_a_page_says_how_to_run_it():
    page = PAGES[0]
    box = site_build.page_box(page, None, "HEAD", "5 exercises (11 points)")
    assert "mybinder.org" not in box and f"jupyter lab notebooks/{page.notebook}" in box and "--repository" in box
    assert f'href="notebooks/{page.notebook}" download' in box and "5 exercises (11 points)" in box
    index = site_build.index_page(None, "HEAD", {})
    assert "mybinder.org" not in index and "voila notebooks/04_explorers.ipynb" in index


def _run(capsys, *args):
    code = cli.main(["site", *map(str, args)])
    return code, capsys.readouterr()


def test_a_folder_with_other_files_is_refused_and_left_alone(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("mine")
    code, out = _run(capsys, "--out", tmp_path)
    assert code == 2 and "not empty" in out.err and "thesis.tex" in out.err
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"] and (tmp_path / "thesis.tex").read_text() == "mine"


def test_an_unwritable_folder_is_refused(tmp_path, capsys):
    (tmp_path / "a file").write_text("")
    code, out = _run(capsys, "--out", tmp_path / "a file" / "site")
    assert code == 2 and "cannot write" in out.err
    code, out = _run(capsys, "--out", tmp_path / "a file")
    assert code == 2 and "is a file" in out.err


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    try:
        code, out = _run(capsys, "--out", folder)
    finally:
        folder.chmod(0o700)
    assert code == 2 and "cannot write" in out.err


def test_without_the_extra_it_says_what_to_install(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "jupyter_book" else real(name, *a))
    code, out = _run(capsys, "--out", tmp_path / "site")
    assert code == 2 and "pip install 'mpcore[site]'" in out.err and not (tmp_path / "site").exists()


def test_a_bad_repository_is_refused(tmp_path, capsys):
    code, out = _run(capsys, "--out", tmp_path / "site", "--repository", "https://gitlab.com/o/n")
    assert code == 2 and "OWNER/NAME" in out.err and not (tmp_path / "site").exists()


def test_a_previous_site_is_replaced_and_git_and_cname_kept(tmp_path):
    out, html = tmp_path / "out", tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text("new")
    out.mkdir()
    (out / site_build.MARKER).write_text("{}")
    (out / "old.html").write_text("old")
    (out / "CNAME").write_text("course.example.org")
    (out / ".git").write_text("gitdir: elsewhere")
    assert site_build.check_output_dir(out) is False  # a previous site: accepted
    site_build.install(html, out, {"pages": []})
    assert sorted(p.name for p in out.iterdir()) == [".git", ".mpcore-site.json", ".nojekyll", "CNAME", "index.html"]


def test_a_failed_build_shows_sphinx_s_message(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text('{"title": "t", "execute": {"execute_notebooks": "off"}, '
                                      '"sphinx": {"extra_extensions": ["no_such_extension_xyz"]}}')
    (book / "_toc.yml").write_text('{"format": "jb-book", "root": "index"}')
    (book / "index.md").write_text("# t\n")
    with pytest.raises(site_build.SiteError, match="no_such_extension_xyz"):
        site_build.run_jupyter_book(book, tmp_path / "build")


# -- the built site -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once: ``(folder, manifest, seconds)``."""
    out = tmp_path_factory.mktemp("site")
    t0 = time.perf_counter()
    manifest = site_build.build_site(out, repository=REPOSITORY, branch=BRANCH, progress=lambda line: None)
    return out, manifest, time.perf_counter() - t0


def test_the_build_is_clean_and_complete(site):
    out, manifest, seconds = site
    print(f"site built in {seconds:.0f} s")
    assert manifest["warnings"] == []
    assert [p["page"] for p in manifest["pages"]] == ["index.html"] + [f"{p.name}.html" for p in PAGES]
    for page in PAGES:
        assert (out / f"{page.name}.html").is_file()
        assert (out / "notebooks" / page.notebook).read_bytes() == (NOTEBOOKS / page.notebook).read_bytes()
    assert (out / ".nojekyll").is_file() and json.loads((out / site_build.MARKER).read_text()) == manifest
    assert not site_build.outside_requests(out)


def test_every_explorer_has_a_gallery_of_its_shipped_settings(site):
    from mpcore import widgets

    _, manifest, _ = site
    pages = {p["notebook"]: p for p in manifest["pages"] if p["notebook"]}
    for page in PAGES:
        specs = _explorer_outputs(page.notebook)
        assert None not in specs, f"{page.notebook}: an explorer output without mpcore_explorer metadata"
        galleries = pages[f"notebooks/{page.notebook}"]["galleries"]
        assert [g["factory"] for g in galleries] == [s["factory"] for s in specs]
        for spec, gallery in zip(specs, galleries):
            views = getattr(widgets, spec["factory"])(**spec.get("opening", {})).views()
            assert len(gallery["figures"]) == len(views) > 1
            assert len({f["caption"] for f in gallery["figures"]}) == len(views)  # one setting per caption


# -- in Chromium ----------------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(site):
    """The site on http://127.0.0.1:PORT/."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site[0])))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _site_pages():
    return ["index.html"] + [f"{p.name}.html" for p in PAGES] + ["search.html", "genindex.html"]


@pytest.fixture(scope="module")
def loaded(site, served, browser):
    """Every page loaded once: ``{page: (Playwright page, [requested URLs], [console errors])}``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pages = {}
    for name in _site_pages():
        page = context.new_page()
        requests, errors = [], []
        page.on("request", lambda request, requests=requests: requests.append(request.url))
        page.on("console",
                lambda message, errors=errors: errors.append(f"{message.text} ({message.location.get('url')})")
                if message.type == "error" else None)
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.goto(served + name, wait_until="networkidle")
        pages[name] = (page, requests, errors)
    yield pages
    context.close()


@pytest.mark.parametrize("name", _site_pages())
@pytest.mark.browser
@needs_chromium
def test_a_page_loads_only_from_this_host_and_passes_the_audit(loaded, name):
    from a11y import images_without_useful_alt, violations

    page, requests, errors = loaded[name]
    outside = [url for url in requests if urlparse(url).scheme not in {"data", "blob", "about"}
               and urlparse(url).hostname != "127.0.0.1"]
    assert outside == [], f"{name} requested other hosts"
    # Chromium may probe /favicon.ico at the host's root on its own (the pages name their icon)
    errors = [e for e in errors if not e.endswith("/favicon.ico)")]
    assert errors == [], f"{name}: errors in the browser console"
    page.eval_on_selector_all("details", "els => els.forEach(e => e.open = true)")  # audit the galleries too
    assert violations(page) == []
    assert images_without_useful_alt(page) == []


@pytest.mark.parametrize("page", [p for p in PAGES], ids=lambda p: p.name)
@pytest.mark.browser
@needs_chromium
def test_a_page_shows_what_it_teaches_and_how_to_run_it(loaded, site, page):
    browser_page = loaded[f"{page.name}.html"][0]
    box = browser_page.inner_text(".mpcore-page-info")
    flat = " ".join(box.replace("’", "'").split())  # Sphinx's smart quotes
    if page.is_walkthrough:
        assert "Learning objectives" in flat and "Prerequisites" in flat
        for line in page.objectives + page.prerequisites:
            assert " ".join(line.split()) in flat
    assert "Expected time" in flat
    binder = browser_page.eval_on_selector_all(".mpcore-page-info a[href*='mybinder.org']",
                                               "els => els.map(e => e.href)")
    assert binder == [page.binder_url(REPOSITORY, BRANCH)]
    download = browser_page.get_attribute(".mpcore-page-info a[download]", "href")
    assert download == f"notebooks/{page.notebook}"
    live_widgets = "script[type='application/vnd.jupyter.widget-view+json'], .jupyter-widgets"
    assert browser_page.locator(live_widgets).count() == 0


@pytest.mark.parametrize("page", [p for p in PAGES if p.is_walkthrough], ids=lambda p: p.name)
@pytest.mark.browser
@needs_chromium
def test_formulas_are_drawn_as_mathml(loaded, page):
    browser_page = loaded[f"{page.name}.html"][0]
    n_math = browser_page.locator("article math").count()
    expected = sum(1 for notebook, _, _ in _markdown_formulas() if notebook == page.notebook)
    assert n_math >= expected > 0
    widths = browser_page.eval_on_selector_all("article math", "els => els.map(e => e.getBoundingClientRect().width)")
    assert min(widths) > 0  # drawn by the browser
    cut = browser_page.evaluate("""() => { const edge = document.querySelector('article').getBoundingClientRect().right;
        return Array.from(document.querySelectorAll('span.math math'))
            .filter(m => m.getBoundingClientRect().right > edge + 1).map(m => m.getAttribute('alttext')); }""")
    assert cut == [], "inline formulas wider than the column"
    text = browser_page.evaluate("""() => { const a = document.querySelector('article').cloneNode(true);
        a.querySelectorAll('pre, code, script, math').forEach(e => e.remove()); return a.textContent; }""")
    assert not re.search(r"\$[^$\s][^$\n]*\$", text), "raw LaTeX left on the page"


@pytest.mark.browser
@needs_chromium
def test_galleries_show_one_captioned_figure_per_setting_and_open_by_keyboard(loaded, site):
    _, manifest, _ = site
    for entry in manifest["pages"][1:]:
        page = loaded[entry["page"]][0]
        shown = page.eval_on_selector_all("details.mpcore-gallery", """els => els.map(d => Array.from(
            d.querySelectorAll('figure')).map(f => [f.querySelector('img').getAttribute('alt'),
            f.querySelector('figcaption .caption-text').textContent.trim()]))""")
        expected = [[[" ".join(f["alt"].split()), f["caption"]] for f in g["figures"]] for g in entry["galleries"]]
        assert shown == expected, entry["page"]
    index = loaded["index.html"][0]
    hrefs = index.eval_on_selector_all("a[href*='mybinder.org']", "els => els.map(e => e.href)")
    assert site_build.lab_folder_url(REPOSITORY, BRANCH) in hrefs
    assert PAGES[-1].binder_url(REPOSITORY, BRANCH) in hrefs
    # a reader without a mouse: Tab to the first gallery's summary, Enter opens it
    page = loaded[f"{PAGES[0].name}.html"][0]
    page.reload(wait_until="networkidle")
    summary = page.locator("details.mpcore-gallery > summary").first
    for _ in range(400):
        page.keyboard.press("Tab")
        if summary.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("the gallery's summary is not reachable by Tab")
    page.keyboard.press("Enter")
    assert page.locator("details.mpcore-gallery").first.evaluate("d => d.open")
