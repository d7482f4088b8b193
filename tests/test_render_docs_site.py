"""The docs site's theme shows every picture readably and fetches nothing from the network."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_pictures_open_full_size_and_no_web_fonts():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    theme = config["theme"]
    assert theme["name"] == "material"
    assert theme["font"] is False  # Material would load Google's web fonts otherwise
    plugins = {next(iter(p)) if isinstance(p, dict) else p: p for p in config["plugins"]}
    assert "glightbox" in plugins and plugins["glightbox"]["glightbox"]["zoomable"] is True
    css = config["extra_css"]
    assert css == ["stylesheets/pictures.css"]
    text = (ROOT / "docs" / css[0]).read_text(encoding="utf-8")
    assert "overflow-x: auto" in text and "max-width: none" in text  # wide graphs scroll, unshrunk
    extras = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert "mkdocs-material" in extras and "mkdocs-glightbox" in extras
