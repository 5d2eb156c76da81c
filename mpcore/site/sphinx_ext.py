"""The course site's Sphinx extension and myst-nb output renderer (``python -m mpcore site``).

* **MathML**: an HTML math renderer (``html_math_renderer = "mathml"``) that turns every formula
  into MathML at build time with ``latex2mathml`` -- no MathJax, no script, nothing from a CDN;
  browsers draw MathML themselves and screen readers read it. A formula that does not convert
  stops the build, naming it.
* **Alt text**: :class:`AltTextRenderer`, registered under the entry point group
  ``myst_nb.renderers`` as ``mpcore`` (``nb_render_plugin = "mpcore"``), gives a notebook
  figure the ``alt`` stored in its output's metadata (``{"image/png": {"alt": ...}}``, written by
  :func:`mpcore.plots.show`); myst-nb itself keeps only width and height from there.
* **Style**: ``mpcore-site.css`` and ``mpcore-site.js``, what the accessibility audit asks of
  the pages (a tab stop on a formula that scrolls sideways).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from docutils import nodes
from myst_nb.core.render import MimeData, NbElementRenderer
from sphinx.errors import ExtensionError

STATIC = Path(__file__).parent / "static"


class AltTextRenderer(NbElementRenderer):
    """myst-nb's renderer, plus the figure's alt text from the output metadata."""

    def render_image(self, data: MimeData) -> list[nodes.Element]:
        rendered = super().render_image(data)
        alt = (data.output_metadata.get(data.mime_type) or {}).get("alt")
        if isinstance(alt, str) and alt.strip():
            for node in rendered:
                if isinstance(node, nodes.image):
                    node["alt"] = " ".join(alt.split())
        return rendered


# -- MathML ---------------------------------------------------------------------------------------

_VARIANT = re.compile(r'<mi mathvariant="(double-struck|bold|bold-italic)">([A-Za-z0-9]+)</mi>')
_STYLE = {"double-struck": "DOUBLE-STRUCK", "bold": "BOLD", "bold-italic": "BOLD ITALIC"}
_DIGITS = "ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE".split()


def _styled(char: str, style: str) -> str:
    """``char`` as a Unicode mathematical letter (ℝ, 𝐱); MathML Core, which browsers implement,
    ignores ``mathvariant`` other than "normal"."""
    if char.isdigit():
        kind = f"DIGIT {_DIGITS[int(char)]}"
    else:
        kind = f"{'CAPITAL' if char.isupper() else 'SMALL'} {char.upper()}"
    for name in (f"MATHEMATICAL {style} {kind}", f"{style} {kind}"):
        try:
            return unicodedata.lookup(name)
        except KeyError:
            continue
    return char


#: Accents as browsers place them: latex2mathml writes \hat and \tilde with the ASCII ^ and ~,
#: which Chromium draws raised and to the left; the spacing modifier letters sit on the letter.
_ACCENTS = {"<mo>&#x0005E;</mo>": "<mo>&#x002C6;</mo>", '<mo stretchy="false">&#x0007E;</mo>': "<mo>&#x002DC;</mo>"}


def _variants(mathml: str) -> str:
    for old, new in _ACCENTS.items():
        mathml = mathml.replace(old, new)
    return _VARIANT.sub(lambda m: "<mi>" + "".join(_styled(c, _STYLE[m[1]]) for c in m[2]) + "</mi>", mathml)


def to_mathml(latex: str, display: bool = False) -> str:
    """``latex`` as a ``<math>`` element. Raises ValueError when latex2mathml cannot convert it
    or leaves a command unconverted (a backslash in the output)."""
    from latex2mathml.converter import convert

    try:
        mathml = convert(latex.strip(), display="block" if display else "inline")
    except Exception as e:  # latex2mathml raises its own exception types, and IndexError/KeyError
        raise ValueError(f"latex2mathml cannot convert ${latex.strip()}$: {type(e).__name__}: {e}") from e
    text = re.sub(r"<[^>]+>", " ", mathml)
    if "\\" in text.replace("&#x0005C;", ""):
        raise ValueError(f"latex2mathml left a command unconverted in ${latex.strip()}$: {mathml[:300]}")
    mathml = _variants(mathml)
    # a text alternative for assistive technology that cannot read MathML
    alt = latex.strip().replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return mathml.replace("<math ", f'<math alttext="{alt}" ', 1)


def _convert(self, node, latex, display):
    try:
        return to_mathml(latex, display)
    except ValueError as e:
        source = f"{node.source}:{node.line}" if node.source else self.builder.current_docname
        raise ExtensionError(f"{source}: {e}") from None


def split_inline(latex: str) -> list[tuple[str, str]]:
    """An inline formula cut at its top-level ``\\quad`` and ``\\qquad`` (outside braces and
    ``\\left ... \\right``): ``[(part, gap after it)]``. Browsers do not break a line inside a
    ``<math>`` element, so a sentence's row of equations ($a = b, \\quad c = d$) becomes one
    ``<math>`` per equation, which can wrap between them."""
    parts, start, depth, k = [], 0, 0, 0
    while k < len(latex):
        if latex[k] == "\\":
            command = re.match(r"\\([A-Za-z]+|.)", latex[k:])[1]
            if command in ("left",):
                depth += 1
            elif command in ("right",):
                depth -= 1
            elif command in ("quad", "qquad") and depth == 0:
                parts.append((latex[start:k], "\u2003" * (2 if command == "qquad" else 1)))
                start = k + 1 + len(command)
            k += 1 + len(command)
            continue
        depth += {"{": 1, "}": -1}.get(latex[k], 0)
        k += 1
    parts.append((latex[start:], ""))
    if not any(part.strip() for part, _ in parts):
        return [(latex, "")]
    return parts  # a part that is only space stands for its gap (a leading \\quad)


def visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    for part, gap in split_inline(node.astext()):
        self.body.append((_convert(self, node, part, False) if part.strip() else "") + gap)
    self.body.append("</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node):
    from sphinx.util.math import get_node_equation_number

    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node.get("number"):
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, "Link to this equation")
        self.body.append("</span>")
    latex = node.astext()
    parts = [latex] if node.get("nowrap") else [p for p in latex.split("\n\n") if p.strip()]
    self.body.extend(_convert(self, node, part, True) for part in parts)
    self.body.append("</div>\n")
    raise nodes.SkipNode


def _add_static(app):
    app.config.html_static_path.append(str(STATIC))


def setup(app):
    if "comments_config" not in app.config.values:  # Jupyter Book sets it for sphinx_comments, left out here
        app.add_config_value("comments_config", {}, "html")
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_displaymath, None))
    app.connect("builder-inited", _add_static)
    app.add_css_file("mpcore-site.css")
    app.add_js_file("mpcore-site.js")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
