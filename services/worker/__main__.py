"""`python -m services.worker`."""

import sys

from services.worker.app import main

sys.exit(main())
