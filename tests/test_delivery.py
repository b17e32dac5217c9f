"""The delivery files agree with the project: workflows, Dependabot, Dockerfiles, pre-commit and the docs site.

Schema validation (check-jsonschema), workflow security (zizmor), Dockerfile lint (hadolint) and the strict docs build
run in `make delivery`; these tests check what those tools cannot know: that every command the workflows, images and
hooks run exists in this project, with the parameters and triggers the project expects.
"""
import json, re, shlex, sys, tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WF = ROOT/".github/workflows"
SCRIPTS = set(tomllib.loads((ROOT/"pyproject.toml").read_text())["project"]["scripts"])
EYE = re.compile(r"(?<![\w/.-])(?:\$\(BIN\)/|\.venv/bin/)?(eye-[a-z]+)\b")


def load(path):
    return yaml.safe_load(Path(path).read_text())


def triggers(wf):
    "The `on:` block (YAML 1.1 reads a bare `on` key as True)."
    return wf.get("on", wf.get(True))


def steps(wf):
    return [s for job in wf["jobs"].values() for s in job.get("steps", [])]


def runs(wf) -> str:
    return "\n".join(s.get("run", "") for s in steps(wf))


def eye_names(text) -> set:
    return set(EYE.findall(text))


def notebook_parameters(path=ROOT/"nbs/pipelines/train.ipynb") -> set:
    "Names assigned in the cell tagged `parameters`: the only ones papermill's `-p` can set."
    cells = [c for c in json.loads(Path(path).read_text())["cells"]
             if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert cells, (f"{path.relative_to(ROOT)} has no cell tagged `parameters`: papermill then injects the -p values "
                   "before the defaults cell, which overrides them (add the tag to the defaults cell)")
    src = "".join(cells[0]["source"])
    return set(re.findall(r"^(\w+)\s*=", src, re.M))


def papermill_params(text) -> set:
    "Names passed with `-p` on papermill command lines (continuation lines joined)."
    calls = [l for l in text.replace("\\\n", " ").splitlines() if "papermill " in l]
    return {name for l in calls for name in re.findall(r"\s-p\s+(\w+)\s", l)}


WORKFLOWS = sorted(WF.glob("*.yaml"))


# ---- every workflow -------------------------------------------------------------------------------------------------
def test_the_four_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"test.yaml", "train.yaml", "docs.yaml", "retrain.yaml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_yaml_with_jobs_and_read_only_default_permissions(path):
    wf = load(path)
    assert wf["name"] and triggers(wf) and wf["jobs"]
    assert wf["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_sha(path):
    uses = [s["uses"] for s in steps(load(path)) if "uses" in s]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u) for u in uses), uses


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_scripts_expand_no_templates(path):
    "Inputs and contexts reach `run:` scripts through `env:` only (no template injection)."
    assert "${{" not in runs(load(path))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkout_does_not_persist_credentials(path):
    for s in steps(load(path)):
        if s.get("uses", "").startswith("actions/checkout@"): assert s["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_run_only_our_console_scripts(path):
    assert eye_names(runs(load(path))) <= SCRIPTS


# ---- test.yaml ------------------------------------------------------------------------------------------------------
def test_test_workflow_runs_make_test_on_cpu_torch_and_keeps_the_reports():
    wf = load(WF/"test.yaml"); on = triggers(wf); job = wf["jobs"]["test"]; text = runs(wf)
    assert "push" in on and "pull_request" in on
    py = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(py["with"]["python-version"]) == "3.11" and py["with"]["cache"] == "pip"
    assert job["env"]["CI"] == "true"
    assert "chromium chromium-driver" in text
    assert text.index("download.pytorch.org/whl/cpu") < text.index('-e ".[dev]"'), "CPU torch before the project"
    assert re.search(r"^make test$", text, re.M)
    up = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert up["if"] == "always()"
    assert {"reports/train.ipynb", "reports/screenshots/app.png"} <= set(up["with"]["path"].split())


# ---- train.yaml -----------------------------------------------------------------------------------------------------
def test_train_workflow_is_dispatched_with_inputs_and_runs_on_a_gpu_runner():
    wf = load(WF/"train.yaml"); on = triggers(wf)
    assert set(on["workflow_dispatch"]["inputs"]) >= {"epochs", "image_size", "arch", "batch_size"}
    assert set(on["workflow_dispatch"]["inputs"]["arch"]["options"]) == {"resunet", "resnet18"}
    assert {"nbs/08_train.ipynb", "nbs/pipelines/train.ipynb", "configs/**"} <= set(on["push"]["paths"])
    (job,) = wf["jobs"].values()
    assert set(job["runs-on"]) == {"self-hosted", "gpu"}
    env = " ".join(map(str, job["env"].values()))
    for name in ("epochs", "image_size", "arch", "batch_size"): assert f"inputs.{name}" in env


def test_train_workflow_trains_evaluates_registers_gates_and_uploads():
    wf = load(WF/"train.yaml"); text = runs(wf)
    assert "papermill nbs/pipelines/train.ipynb" in text and "--log-output" in text
    assert {"workdir", "device", "epochs", "image_size", "arch", "batch_size"} <= papermill_params(text)
    assert "-p device cuda" in text
    # the profile comes from the checkout, never from EYE_HOME (the registry's folder, which holds no configs/)
    assert '-p configs "$GITHUB_WORKSPACE/configs"' in text and "EYE_HOME" not in wf["jobs"]["train"]["env"]
    for cmd in ('eye-evaluate "$RUN"', 'eye-register "$RUN"', 'eye-models promote "$VERSION"'): assert cmd in text
    uploads = [s for s in steps(wf) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads and all(s.get("if") == "always()" for s in uploads)


# ---- retrain.yaml ---------------------------------------------------------------------------------------------------
def test_retrain_workflow_runs_on_a_schedule_and_on_demand_in_the_deployment():
    wf = load(WF/"retrain.yaml"); on = triggers(wf); (job,) = wf["jobs"].values(); text = runs(wf)
    assert on["schedule"][0]["cron"] and on["workflow_dispatch"]["inputs"]["force"]["type"] == "boolean"
    assert set(job["runs-on"]) == {"self-hosted", "gpu"} and wf["concurrency"]["group"] == "train"
    assert job["env"]["EYE_HOME"] == "${{ vars.EYE_DEPLOY_HOME }}"
    # settings and training profiles from the checkout (EYE_HOME is the deployment, which holds no configs/)
    assert "--config configs/retrain.yaml" in text and '--profiles "$GITHUB_WORKSPACE/configs"' in text
    assert 'args+=(--force)' in text and '.venv/bin/eye-retrain "${args[@]}"' in text


def test_papermill_parameters_exist_in_the_training_notebook():
    "Every `-p` that the GPU workflow and the Makefile pass is a parameter of the notebook."
    params = notebook_parameters()
    assert params >= {"raw", "workdir", "per_class", "prep_size", "image_size", "epochs", "batch_size", "arch", "seed",
                      "device", "workers"}
    assert papermill_params(runs(load(WF/"train.yaml"))) <= params
    assert papermill_params((ROOT/"Makefile").read_text()) <= params


# ---- docs.yaml and Dependabot ---------------------------------------------------------------------------------------
def test_docs_workflow_builds_both_sites_and_publishes_from_main():
    wf = load(WF/"docs.yaml"); text = runs(wf)
    assert "mkdocs build --strict" in text and "nbdev-docs" in text
    deploy = wf["jobs"]["deploy"]
    assert "refs/heads/main" in deploy["if"] and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])


