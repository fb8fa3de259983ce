"""The README tells the truth: every setting, command and source key is documented."""

from __future__ import annotations

from pathlib import Path

import click

from mediawatch.cli import main
from mediawatch.settings import Settings
from mediawatch.sourcefile import Defaults, PageSource, RssSource, YouTubeSource

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    block = README.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2
    assert block[0].startswith("bash .ci/setup && ") and "mediawatch" in block[0]
    assert block[1] == "bash .ci/setup && .venv/bin/python -m pytest"
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "bash .ci/setup" in ci and ".venv/bin/python -m pytest" in ci


def test_every_setting_is_documented() -> None:
    missing = [f"MEDIAWATCH_{name.upper()}" for name in Settings.model_fields if f"MEDIAWATCH_{name.upper()}" not in README]
    assert missing == []


def _commands(group: click.Group, prefix: str = "mediawatch") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        out.append(f"{prefix} {name}")
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, f"{prefix} {name}"))
    return out


def test_every_command_is_documented() -> None:
    missing = [c for c in _commands(main) if f"`{c}" not in README]
    assert missing == []


def test_every_source_key_is_documented() -> None:
    keys = set()
    for model in (Defaults, RssSource, PageSource, YouTubeSource):
        keys.update(model.model_fields)
    missing = sorted(k for k in keys if f"`{k}`" not in README)
    assert missing == []


def test_the_readmes_unknown_key_example_is_what_check_prints(tmp_path: Path) -> None:
    """The example listed the allowed keys without `timezone`, which the real message has."""
    from mediawatch.errors import ConfigError
    from mediawatch.sourcefile import load_sourcefile

    example = next(line for line in README.splitlines() if "unknown key 'evry'" in line)
    path = tmp_path / "sources.yaml"
    path.write_text("version: 1\nsources:\n  - id: aa\n    kind: rss\n    url: https://a.example/\n    evry: 1h\n",
                    encoding="utf-8")
    try:
        load_sourcefile(path)
    except ConfigError as exc:
        (problem,) = exc.problems
    assert example.split(": unknown key ", 1)[1] == problem.split(": unknown key ", 1)[1]
