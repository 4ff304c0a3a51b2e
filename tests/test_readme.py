"""The README's examples stay true: its scenario TOML validates, and every
`paxsim` command it shows names a real subcommand and real flags."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from paxsim.cli import build_parser
from paxsim.scenario import from_dict

import tomllib

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_scenario_example_is_a_valid_scenario():
    tomls = blocks("toml")
    assert tomls, "README shows a scenario file"
    for text in tomls:
        sc = from_dict(tomllib.loads(text), source="README.md")
        assert sc.description


def test_quick_start_has_exactly_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    cmds = [l for l in blocks("sh")[0].splitlines() if l.strip() and not l.startswith("#")]
    assert blocks("sh")[0] in quick
    assert len(cmds) == 2
    assert "paxsim figures" in cmds[0] and "pytest" in cmds[1]


def test_every_paxsim_command_in_the_readme_parses():
    parser = build_parser()
    seen = 0
    for block in blocks("sh"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            for part in re.split(r"&&|;|\|", line):
                part = part.split(">")[0].strip()
                if not part.startswith(".venv/bin/paxsim "):
                    continue
                argv = shlex.split(part)[1:]
                parser.parse_args(argv)  # raises SystemExit on an unknown subcommand or flag
                seen += 1
    assert seen >= 5
