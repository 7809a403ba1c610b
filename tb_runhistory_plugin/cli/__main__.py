"""`python -m tb_runhistory_plugin.cli`: the same as the `tb-runhistory` command."""

import sys

from . import main

sys.exit(main())
