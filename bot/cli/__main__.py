"""`python -m bot.cli`: the same as `rapport`."""

import sys

from bot.cli import main

sys.exit(main())
