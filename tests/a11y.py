"""The accessibility audit the browser tests share (issue 23): axe-core, as shipped by the
``axe-playwright-python`` package (no download), run inside the page under the WCAG 2.1 A and AA
rules, and a check of our own that every image has a useful text alternative -- axe accepts any
non-empty ``alt``, including a file name or a hash, which tells a screen-reader user nothing."""

from __future__ import annotations

import re

#: The axe-core rule tags of WCAG 2.0 and 2.1, levels A and AA.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

#: The impacts that fail the audit (axe's scale: minor, moderate, serious, critical).
BLOCKING = ("serious", "critical")

_FILE_NAME = re.compile(r"\.(png|jpe?g|gif|svg|webp)\b", re.I)
_HASH = re.compile(r"\b[0-9a-f]{12,}\b", re.I)
_GENERIC = {"image", "figure", "img", "png", "picture", "plot", "graph", "output", "chart"}


def violations(page, context=None) -> list[str]:
    """axe's serious and critical WCAG 2.1 A/AA violations on ``page`` (optionally within the CSS
    selector ``context``), one line each: rule, impact, what it asks, how many elements and the
    first one's selector. Empty when the page passes."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": list(WCAG_TAGS)}, "resultTypes": ["violations"]}
    found = Axe().run(page, context, options).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}; {len(v['nodes'])} element(s), e.g. "
            f"{v['nodes'][0]['target']}: {v['nodes'][0].get('failureSummary', '')[:200]}"
            for v in found if v["impact"] in BLOCKING]


def is_useful_alt(alt: str | None) -> bool:
    """Whether ``alt`` describes something: not missing or blank, not a file name, a hash or a
    generic word ("image", "figure"), and at least two words."""
    if alt is None or not alt.strip():
        return False
    words = alt.strip().split()
    if _FILE_NAME.search(alt) or _HASH.search(alt) or alt.strip().lower() in _GENERIC:
        return False
    return len(words) >= 2


def images_without_useful_alt(page) -> list[str]:
    """The visible images on ``page`` whose text alternative is missing or useless (see
    :func:`is_useful_alt`), as ``src (alt=...)``. Images hidden from assistive technology
    (``aria-hidden``, ``role="presentation"``) are skipped."""
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => ({alt: e.getAttribute('alt'), label: e.getAttribute('aria-label'), "
               "src: (e.getAttribute('src') || '').slice(0, 80), "
               "hidden: e.closest('[aria-hidden=true]') !== null || e.getAttribute('role') === 'presentation'"
               " || e.offsetParent === null}))")
    return [f"{i['src']} (alt={i['alt']!r})" for i in images
            if not i["hidden"] and not is_useful_alt(i["alt"] if i["alt"] else i["label"])]
