"""How each kind of item looks, and the legend that explains it.

Kinds are told apart by shape and line style as well as colour, so the picture still reads in
grey print. Every drawn node and edge also carries an SVG ``class`` (``parameter``, ``input``,
``constant``, ``op``, ``composite``, ``root``, ``highlight``, ``gradient``) for styling and tests.
"""

from __future__ import annotations

#: The one font graphviz measures text with and the browser draws it with: DejaVu Sans (Debian's
#: fonts-dejavu-core, installed by the scripts), which fontconfig finds, so boxes fit their text.
FONT = "DejaVu Sans"

#: Font sizes (points). graphviz measures text with hinted glyph widths, which at some sizes are
#: several per cent narrower than the unhinted widths a browser draws (DejaVu Sans at 10 pt:
#: 4.6 % narrower, so long lines ran past their boxes); at these sizes the two agree within 1.5 %,
#: which the boxes' margins absorb.
TEXT_SIZE = "9"
SMALL_SIZE = "8"
CAPTION_SIZE = "11.5"
HIGHLIGHT = "#d62728"
DIMMED = "#c4c4c4"
GRADIENT = "#1f5fa8"
MUTED = "#666666"
WARNING = "#b35900"

#: graphviz node attributes per kind of item.
NODE_STYLE: dict[str, dict[str, str]] = {
    "parameter": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#ffe08a", "color": "#a07000"},
    "input": {"shape": "box", "style": "filled", "fillcolor": "#cfe3f7", "color": "#3f6f9f"},
    "constant": {
        "shape": "box",
        "style": "filled,dashed",
        "fillcolor": "#eeeeee",
        "color": "#999999",
        "fontsize": TEXT_SIZE,
    },
    "op": {"shape": "box", "style": "filled", "fillcolor": "#ffffff", "color": "#444444"},
    "composite": {"shape": "box3d", "style": "filled", "fillcolor": "#d5ecd4", "color": "#3d7a3a"},
}

CLUSTER_STYLE = {"style": "rounded,dashed,filled", "color": "#3d7a3a", "fillcolor": "#f4faf3"}

#: What the legend says about each kind.
KIND_TEXT = {
    "parameter": "parameter: a leaf that requires grad, with its name",
    "input": "input: data you passed in (no grad)",
    "constant": "constant: a number an op wrapped (x * 2: the 2)",
    "op": "op: the op's name and the value it produced",
    "composite": "composite call (conv2d, softmax, ...) collapsed to one box",
}


def swatch(kind: str) -> str:
    """A legend cell filled and bordered like items of ``kind``."""
    s = NODE_STYLE[kind]
    return f'<TD BGCOLOR="{s["fillcolor"]}" COLOR="{s["color"]}" BORDER="1" WIDTH="28"> </TD>'


def legend_label(
    kinds: list[str], *, clusters: bool, root: bool, indices: bool, gradients: bool, highlight: bool
) -> str:
    """The HTML label of the legend node, listing only what the drawing uses."""
    rows = ['<TR><TD COLSPAN="2" ALIGN="LEFT"><B>legend</B></TD></TR>']
    for k in kinds:
        rows.append(f'<TR>{swatch(k)}<TD ALIGN="LEFT">{KIND_TEXT[k]}</TD></TR>')
    if clusters:
        rows.append(
            f'<TR><TD BGCOLOR="{CLUSTER_STYLE["fillcolor"]}" COLOR="{CLUSTER_STYLE["color"]}" BORDER="1"'
            ' STYLE="dashed"> </TD><TD ALIGN="LEFT">dashed frame: an expanded composite call</TD></TR>'
        )
    if root:
        rows.append('<TR><TD BORDER="2"> </TD><TD ALIGN="LEFT">double border: an output (root)</TD></TR>')
    if indices:
        rows.append(
            f'<TR><TD><FONT COLOR="{MUTED}">0, 1</FONT></TD>'
            '<TD ALIGN="LEFT">edge number: argument position (ops where order matters)</TD></TR>'
        )
    if gradients:
        rows.append(
            f'<TR><TD><FONT COLOR="{GRADIENT}">◀ g</FONT></TD>'
            '<TD ALIGN="LEFT">gradient of the output flowing back along the edge;'
            " grad in a box: the gradient reaching it (.grad for parameters)</TD></TR>"
        )
    if highlight:
        rows.append(
            f'<TR><TD><FONT COLOR="{HIGHLIGHT}"><B>━━▶</B></FONT></TD>'
            '<TD ALIGN="LEFT">path from the highlighted node to the output</TD></TR>'
        )
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3">' + "".join(rows) + "</TABLE>>"
