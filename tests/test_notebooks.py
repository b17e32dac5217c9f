"""The notebooks are committed executed: every cell that ends in a value shows it, and they stay light.

`make notebooks` re-executes them in order and writes the outputs back; this test fails when a notebook was
committed without running it, so the docs site never shows "comes back centred in a square:" followed by nothing.
"""
import ast, base64
from pathlib import Path

import nbformat
import pytest

# The papermill notebook is left unexecuted on purpose: its executed copy is the report reports/train.ipynb.
NBS = sorted(p for p in (Path(__file__).resolve().parents[1]/"nbs").rglob("*.ipynb")
             if ".ipynb_checkpoints" not in p.parts and "pipelines" not in p.parts)
MAX_NOTEBOOK_KB, MAX_IMAGE_KB = 1024, 150


def directives(src: str) -> list[str]:
    return [l[3:].strip() for l in src.splitlines() if l.startswith("#|")]


def shows_value(src: str) -> bool:
    "True when the cell's last statement is a bare expression (not a test call), which Jupyter displays."
    try: body = ast.parse("\n".join(l for l in src.splitlines() if not l.lstrip().startswith(("%", "!")))).body
    except SyntaxError: return False
    if not body or not isinstance(body[-1], ast.Expr) or src.rstrip().endswith(";"): return False
    v = body[-1].value
    if isinstance(v, ast.Call):
        f = v.func.id if isinstance(v.func, ast.Name) else v.func.attr if isinstance(v.func, ast.Attribute) else ""
        if f.startswith("test") or f in ("print", "display", "show_doc") or f.startswith("_"): return False
    return not isinstance(v, ast.Constant)


def runs(cell) -> bool:
    d = directives(cell.source)
    return cell.cell_type == "code" and not any(x.startswith(("export", "eval: false", "default_exp", "hide", "cuda")) for x in d)


@pytest.mark.parametrize("path", NBS, ids=lambda p: p.name)
def test_notebook_shows_its_results(path):
    nb = nbformat.read(path, as_version=4)
    missing = [c.source.splitlines()[-1] for c in nb.cells if runs(c) and shows_value(c.source) and not c.get("outputs")]
    assert missing == [], f"{path.name}: cells that end in a value but show no output (run `make notebooks`): {missing}"


@pytest.mark.parametrize("path", NBS, ids=lambda p: p.name)
def test_notebook_is_light(path):
    nb = nbformat.read(path, as_version=4)
    size_kb = path.stat().st_size/1024
    assert size_kb <= MAX_NOTEBOOK_KB, f"{path.name} is {size_kb:.0f} KB (limit {MAX_NOTEBOOK_KB} KB)"
    images = [len(base64.b64decode(o["data"][k]))/1024 for c in nb.cells for o in c.get("outputs", [])
              for k in o.get("data", {}) if k.startswith("image/")]
    big = [round(kb) for kb in images if kb > MAX_IMAGE_KB]
    assert big == [], f"{path.name}: images over {MAX_IMAGE_KB} KB: {big}"
