"""`python -m assistant.cli`, as the tests and scripts run the command line."""

import sys

from assistant.cli import main

sys.exit(main())
