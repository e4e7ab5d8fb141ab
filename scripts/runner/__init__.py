"""The pieces of ``make run`` (``scripts/run.py``): the whole product on one machine, wired
together. See docs/run.md.

- ``layout``: where the site and the sandbox listen, where the data lives, and the commands
  the ``Procfile`` gives production's process types;
- ``environment``: the environment every child gets (the site, worker and sandbox pointed at
  each other, never at a real Vibes account);
- ``children``: one child process in its own process group, told to stop with the launcher;
- ``supervisor``: starts the children, relays their output, restarts a worker or sweep that
  exits, and stops them all;
- ``start``: the start sequence (sandbox, migrations, demo, site, worker, sweep, callbacks)
  and the "running" block;
- ``main``: the command itself: its options, the checks before a start, Ctrl-C.

Why not honcho, which reads the same Procfile: docs/run.md.
"""
