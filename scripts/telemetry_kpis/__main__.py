import sys

from telemetry_kpis.cli import main

sys.exit(main())
