"""``python -m flattr``: the same as the ``flattr`` command."""

import sys

from flattr.cli import main

if __name__ == "__main__":
    sys.exit(main())
