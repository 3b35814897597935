"""Man pages from the argparse definitions: ``git-mlv(1)`` and ``git-mlv-<verb>(1)`` for every verb.

The pages are generated, never written by hand, so they say what ``--help`` says. They are
committed under ``git_mlv/man/man1`` (package data, and installed into ``<prefix>/share/man/man1``,
where ``man`` finds them from PATH: ``git mlv --help`` runs ``man git-mlv``). ``make man``
regenerates them; ``tests/unit/test_manpages.py`` fails when a page is stale, so a new verb or option
cannot ship without its page. Generating at install time would need a build hook that runs our
code inside pip's build; committed pages install with any plain ``pip install``.

    python -m git_mlv.cli.manpage DIR      # write every page into DIR
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from .. import __version__
from .intermixed import subcommands
from .main import build_parser

MANUAL = "git-mlv manual"


def _esc(text: str) -> str:
    """Text safe in roff: backslashes, hyphens, and a leading '.' or '\\''."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n"))


def _para(text: str | None) -> list[str]:
    """Paragraphs of free text (blank lines separate them)."""
    if not text:
        return []
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        out += [".PP", _esc(" ".join(block.split()))]
    return out


def _verbatim(text: str | None) -> list[str]:
    if not text:
        return []
    return [".PP", ".nf", _esc(text.strip("\n")), ".fi"]


def _sub_help(sub: argparse._SubParsersAction) -> dict[str, str]:
    return {a.dest: a.help or "" for a in sub._choices_actions}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    out: list[str] = []
    for a in parser._actions:
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)) or a.help == argparse.SUPPRESS:
            continue
        if a.option_strings:
            mv = a.metavar if not isinstance(a.metavar, tuple) else " ".join(a.metavar)
            metavar = "" if a.nargs == 0 else " " + (mv or a.dest.upper())
            name = ", ".join(f"{o}{metavar}" for o in a.option_strings)
        else:
            name = " ".join(a.metavar) if isinstance(a.metavar, tuple) else str(a.metavar or a.dest)
        help_text = (a.help or "") % {"default": a.default, "prog": parser.prog} if a.help else ""
        out += [".TP", f".B {_esc(name)}", _esc(" ".join(help_text.split()))]
    return out


def _usage(parser: argparse.ArgumentParser) -> str:
    return " ".join(parser.format_usage().removeprefix("usage: ").split())


def _section_for(parser: argparse.ArgumentParser, title: str) -> list[str]:
    lines = [f".SS {_esc(title)}", ".nf", _esc(_usage(parser)), ".fi"]
    lines += _para(parser.description)
    lines += _options(parser)
    if parser.epilog:
        lines += _verbatim(parser.epilog)
    return lines


def page(parser: argparse.ArgumentParser, name: str, summary: str) -> str:
    """The roff source of one page."""
    lines = [f'.TH {_esc(name.upper())} 1 "" "git-mlv {__version__}" "{MANUAL}"',
             ".SH NAME", f"{_esc(name)} \\- {_esc(summary)}",
             ".SH SYNOPSIS", ".nf", _esc(_usage(parser)), ".fi"]
    lines += [".SH DESCRIPTION"] + (_para(parser.description) or _para(summary))
    opts = _options(parser)
    if opts:
        lines += [".SH OPTIONS"] + opts
    sub = subcommands(parser)
    if sub is not None:
        helps = _sub_help(sub)
        if name == "git-mlv":  # the main page lists the verbs; each has a page of its own
            lines += [".SH COMMANDS"]
            for verb in sub.choices:
                text = helps.get(verb, "")
                see = f"{'. ' if text else ''}See git-mlv-{verb}(1)."
                lines += [".TP", f".B git mlv {_esc(verb)}", _esc(text + see)]
        else:  # a verb with modes (migrate import, stage add...): one section each
            lines += [".SH MODES"]
            for mode, p in sub.choices.items():
                lines += _section_for(p, f"{mode} - {helps[mode]}" if helps.get(mode) else mode)
    if parser.epilog:
        lines += [".SH EXAMPLES"] + _verbatim(parser.epilog)
    lines += [".SH SEE ALSO", "git\\-mlv(1), gitattributes(5), git(1)" if name != "git-mlv" else
              "git(1), gitattributes(5), git\\-lfs(1). README.md and docs/ in the source tree."]
    return "\n".join(lines) + "\n"


def pages() -> dict[str, str]:
    """File name -> content of every page."""
    root = build_parser()
    root.prog = "git mlv"
    out = {"git-mlv.1": page(root, "git-mlv", root.description or "")}
    sub = subcommands(root)
    assert sub is not None
    helps = _sub_help(sub)
    for verb, p in sub.choices.items():
        out[f"git-mlv-{verb}.1"] = page(p, f"git-mlv-{verb}", helps.get(verb) or p.description or verb)
    return out


def write(directory: str) -> list[str]:
    """Write every page into ``directory`` (and delete pages of verbs that no longer exist)."""
    os.makedirs(directory, exist_ok=True)
    want = pages()
    for name in os.listdir(directory):
        if name.startswith("git-mlv") and name.endswith(".1") and name not in want:
            os.unlink(os.path.join(directory, name))
    for name, text in want.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
            f.write(text)
    return sorted(want)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m git_mlv.cli.manpage DIR")
    print(f"wrote {len(write(sys.argv[1]))} pages into {sys.argv[1]}")
