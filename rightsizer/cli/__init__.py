"""The ``rightsizer`` command: a thin layer over the library.

Each command is a module here that turns flags into library calls and prints what they return;
the flags several commands share are declared once, as option groups (:mod:`.options`).  Commands are
registered below, in the order ``rightsizer --help`` lists them.
"""

from __future__ import annotations

from .app import app, main
from .audit import audit
from .backtest import backtest
from .cost import cost
from .gitops import patch, pull_request
from .groups import expand_groups
from .report import report
from .snapshot import snapshot

for _command, _name in ((report, "report"), (backtest, "backtest"), (patch, "patch"), (pull_request, "pr"),
                        (cost, "cost"), (audit, "audit"), (snapshot, "snapshot")):
    app.command(_name)(expand_groups(_command))

__all__ = ["app", "main"]