def test_dependabot_updates_pip_and_actions_weekly():
    cfg = load(ROOT/".github/dependabot.yaml")
    assert cfg["version"] == 2
    eco = {u["package-ecosystem"]: u for u in cfg["updates"]}
    assert {"pip", "github-actions"} <= set(eco)
    assert all(u["schedule"]["interval"] == "weekly" for u in eco.values())


# ---- Dockerfiles ----------------------------------------------------------------------------------------------------
def instructions(path) -> list[tuple[str, str]]:
    "(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."
    lines = [l for l in Path(path).read_text().splitlines() if not l.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(m[1].upper(), m[2].strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", text, re.M)]


DOCKERFILES = {p.name: p for p in sorted((ROOT/"dockerfiles").glob("*.Dockerfile"))}


def test_both_images_exist():
    assert set(DOCKERFILES) == {"train.Dockerfile", "api.Dockerfile"}


@pytest.mark.parametrize("name", DOCKERFILES)
def test_images_run_only_our_console_scripts(name):
    used = set()
    for ins, args in instructions(DOCKERFILES[name]):
        if ins in ("CMD", "ENTRYPOINT", "RUN", "HEALTHCHECK"): used |= eye_names(args)
    assert used and used <= SCRIPTS, used - SCRIPTS


@pytest.mark.parametrize("name", DOCKERFILES)
def test_images_pin_the_base_install_dependencies_first_and_drop_root(name):
    ins = instructions(DOCKERFILES[name])
    (base,) = [a for i, a in ins if i == "FROM"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?@sha256:[0-9a-f]{64}", base), base
    copies = [a for i, a in ins if i == "COPY"]
    first_code = next(n for n, a in enumerate(copies) if "eye_classifier" in a)
    assert any("pyproject.toml" in a for a in copies[:first_code]), "dependencies before the source"
    users = [a for i, a in ins if i == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_api_image_serves_on_7860_with_a_healthcheck():
    ins = dict(reversed(instructions(DOCKERFILES["api.Dockerfile"])))
    assert json.loads(ins["CMD"]) == ["eye-serve", "--host", "0.0.0.0", "--port", "7860"]
    assert ins["EXPOSE"] == "7860"
    assert "/health" in ins["HEALTHCHECK"] and "urllib" in ins["HEALTHCHECK"] and "curl" not in ins["HEALTHCHECK"]
    assert "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in DOCKERFILES["api.Dockerfile"].read_text()


def test_dockerignore_lets_every_copied_path_through():
    allowed = [l[1:].rstrip("/") for l in (ROOT/".dockerignore").read_text().splitlines() if l.startswith("!")]
    for path in DOCKERFILES.values():
        for ins, args in instructions(path):
            if ins != "COPY": continue
            srcs = [a for a in shlex.split(args) if not a.startswith("--")][:-1]
            for s in srcs: assert s.rstrip("/") in allowed, f"{path.name}: COPY {s} is excluded by .dockerignore"


def test_makefile_runs_only_our_console_scripts():
    assert eye_names((ROOT/"Makefile").read_text()) <= SCRIPTS


# ---- pre-commit -----------------------------------------------------------------------------------------------------
def test_pre_commit_hooks_are_local_and_their_tools_are_installed():
    "Local hooks work offline; each calls a tool of the project's environment (installed by the `dev` extra)."
    cfg = load(ROOT/".pre-commit-config.yaml")
    hooks = [h for r in cfg["repos"] for h in r["hooks"]]
    assert all(r["repo"] == "local" for r in cfg["repos"]) and all(h["language"] == "system" for h in hooks)
    ids = {h["id"] for h in hooks}
    assert {"nbdev-clean", "nbdev-export", "ruff-check", "ruff-format", "trailing-whitespace", "end-of-file-fixer",
            "check-added-large-files"} <= ids
    bin_ = Path(sys.executable).parent
    for h in hooks:
        tool = shlex.split(h["entry"])[0]
        assert tool.startswith(".venv/bin/"), tool
        assert (bin_/Path(tool).name).exists(), f"{h['id']}: {Path(tool).name} is not installed"


# ---- documentation --------------------------------------------------------------------------------------------------
def test_docs_site_builds_offline_and_lists_every_page():
    cfg = load(ROOT/"mkdocs.yml")
    assert cfg["theme"]["font"] is False
    plugins = [next(iter(p)) if isinstance(p, dict) else p for p in cfg["plugins"]]
    assert "mkdocs-jupyter" in plugins
    assert not {"privacy", "social", "material/privacy", "material/social"} & set(plugins), "they fetch from the web"
    jup = next(p["mkdocs-jupyter"] for p in cfg["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p)
    assert jup["execute"] is False
    pages = [next(iter(i.values())) for i in cfg["nav"]]
    for page in pages:
        if page.startswith("nbs/"): assert (ROOT/page).exists(), page
        else: assert (ROOT/cfg["docs_dir"]/page).exists(), page
    assert {"getting-started.md", "real-data.md", "pipeline.md", "model-card.md", "api.md", "benchmarks.md",
            "operations.md"} <= set(pages)
    assert all((ROOT/h).exists() for h in cfg["hooks"])


def test_readme_figure_is_small():
    img = ROOT/"docs/img/app.png"
    assert img.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and img.stat().st_size <= 200_000
