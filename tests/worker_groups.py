"""How ``make test`` spreads the suite over pytest-xdist workers (``-n N``, docs/testing.md).

A worker runs a whole group, in collection order:

- tests/e2e's calls on the shared sandbox (the ``sandbox`` fixture, one per worker), in two
  groups that can run side by side, each on its own sandbox: the agent and callback calls
  (``contact_calls`` makes them together) with the per-call script's and the safe route's,
  and the branches' calls (made at once) with the complaint call (``e2e:calls``);
- the crash test (tests/e2e/test_crash.py): a sandbox of its own, with short leases;
- the survey's calls (tests/e2e/test_survey_call.py): a sandbox of their own, with the
  surveyed flow, so they run beside the rest of tests/e2e instead of after it (the two
  sandboxes take free ports);
- the Asterisk kit (tests/e2e/test_asterisk_kit.py): an Asterisk of its own, configured as
  README.md tells an administrator, on free ports;
- the whole shift in a browser (tests/e2e/test_console_shift.py): its own ``ivr serve``
  with a FastAGI port and a scripted Asterisk, on free ports;
- the browser tests (their module-scoped browser);
- any other module, once per database backend (``sqlite``, ``postgresql`` in the test's id),
  so that a module's tests of one backend run together, on that backend's template.

The groups go out longest first (``LONGEST``: the end-to-end groups, minutes each; they
are the critical path), then in collection order. (pytest-xdist's own ``xdist_group``
marks do not work with pytest 9.2: they rename the test, which pytest no longer lets a
plugin do; this scheduler reads the test ids instead.)
"""

from __future__ import annotations

import re

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling
from xdist.workermanage import WorkerController

E2E = "tests/e2e/"
BROWSER = "tests/e2e/test_console_browser.py"
#: End-to-end modules that start a sandbox, an Asterisk or a server of their own: a group
#: each, beside the rest of tests/e2e.
OWN_SANDBOX = (
    "tests/e2e/test_survey_call.py",
    "tests/e2e/test_asterisk_kit.py",
    "tests/e2e/test_console_shift.py",
    "tests/e2e/test_crash.py",
)
#: End-to-end modules on the shared sandbox that make a group of their own (``e2e:calls``),
#: so that a second worker's sandbox takes their calls beside the others'.
SECOND_SANDBOX = ("tests/e2e/test_branches.py", "tests/e2e/test_complaint_call.py")
CALLS = "e2e:calls"
#: The groups that take longest, in the order they go out (the rest follow in collection
#: order): real calls that last as long as their prompts, then browsers.
LONGEST = (
    "e2e",
    "e2e:tests/e2e/test_survey_call.py",
    CALLS,
    "browser",
    "e2e:tests/e2e/test_console_shift.py",
    "e2e:tests/e2e/test_crash.py",
)
#: Any other browser test module of tests/e2e ends so (test_reports_browser.py).
BROWSER_SUFFIX = "_browser.py"
#: The ``backend`` fixture's ids (tests/integration/conftest.py), as they appear in a test id.
BACKENDS = ("sqlite", "postgresql")
_PARAMS = re.compile(r"\[(.*)\]$")


def group_of(nodeid: str) -> str:
    """The group a test belongs to, from its id (``path::name[params]``)."""
    path = nodeid.split("::", 1)[0]
    if path == BROWSER or (path.startswith(E2E) and path.endswith(BROWSER_SUFFIX)):
        return "browser"
    if path in OWN_SANDBOX:
        return f"e2e:{path}"
    if path in SECOND_SANDBOX:
        return CALLS
    if path.startswith(E2E):
        return "e2e"
    params = _PARAMS.search(nodeid)
    if params:
        tokens = params.group(1).split("-")
        for backend in BACKENDS:
            if backend in tokens:
                return f"{path}:{backend}"
    return path


class GroupScheduling(LoadScopeScheduling):
    """pytest-xdist's load-by-scope scheduling with ``group_of`` as the scope: the
    ``LONGEST`` groups first, then collection order."""

    def __init__(self, config: pytest.Config, log: Producer | None = None) -> None:
        super().__init__(config, log)
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)

    def remove_node(self, node: WorkerController) -> str | None:
        """As pytest-xdist's, but a worker that died takes the test it died in with it: that
        test is reported failed (``DSession.handle_crashitem``) and is not run again. The
        scheduler it extends put it back with the rest of its group, so a test that kills
        its worker killed each new one in turn, and the run hung at the end."""
        workload = self.assigned_work.pop(node)
        crashed = next(
            (nodeid for unit in workload.values() for nodeid, done in unit.items() if not done),
            None,
        )
        if crashed is None:
            return None
        workload[self._split_scope(crashed)][crashed] = True
        for scope, unit in workload.items():
            if not all(unit.values()):
                self.workqueue[scope] = unit
        for other in self.assigned_work:
            self._reschedule(other)
        return crashed

    def _assign_work_unit(self, node: WorkerController) -> None:
        if self.workqueue:  # the longest group left goes next (ties: collection order)
            first = min(self.workqueue, key=rank)
            self.workqueue.move_to_end(first, last=False)
        super()._assign_work_unit(node)


def rank(group: str) -> int:
    """Where a group goes out: the ``LONGEST`` in their order, then all others."""
    return LONGEST.index(group) if group in LONGEST else len(LONGEST)
