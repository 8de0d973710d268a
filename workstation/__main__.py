"""``python -m workstation``: the same as the ``workstation`` command."""

import sys

from .launch import main

sys.exit(main())
