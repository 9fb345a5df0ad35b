"""README's links lead to files in this repository (a fresh clone has nothing beside it)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
AUTOLINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^>\s]+)>", re.IGNORECASE)
URL = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def links(markdown: str) -> list[str]:
    """Link targets in document order, outside fenced code blocks and inline code."""
    prose = re.sub(r"^(```|~~~).*?^\1\s*$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    found = [
        (match.start(), match.group(1))
        for pattern in (INLINE, REFERENCE, AUTOLINK)
        for match in pattern.finditer(prose)
    ]
    return [target for _, target in sorted(found)]


def broken_links(markdown: str, folder: Path) -> list[str]:
    """Relative links (from a document in ``folder``) that name no file or folder
    inside the repository; URLs and same-page anchors are not checked."""
    broken = []
    for target in links(markdown):
        if URL.match(target) or target.startswith("#"):
            continue
        path = (folder / target.split("#")[0]).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(target)
    return broken


def test_every_relative_link_in_the_readme_names_a_file_in_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert links(readme), "no links found: the parser is broken"
    assert broken_links(readme, ROOT) == []
    assert "docs/architecture.md" in links(readme)


def test_the_link_check_catches_links_outside_the_repository_or_to_nothing():
    """The check itself: the design link README once had (../shared/DESIGN.md) fails it."""
    text = (
        "Design: [the design](../shared/DESIGN.md), [ok](README.md), [gone](docs/nothing.md),\n"
        "[web](https://example.com) <http://127.0.0.1:8000/graphql> `[code](x.md)`\n"
        "[anchor](#install) [file anchor](docs/architecture.md#layers)\n\n"
        "```sh\n[fenced](y.md)\n```\n[ref]: ../../outside.md\n"
    )
    assert links(text) == [
        "../shared/DESIGN.md",
        "README.md",
        "docs/nothing.md",
        "https://example.com",
        "http://127.0.0.1:8000/graphql",
        "#install",
        "docs/architecture.md#layers",
        "../../outside.md",
    ]
    assert broken_links(text, ROOT) == [
        "../shared/DESIGN.md",
        "docs/nothing.md",
        "../../outside.md",
    ]
