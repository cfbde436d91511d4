"""`python -m services.logserver`."""

import sys

from services.logserver.app import main

sys.exit(main())
