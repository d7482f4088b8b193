"""What the lecture demos share: the ``--out`` option, writing renderings and matplotlib figures.

Each demo in this folder is a script with a ``main(argv)`` that prints what it shows, writes its
pictures into ``--out`` (by default ``output/lecture/<demo name>/``, which git ignores) and returns
the numbers it printed, so the smoke tests in ``tests/test_lecture_demos.py`` can check them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def default_out(demo_file: str) -> Path:
    """Where a demo writes by default: ``output/lecture/<demo name>/`` in the repository."""
    return REPO / "output" / "lecture" / Path(demo_file).stem


def parse_out(argv: list[str] | None, demo_file: str, description: str) -> Path:
    """Parse the demo's command line (just ``--out``) and return the output folder, created."""
    default = default_out(demo_file)
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--out",
        type=Path,
        default=default,
        help=f"folder for the pictures (default: {default.relative_to(REPO)})",
    )
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    return out


def save_graph(path: Path, *roots: Any, **options: Any) -> Path:
    """Render the graph behind ``roots`` with ``tg.render(*roots, **options)`` into ``path`` (SVG)."""
    import tinygraph as tg

    return save_picture(path, tg.render(*roots, **options))


def save_picture(path: Path, picture: Any) -> Path:
    """Write a rendering (what ``tg.render`` returned, perhaps laid out further) to ``path`` (SVG)."""
    path = path.with_suffix(".svg")
    path.write_bytes(picture.pipe(format="svg"))
    print(f"  wrote {path}")
    return path


def pyplot() -> Any:
    """matplotlib's pyplot on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path, tight: bool = True) -> Path:
    """Save a matplotlib figure as PNG, close it and return the path.

    With ``tight`` the figure is laid out with ``tight_layout`` first; a figure placed by hand
    (``fig.subplots_adjust``) passes ``tight=False``.
    """
    path = path.with_suffix(".png")
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    print(f"  wrote {path}")
    return path


def show_image(
    ax: Any,
    image: np.ndarray,
    title: str,
    signed: bool = False,
    limit: float | None = None,
    annotate: bool = False,
) -> None:
    """Draw a 2-D array on ``ax`` with a title.

    ``signed`` arrays use a red-white-blue map centred on 0 (white), scaled to ``limit`` (default:
    the largest magnitude); others a gray map from 0 to ``limit`` (default: the array's range).
    ``annotate`` writes each value in its cell.
    """
    if signed:
        limit = limit or float(np.abs(image).max()) or 1.0
        ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
    else:
        vmin, vmax = (0.0, limit) if limit else (None, None)
        ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if annotate:
        for (i, j), v in np.ndenumerate(image):
            ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=7, color="tab:orange")


def fmt(array: Any, decimals: int = 3) -> str:
    """A compact, aligned printout of an array (indented for the demos' output)."""
    text = np.array2string(np.asarray(array), precision=decimals, suppress_small=True, floatmode="maxprec")
    return "    " + text.replace("\n", "\n    ")
