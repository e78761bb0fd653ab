"""``ivr fastagi`` and ``ivr serve``: the process runner (``ivr.app.runner``) with the
phone systems (``ivr.app.channels``), without and with the web console."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ivr.app.bootstrap import Components, bootstrap
from ivr.app.cli_flow import Commands
from ivr.app.config import Settings
from ivr.errors import IvrError

if TYPE_CHECKING:
    from ivr.app.runner import Running, Stopped
    from ivr.phone.asterisk.fastagi import FastAgiServer
    from ivr.phone.asterisk.fastagi_limits import FastAgiLimits


def register(commands: Commands) -> None:
    """Add ``fastagi`` and ``serve`` to the ``ivr`` command's subcommands."""
    fastagi = commands.add_parser("fastagi", help="serve the hotline to Asterisk over FastAGI")
    fastagi.add_argument("--listen", default="127.0.0.1:4573", help="HOST:PORT to listen on")
    fastagi.set_defaults(run=_fastagi)

    serve = commands.add_parser(
        "serve", help="the agent console, JSON API, FastAGI and dispatcher in one process"
    )
    serve.add_argument("--host", default="127.0.0.1", help="web address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="web port (default 8080; 0: any)")
    serve.add_argument("--fastagi", default="127.0.0.1:4573", help="FastAGI HOST:PORT to listen on")
    serve.add_argument("--no-fastagi", action="store_true", help="no FastAGI server (web only)")
    serve.add_argument(
        "--no-dispatcher", action="store_true", help="do not hand callers to agents from here"
    )
    serve.set_defaults(run=_serve)


def serve_fastagi(
    hotline: Components,
    host: str,
    port: int,
    ready: Callable[[FastAgiServer], None] | None = None,
    reload_interval: float = 1.0,
    limits: FastAgiLimits | None = None,
    stop: Stopped | None = None,
) -> None:
    """``ivr fastagi``: the runner without web, FastAGI on ``host:port``; ``ready`` gets
    the FastAGI server once it listens. Until SIGTERM or SIGINT (or the server's
    ``shutdown()``), then the calls in progress finish. With ``IVR_METRICS_PORT``,
    ``/metrics`` is served there meanwhile (``ivr.app.operations``)."""
    from ivr.app.channels import phone_channels
    from ivr.app.runner import run
    from ivr.phone.asterisk.channel import FastAgiListener

    def on_ready(running: Running) -> None:
        for server in running.servers.get("asterisk", ()):
            if ready is not None and isinstance(server, FastAgiListener):
                ready(server.server)

    channels = phone_channels(hotline, (host, port), limits)
    metrics = _metrics_server(hotline)
    try:
        run(hotline, channels, None, ready=on_ready, stop=stop, reload_interval=reload_interval)
    finally:
        if metrics is not None:
            metrics.shutdown()
            metrics.server_close()


def _metrics_server(hotline: Components) -> Any:
    """prometheus_client's server on ``IVR_METRICS_PORT``, or None when it is unset."""
    from ivr.app.operations import serve_metrics

    settings = hotline.settings
    if settings.metrics_port is None:
        return None
    try:
        return serve_metrics(
            hotline.operations.registry, settings.metrics_host, settings.metrics_port
        )
    except OSError as exc:
        where = f"{settings.metrics_host}:{settings.metrics_port}"
        raise IvrError(f"IVR_METRICS_PORT: cannot listen on {where} ({exc.strerror})") from None


def _fastagi(args: argparse.Namespace, settings: Settings) -> int:
    host, port = host_port(args.listen)
    serve_fastagi(bootstrap(settings, role="fastagi"), host, port)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.app.channels import phone_channels
    from ivr.app.runner import run  # only this command needs the web side

    if not 0 <= args.port < 65536:
        raise IvrError(f"--port {args.port} is not a port number (0 to 65535)")
    fastagi = None if args.no_fastagi else host_port(args.fastagi)

    def ready(running: Running) -> None:
        assert running.web is not None
        print(f"agent console: {_url('http', *running.web)}/")
        print(f"JSON API:      {_url('http', *running.web)}/api/ (docs/api.md)")
        for server in running.servers.get("asterisk", ()):
            print(f"FastAGI:       {_url('agi', *server.address)}/hotline")
        for line in _demo_logins():
            print(line)
        print("Stop with Ctrl-C.", flush=True)

    hotline = bootstrap(settings, role="serve")
    channels = phone_channels(hotline, fastagi)
    run(hotline, channels, (args.host, args.port), not args.no_dispatcher, ready)
    return 0


def _url(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _demo_logins() -> list[str]:
    """The demo agents' sign-ins (``ivr seed --demo`` creates them)."""
    from ivr.services.agents_demo import DEMO_AGENTS

    logins = ", ".join(f"{a.username} / {a.password} ({a.role})" for a in DEMO_AGENTS)
    return [f"demo sign-ins: {logins}"]


def host_port(text: str) -> tuple[str, int]:
    """``127.0.0.1:4573`` -> (host, port), or an IvrError saying what is expected."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise IvrError(f"'{text}' is not HOST:PORT (like 127.0.0.1:4573)")
    return host.strip("[]"), int(port)
