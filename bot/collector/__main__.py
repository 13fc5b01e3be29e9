"""Entry point of ``python -I <this folder>``: this folder is ``sys.path[0]``, nothing else of ours.

The project's folder goes on ``sys.path`` only after ``mr_collector`` is imported, so a project
module of the same name cannot take its place.
"""

import sys

from mr_collector.main import main

sys.exit(main())
