"""``python -m git_mlv``."""

import sys

from .cli.main import main

sys.exit(main())
