"""The static course site: ``python -m mpcore site --out DIR`` (:mod:`mpcore.site.build`), its
pages described once (:mod:`mpcore.site.pages`), and the Sphinx extension that renders formulas
as MathML and keeps figures' alt text (:mod:`mpcore.site.sphinx_ext`). Needs the ``site`` extra
(Jupyter Book 1.x, latex2mathml)."""

from .build import SiteError, build_site
from .pages import PAGES, Page

__all__ = ["PAGES", "Page", "SiteError", "build_site"]
