"""``python -m cnnlab`` (what torchrun launches) runs the command line."""

import sys

from cnnlab.cli import main

if __name__ == "__main__":
    sys.exit(main())
