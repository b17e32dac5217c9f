"""Notebook order is import order: a module imports only modules made by earlier notebooks (lazy imports inside
functions included), so the package's modules form no cycle and can be read top to bottom."""
import ast, re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def notebook_of()->dict:
    "`{module: notebook file name}` from each notebook's `default_exp`."
    out = {}
    for p in sorted((ROOT/"nbs").glob("*.ipynb")):
        for c in nbformat.read(p, as_version=4).cells:
            if m := re.search(r"^#\|\s*default_exp\s+(\S+)", c.source, re.M): out[m.group(1)] = p.name
    return out


def imports()->dict:
    "`{module: modules of the package it imports}`, anywhere in its code."
    mods = {p.stem: p for p in (ROOT/"eye_classifier").glob("*.py") if not p.stem.startswith("_")}
    out = {}
    for m, p in mods.items():
        deps = set()
        for n in ast.walk(ast.parse(p.read_text())):
            if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module: deps.add(n.module.split(".")[0])
            elif isinstance(n, ast.ImportFrom) and (n.module or "").startswith("eye_classifier."): deps.add(n.module.split(".")[1])
            elif isinstance(n, ast.Import): deps |= {a.name.split(".")[1] for a in n.names if a.name.startswith("eye_classifier.")}
        out[m] = sorted((deps & set(mods)) - {m})
    return out


def test_every_module_has_its_notebook():
    assert set(imports()) <= set(notebook_of()), set(imports()) - set(notebook_of())


def test_no_module_imports_a_later_notebook():
    nb, deps = notebook_of(), imports()
    upward = {m: [d for d in ds if nb[d] > nb[m]] for m, ds in deps.items()}
    assert {m: u for m, u in upward.items() if u} == {}


def test_no_cycle():
    try: order = list(TopologicalSorter(imports()).static_order())
    except CycleError as e: raise AssertionError(f"import cycle: {e.args[1]}") from None
    assert order[0] == "core"


def private_uses()->dict:
    "`{module: [module.name, ...]}`: private names (`_x`) a module takes from another module of the package."
    mods = {p.stem: p for p in (ROOT/"eye_classifier").glob("*.py") if not p.stem.startswith("_")}
    out = {}
    for m, p in mods.items():
        tree, found = ast.parse(p.read_text()), []
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom) and (n.level == 1 or (n.module or "").startswith("eye_classifier.")):
                src = (n.module or "").removeprefix("eye_classifier.").split(".")[0]
                found += [f"{src}.{a.name}" for a in n.names if a.name.startswith("_") and not a.name.startswith("__")]
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in mods and n.value.id != m \
                    and n.attr.startswith("_") and not n.attr.startswith("__"):
                found.append(f"{n.value.id}.{n.attr}")
        if found: out[m] = sorted(set(found))
    return out


def test_no_private_name_across_modules():
    assert private_uses() == {}
