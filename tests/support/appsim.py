"""Re-export of ``infrawatch_dev.devstack.appsim`` (the application simulator); also runnable as a script:
``python tests/support/appsim.py --web.listen-address=127.0.0.1:0`` (same as
``python -m infrawatch_dev.devstack.appsim``).
"""

import sys

from infrawatch_dev.devstack.appsim import *  # noqa: F403
from infrawatch_dev.devstack.appsim import BUCKETS, HEALTH_STATES, ROUTES, AppSim, Knobs, main

__all__ = ["BUCKETS", "HEALTH_STATES", "ROUTES", "AppSim", "Knobs", "main"]

if __name__ == "__main__":
    sys.exit(main())
