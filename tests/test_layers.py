"""The import contracts of pyproject.toml ([tool.importlinter]): layers point one
way, the experiments hub imports no other domain, domains meet only through each
other's public surface, the worker imports nothing of the server. Checked on the
code as it is, and shown to catch a forbidden import in a copy of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_code_keeps_every_contract() -> None:
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _add_import(module: Path, statement: str) -> None:
    module.write_text(module.read_text() + f"\n{statement}  # noqa\n")


def test_a_forbidden_import_breaks_its_contract(tmp_path: Path) -> None:
    copy = tmp_path / "expgraph"
    shutil.copytree(ROOT / "src" / "expgraph", copy, ignore=shutil.ignore_patterns("__pycache__"))
    # The database layer importing the kernel above it.
    _add_import(copy / "db" / "engine.py", "import expgraph.graphql.relay")
    # The hub importing a kind's domain.
    _add_import(
        copy / "domains" / "experiments" / "service.py", "import expgraph.domains.research.models"
    )
    # A domain reaching into another's internals (its mutations).
    _add_import(
        copy / "domains" / "simulation" / "service.py", "import expgraph.domains.catalog.mutations"
    )
    # The worker importing the server.
    _add_import(copy / "worker" / "runner.py", "import expgraph.db.engine")

    result = _lint(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "4 broken" in out, out
    assert "expgraph.db.engine -> expgraph.graphql.relay" in out
    assert "expgraph.domains.experiments.service -> expgraph.domains.research.models" in out
    assert "expgraph.domains.simulation.service -> expgraph.domains.catalog.mutations" in out
    assert "expgraph.worker.runner -> expgraph.db.engine" in out
