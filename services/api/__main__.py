"""`python -m services.api`."""

import sys

from services.api.app import main

sys.exit(main())
