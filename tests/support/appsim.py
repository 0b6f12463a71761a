"""Re-export of ``infrawatch.devstack.appsim`` (the application simulator); also runnable as a script:
``python tests/support/appsim.py --web.listen-address=127.0.0.1:0`` (same as
``python -m infrawatch.devstack.appsim``).
"""

import sys

from infrawatch.devstack.appsim import *  # noqa: F403
from infrawatch.devstack.appsim import BUCKETS, HEALTH_STATES, ROUTES, AppSim, Knobs, main

__all__ = ["BUCKETS", "HEALTH_STATES", "ROUTES", "AppSim", "Knobs", "main"]

if __name__ == "__main__":
    sys.exit(main())
