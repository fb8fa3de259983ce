"""The ``mediawatch`` command: thin click wrappers over the library, one module per group of commands
(:mod:`~mediawatch.cli.collecting`, :mod:`~mediawatch.cli.tagging`, :mod:`~mediawatch.cli.publishing`,
:mod:`~mediawatch.cli.probing`) and the options and error handling they share (:mod:`~mediawatch.cli.common`).

Keep these modules' imports light: ``mediawatch --help`` must not import torch, the model, httpx or SQLAlchemy.
Each command imports what it needs inside its body.
"""

from __future__ import annotations

import click

from mediawatch import __version__
from mediawatch.cli.collecting import check, collect, db, export, sources
from mediawatch.cli.probing import add, probe
from mediawatch.cli.publishing import demo, digest, run, serve
from mediawatch.cli.tagging import classify, evaluate, label

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="mediawatch")
def main() -> None:
    """mediawatch: collect, tag and publish coverage of Kazakh communities abroad."""


for command in (check, sources, collect, export, classify, evaluate, label, digest, run, serve, demo, db, probe):
    main.add_command(command)
sources.add_command(add)
