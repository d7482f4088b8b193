"""The explorer page: one self-contained HTML file (its script, style and graph inline).

Nothing is fetched when it opens: no CDN, no font, no image; a Content-Security-Policy with
``default-src 'none'`` makes sure of it. The graph travels as JSON inside
``<script type="application/json" id="tinygraph-graph">``, with ``<``, ``>`` and ``&`` written as
``\\u003c`` etc. so that no string in it (a node named ``</script>``) can end the element.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from typing import Any

CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<div id="tg-app">
  <div id="tg-bar">
    <span id="tg-title"></span>
    <button id="tg-mode" type="button" title="show forward values or backward gradients">values</button>
    <button id="tg-reset" type="button" title="back to before the first backward step">&#10226; Reset</button>
    <button id="tg-prev" type="button">&#9664; Previous</button>
    <button id="tg-next" type="button">Next &#9654;</button>
    <button id="tg-play" type="button">&#9654; Play</button>
    <span id="tg-stepno"></span>
    <input id="tg-search" type="search" placeholder="find a name or op, Enter" aria-label="search">
    <span id="tg-found"></span>
    <button id="tg-fit" type="button">Fit</button>
    <button id="tg-collapse" type="button">Collapse all</button>
    <span id="tg-notice"></span>
  </div>
  <div id="tg-main">
    <svg id="tg-svg" xmlns="http://www.w3.org/2000/svg"><g id="tg-scene"></g></svg>
    <div id="tg-panel"></div>
  </div>
</div>
<script type="application/json" id="tinygraph-graph">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""


@cache
def _static(name: str) -> str:
    text = resources.files("tinygraph.explore").joinpath("static", name).read_text(encoding="utf-8")
    if "</script" in text.lower() or "<!--" in text:
        raise RuntimeError(f"explore: static/{name} must not contain '</script' or '<!--'")
    return text


def json_for_script(payload: Any) -> str:
    """``payload`` as JSON that is safe inside a ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def page(payload: dict[str, Any]) -> str:
    """The whole HTML page for an explorer payload."""
    return _TEMPLATE.format(
        csp=CSP,
        title=html.escape(str(payload.get("title", "")), quote=True),
        css=_static("explorer.css"),
        data=json_for_script(payload),
        js=_static("explorer.js"),
    )
