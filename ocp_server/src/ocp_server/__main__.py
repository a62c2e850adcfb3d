"""`python -m ocp_server`: the `ocp-server` command (as MCP configs often start a server)."""

import sys

from ocp_server.entry import main

sys.exit(main())
