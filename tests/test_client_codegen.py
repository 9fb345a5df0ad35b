"""The worker's committed typed client equals a fresh ariadne-codegen generation."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "src" / "expgraph" / "worker" / "client"


def test_committed_client_matches_a_fresh_generation(tmp_path):
    (tmp_path / "src" / "expgraph" / "worker").mkdir(parents=True)
    shutil.copy(ROOT / "schema.graphql", tmp_path / "schema.graphql")
    shutil.copy(
        ROOT / "src/expgraph/worker/operations.graphql",
        tmp_path / "src/expgraph/worker/operations.graphql",
    )
    config = (ROOT / "pyproject.toml").read_text()
    section = config[config.index("[tool.ariadne-codegen]") :]
    (tmp_path / "codegen.toml").write_text(section)
    env = dict(os.environ)
    script = ROOT / "scripts" / "generate-client"
    result = subprocess.run(
        ["bash", "-c", f'cd "{tmp_path}" && "{script}" "{tmp_path}/codegen.toml"'],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    fresh = tmp_path / "src" / "expgraph" / "worker" / "client"
    comparison = filecmp.dircmp(CLIENT, fresh, ignore=["__pycache__"])
    stale = comparison.diff_files + comparison.left_only + comparison.right_only
    assert stale == [], f"the client is stale ({stale}): run scripts/generate-client"
