"""Render nbs/index.ipynb to README.md (markdown cells as is, code cells fenced).

nbdev-readme needs Quarto, which this project cannot assume; this keeps index.ipynb the README's one source.
"""
from pathlib import Path
import nbformat

root = Path(__file__).resolve().parents[1]
nb = nbformat.read(root/"nbs/index.ipynb", as_version=4)
parts = []
for c in nb.cells:
    src = c.source.strip()
    if not src or src.startswith("#| hide"): continue
    lines = [l for l in src.splitlines() if not l.startswith("#|")]
    parts.append("\n".join(lines) if c.cell_type == "markdown" else "```python\n" + "\n".join(lines) + "\n```")
text = "<!-- Generated from nbs/index.ipynb by `make readme`: edit the notebook, not this file. -->\n\n" + "\n\n".join(parts) + "\n"
out = root/"README.md"
if not out.exists() or out.read_text() != text: out.write_text(text)
