"""A command builds only its own verb's parser (cli/main.py VERBS): the map from verb to module
must name every verb the full parser has, and each module must register the verbs mapped to it.
A verb missing from VERBS would still work (the full parser is the fallback) but pay ~0.1 s."""

from __future__ import annotations

import argparse

from git_mlv.cli import main


def _verbs(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_verb_is_mapped_to_the_module_that_registers_it() -> None:
    full = _verbs(main.build_parser())
    assert full == set(main.VERBS), (full ^ set(main.VERBS))
    for verb, module in main.VERBS.items():
        assert verb in _verbs(main.build_parser(module)), (verb, module)


def test_a_verb_alone_parses_as_the_full_parser_does() -> None:
    argv = ["pull", "store", "-q", "data/"]
    alone = main.build_parser(main.VERBS["pull"]).parse_args(argv)
    full = main.build_parser().parse_args(argv)
    assert vars(alone) == vars(full)
