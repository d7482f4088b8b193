"""``tg.explore``: an interactive, offline page of the graph that steps through backward.

``tg.explore(loss).save("step.html")`` writes one self-contained HTML file; in a notebook the
explorer shows itself inline. See ``docs/exploring.md`` for what the page shows, the JSON it embeds
and its JavaScript API.
"""

from tinygraph.explore.explorer import Explorer, explore

__all__ = ["Explorer", "explore"]
