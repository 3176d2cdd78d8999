"""`pip install` of the package, not the source tree: a wheel built from the sources, installed without its
dependencies into a fresh virtualenv that borrows this one's, gives a `dtsbot` whose `--version` comes from the
package metadata and whose `demo` finds its configuration as package data, run from a directory without app.yaml."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from sandbox.waiting import budget

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "app.yaml", "bot", "core", "handlers", "storage",
           "sandbox")


def build_wheel(directory: Path) -> Path:
    """The wheel of a clean copy of the sources (setuptools' build/ in the tree could hold stale modules)."""
    tree = directory / "src"
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tree / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            tree.mkdir(exist_ok=True)
            shutil.copy2(source, tree / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(directory / "dist"), str(tree)], check=True, capture_output=True, timeout=budget(120))
    [wheel] = (directory / "dist").glob("dtsbot-*.whl")
    return wheel


def installed(wheel: Path, directory: Path) -> Path:
    """A virtualenv with only the wheel installed; the dependencies come from this interpreter's site-packages."""
    venv = directory / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=budget(60))
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(wheel)], check=True, capture_output=True, timeout=budget(120))
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # A path line, not a site dir: this venv's editable install of the source tree (a .pth there) stays out.
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv / "bin"


@pytest.mark.slow
def test_the_installed_package_has_its_version_and_runs_the_demo_outside_the_source_tree(tmp_path) -> None:
    wheel = build_wheel(tmp_path)
    bin_dir = installed(wheel, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=elsewhere, capture_output=True, text=True, timeout=budget(timeout),
                              check=False)

    where = run(str(bin_dir / "python"), "-c", "import bot.demo; print(bot.demo.APP_YAML)").stdout.strip()
    assert where.startswith(str(tmp_path / "venv")) and Path(where).is_file() and not Path(where).is_symlink()
    assert Path(where).read_text() == (REPO / "app.yaml").read_text()
    assert run(str(bin_dir / "dtsbot"), "--version").stdout.strip() == "dtsbot 0.1.0"
    demo = run(str(bin_dir / "dtsbot"), "demo", "--timeout", str(budget(120)), timeout=240)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "succeeded; access revoked" in demo.stdout
