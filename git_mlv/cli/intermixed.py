"""An argparse parser that takes options anywhere among the positional words, as git does."""

from __future__ import annotations

import argparse
from typing import Any


class Intermixed(argparse.ArgumentParser):
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
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False
