"""mkdocs hook: publish every notebook of nbs/ at the same path (nbs/...) without copying it into docs/.

The notebooks stay single-sourced in nbs/. The hook adds them to the site's files before mkdocs-jupyter looks at the
files (a higher event priority), so that plugin renders them, unexecuted, like pages of docs/; and it fills the nav
section named "Notebooks" with all of them, the index first, so a new notebook appears without editing mkdocs.yml.
Images that a notebook links for the README (`docs/img/...`, relative to the repository root) are pointed at their
copy in this site.
"""
import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

SECTION = "Notebooks"


def _notebooks(config) -> list[Path]:
    nbs = Path(config.config_file_path).parent/"nbs"
    found = [p for p in nbs.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    return sorted(found, key=lambda p: (p.parent != nbs, p.name != "index.ipynb", p.relative_to(nbs).as_posix()))


def _uri(config, nb:Path) -> str:
    return nb.relative_to(Path(config.config_file_path).parent).as_posix()


def on_config(config):
    for item in config.nav or []:
        if isinstance(item, dict) and SECTION in item: item[SECTION] = [_uri(config, nb) for nb in _notebooks(config)]
    return config


@event_priority(100)
def on_files(files, config):
    root = str(Path(config.config_file_path).parent)
    for nb in _notebooks(config): files.append(File(_uri(config, nb), root, config.site_dir, config.use_directory_urls))
    return files


def on_page_content(html, page, config, files):
    if not page.file.src_uri.startswith("nbs/"): return html
    return re.sub(r'(src|href)="docs/([^"]+)"', lambda m: f'{m[1]}="{get_relative_url(m[2], page.url)}"', html)
