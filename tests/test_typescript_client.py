"""The TypeScript client in clients/typescript/ is generated from the committed schema
and compiles under `tsc --noEmit --strict`, with the custom scalars typed (not `any`).

Runs the README's commands: `npm ci` (the locked versions), `npm run codegen`
(GraphQL Code Generator against ../../schema.graphql), `npm run typecheck`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "clients" / "typescript"


def npm(*args: str, cwd: Path = CLIENT, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("npm")
    assert executable is not None, (
        "npm is not on PATH: the TypeScript client test needs Node.js and npm "
        "(e.g. `apt-get install nodejs npm`)"
    )
    env = dict(os.environ, npm_config_update_notifier="false")
    return subprocess.run(
        [executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_typescript_client_generates_and_compiles_strict(tmp_path: Path) -> None:
    installed = npm("ci", "--prefer-offline", "--no-audit", "--no-fund")
    assert installed.returncode == 0, installed.stderr + installed.stdout

    generated = npm("run", "codegen")
    assert generated.returncode == 0, generated.stderr + generated.stdout
    types = (CLIENT / "src" / "generated" / "graphql.ts").read_text()
    for name in (
        "ListExperimentsQuery",
        "ClaimExecutionMutation",
        "ExplorationTreeQuery",
        "ExecutionUpdatesSubscription",
    ):
        assert f"export type {name} = " in types, name

    compiled = npm("run", "typecheck")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr

    # The generated types are real: reading a BigInt as a number, a JSON value as a
    # string or a DateTime as a number does not compile (with the scalars left
    # `any`, all three would).
    generated_module = os.path.relpath(CLIENT / "src" / "generated" / "graphql", tmp_path)
    (tmp_path / "wrong.ts").write_text(
        "import type { ClaimExecutionMutation, ExecutionUpdatesSubscription }"
        f' from "{generated_module}";\n'
        "declare const claimed: ClaimExecutionMutation;\n"
        "declare const update: ExecutionUpdatesSubscription;\n"
        "export const expected: number = update.executionUpdates.progress.expected;\n"
        "export const config: string | undefined =\n"
        "  claimed.claimExecution.claim?.config.taskConfig;\n"
        "export const claimedAt: number | null = update.executionUpdates.config.claimedAt;\n"
    )
    (tmp_path / "tsconfig.json").write_text(
        f'{{"extends": "{CLIENT / "tsconfig.json"}",'
        f' "include": ["{CLIENT / "src"}/**/*.ts", "wrong.ts"]}}'
    )
    wrong = npm("exec", "--", "tsc", "-p", str(tmp_path / "tsconfig.json"))
    assert wrong.returncode != 0, wrong.stdout + wrong.stderr
    errors = [line for line in wrong.stdout.splitlines() if "wrong.ts(" in line]
    assert [line.split(":")[1].split()[1] for line in errors] == ["TS2322"] * 3, wrong.stdout
    assert [line.split("wrong.ts(")[1].split(",")[0] for line in errors] == ["4", "5", "7"]
