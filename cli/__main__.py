"""``python -m cli``: the same as the ``outcomes`` console script."""

import sys

from cli.main import main

sys.exit(main())
