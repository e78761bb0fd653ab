"""The per-call AGI script's composition (``agi_scripts/hotline.agi``): settings from the
environment Asterisk gives the script, the hotline built for one call, then
``ivr.phone.asterisk.agi_stdio`` over stdin and stdout."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from ivr.errors import IvrError
from ivr.phone.asterisk import agi_stdio


def run_per_call(env: Mapping[str, str], hangups: list[int]) -> int:
    """The script: settings from ``env``, the request from stdin; the exit status.
    ``hangups``: SIGHUPs received before this was called."""
    from ivr.app.config import Settings

    try:
        settings = Settings.from_env(env)
    except IvrError as exc:
        print(f"hotline.agi ERROR: settings: {exc}", file=sys.stderr)
        return agi_stdio.BAD_INPUT
    if settings.log_format == "json":  # one JSON object a line, naming the call
        from ivr.app.logs import configure

        configure(settings.log_level, "json")
    else:
        agi_stdio.log_to_stderr(settings.log_level)
    from ivr.app.bootstrap import bootstrap

    return agi_stdio.run_on_stdio(lambda: bootstrap(settings, role="agi"), hangups)
