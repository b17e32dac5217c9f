"""The install is declared and locked: every third-party module the package imports is a declared dependency, the
bounds are the ones the code needs, and `requirements.lock` pins (with hashes) everything `make setup` installs."""
import ast, os, re, sys, tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT/"pyproject.toml").read_text())["project"]
canon = lambda n: re.sub(r"[-_.]+", "-", n).lower()
name_of = lambda req: canon(re.match(r"[A-Za-z0-9_.\-]+", req).group())
DEPS = {name_of(r): r for r in PROJECT["dependencies"]}
DEV = {name_of(r): r for r in PROJECT["optional-dependencies"]["dev"]}
EXTRAS = {name_of(r): r for k, rs in PROJECT["optional-dependencies"].items() if k != "dev" for r in rs}   # e.g. `cluster`: imported where used
# APIs that raise a dependency's lower bound: (code that uses it, distribution, first version that has it)
NEEDS = [("np.bitwise_count", "numpy", (2, 0))]


def imported_modules()->set:
    "Top-level modules imported anywhere in the package, less the standard library and the package itself."
    mods = set()
    for f in (ROOT/"eye_classifier").glob("*.py"):
        for n in ast.walk(ast.parse(f.read_text())):
            if isinstance(n, ast.Import): mods |= {a.name.split(".")[0] for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.level == 0: mods.add(n.module.split(".")[0])
    return {m for m in mods if m not in sys.stdlib_module_names and m != "eye_classifier"}


def test_every_imported_module_is_declared():
    dists = packages_distributions()
    missing = {m: dists.get(m) for m in imported_modules() if not {canon(d) for d in dists.get(m, [])} & (set(DEPS) | set(EXTRAS))}
    assert missing == {}, f"imported by eye_classifier but not in [project].dependencies or an optional extra: {missing}"


def test_lower_bounds_cover_the_apis_used():
    code = "\n".join(f.read_text() for f in (ROOT/"eye_classifier").glob("*.py"))
    for api, dist, need in NEEDS:
        if api not in code: continue
        lo = re.search(r">=\s*([\d.]+)", DEPS[dist])
        assert lo and tuple(map(int, lo.group(1).split(".")[:2])) >= need, f"{api} needs {dist}>={'.'.join(map(str, need))}: {DEPS[dist]}"


def locked(path=ROOT/"requirements.lock")->dict:
    "A lock file as {name: (version, number of hashes)}."
    text = Path(path).read_text().replace("\\\n", " ")
    pins = re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)(.*)$", text, re.M)
    return {canon(m[1]): (m[2], m[3].count("--hash=sha256:")) for m in pins}


def test_lock_pins_everything_with_hashes():
    lock = locked()
    assert set(DEPS) | set(DEV) <= set(lock), f"declared but not locked (run `make lock`): {sorted(set(DEPS) | set(DEV) - set(lock))}"
    assert [n for n, (_, h) in lock.items() if h == 0] == []
    assert "pip-compile" in (ROOT/"requirements.lock").read_text()[:400]


CUDA = re.compile(r"^(triton|nvidia-.*|cuda-.*)$")


def test_environment_matches_the_lock():
    "What `make setup` installed is what the lock pins (CI builds its venv from the lock in a fresh clone)."
    if os.environ.get("CI") != "true" and not (Path(sys.prefix)/".installed-stamp").exists():
        pytest.skip("this environment was not built by `make setup` from the lock")
    def installed(n):
        try: return version(n)
        except PackageNotFoundError: return None
    cpu = (installed("torch") or "").endswith("+cpu")   # GitHub's CPU runner: torch from the CPU index, no CUDA libraries
    off = {n: (v, installed(n)) for n, (v, _) in locked().items()
           if (installed(n) or "").split("+")[0] != v and not (cpu and CUDA.match(n))}
    assert off == {}, f"installed versions differ from requirements.lock (locked, installed): {off}"


def test_runtime_lock_agrees_with_the_full_lock():
    "The images install requirements-runtime.lock: the same versions as requirements.lock, less the dev tools."
    full, runtime = locked(), locked(ROOT/"requirements-runtime.lock")
    assert {n: v for n, (v, _) in runtime.items() if full.get(n, (None,))[0] != v} == {}
    assert set(DEPS) <= set(runtime) and (set(DEV) - set(DEPS)) & set(runtime) == set()
