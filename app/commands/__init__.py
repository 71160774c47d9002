"""The product's writes as commands (the command pattern of Apache Superset, STYLE.md).

A command is an object built with everything it needs; ``validate()`` raises one
:class:`CommandError` listing every problem and writes nothing; ``run()``
validates, then writes in one transaction that also bumps the data version when
what the pages show changes. Pages and the CLI build a command, call ``run()``
and map its error to their output.

- ``settings.SaveSettings``: the metric settings (thresholds, declared ICP, economics).
- ``users.AddUser``, ``users.ChangeUser``: who may sign in, and their role.
- ``demo.LoadDemo``: the demo exports, imported as demo data.
- Imports and rollbacks: ``db.importer.ImportCommand`` and ``RollbackCommand``; the
  upload page reaches them (and the plan, the history, the demo check) through
  ``imports``, so no page touches the warehouse.
"""

from app.errors import CommandError

__all__ = ["CommandError"]
