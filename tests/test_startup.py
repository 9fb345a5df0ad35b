"""Server and worker processes start fast: the heavy numeric libraries some
features use (scikit-learn under Optuna's fANOVA, SciPy's statistics) are
imported when first used, not when the app is."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_app_leaves_heavy_libraries_for_first_use() -> None:
    probe = (
        "import sys, expgraph.app, expgraph.cli\n"
        "print(sorted(m for m in ('sklearn', 'scipy.stats', 'optuna.importance') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
