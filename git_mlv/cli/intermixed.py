"""git-mlv's argparse parsers: usage errors in one line, and options anywhere among the words."""

from __future__ import annotations

import argparse
import os
from typing import Any, NoReturn


def subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    """The action holding ``parser``'s verbs (or a verb's actions), None when it has none."""
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def usage_hint(prog: str, words: list[str]) -> str:
    """Where a usage error sends the user: a word that starts with '-' and names a file is the
    likely mistake (`git mlv add -dash.bin` said "the following arguments are required: PATH", as
    argparse took the name for an option), else the verb's --help."""
    for w in words:
        if w == "--":
            break
        if len(w) > 1 and w.startswith("-") and os.path.lexists(w):
            return (f"{w!r} is a file: put -- before names that start with '-' "
                    f"(`{prog} -- {w}`)")
    return f"see `{prog} --help`"


class Parser(argparse.ArgumentParser):
    """argparse with README's shape of an error: one line on stderr naming the mistake and where
    the options are listed, exit 2 (a usage error). argparse's own printed the usage block first,
    two to four lines for one wrong word (`git mlv diff --rows x`). Sub-parsers inherit the class."""

    words: list[str] = []  # the command line's words (main._main sets them), for usage_hint

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"git-mlv: error: {self.prog}: {message}; {usage_hint(self.prog, Parser.words)}\n")


class Intermixed(Parser):
    """Options may come anywhere among the words (``git mlv pull store -q data/``, ``git mlv diff v1
    --key id data/t.csv``), as with git; argparse alone stops collecting the positionals at the first
    option and calls the rest "unrecognized arguments". Set as a sub-parser's class once it is made
    (``p.__class__ = Intermixed``)."""

    _inner = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            if args is None or "--" not in args:
                return self.parse_known_intermixed_args(args, namespace)
            # argparse's intermixed parsing calls the words after `--` "unrecognized arguments"
            # when no positional word comes before it: `git mlv pull -- -dash.bin` failed
            at = list(args).index("--")
            ns, extras = self.parse_known_intermixed_args(list(args)[:at], namespace)
            rest = list(args)[at + 1:]
            words = [a for a in self._actions if not a.option_strings and a.nargs == "*"]
            if words:
                setattr(ns, words[-1].dest, list(getattr(ns, words[-1].dest) or []) + rest)
            else:
                extras = list(extras) + rest
            return ns, extras
        finally:
            self._inner = False
