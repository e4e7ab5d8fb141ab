"""``make run``: the whole product on one machine, wired together.

Starts the Vibes sandbox, the site, the task worker and the sync's sweep, registers the
sandbox's callbacks to the site, sends the demo persons to the sandbox, then prints where
to go. Ctrl-C stops everything; running it again resumes with the same data (the site's
SQLite file and the sandbox's state file live in the var directory). ``--verbose`` (``make
run V=2``) shows everything: every logger, the full log format and the development server's
own start-up text. See docs/run.md.

This file is the command; the ``runner`` package beside it holds the pieces, one job each
(its ``__init__`` lists them).
"""

import sys

from runner.main import main

if __name__ == "__main__":
    sys.exit(main())
