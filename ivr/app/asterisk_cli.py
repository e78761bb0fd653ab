"""``ivr asterisk-config`` and ``ivr sandbox``: ``register(commands)`` adds them to the
``ivr`` command's subparsers."""

from __future__ import annotations

import argparse
import re
import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

from ivr.app.config import Settings
from ivr.errors import IvrError
from ivr.store.db import redact

DEFAULT_FASTAGI = "127.0.0.1:4573"


def register(commands: Any) -> None:
    """Add the subcommands to ``commands`` (what ``add_subparsers()`` returned)."""
    flow_help = "flow file (default: $IVR_FLOW or callflows.yaml)"
    write = commands.add_parser("asterisk-config", help="write the hotline's Asterisk config")
    write.add_argument("--out", required=True, help="folder to write the files into")
    agi = write.add_mutually_exclusive_group()
    agi.add_argument("--fastagi", metavar="HOST:PORT", help=f"FastAGI server ({DEFAULT_FASTAGI})")
    agi.add_argument("--agi-script", metavar="PATH", help="run this AGI script per call instead")
    write.add_argument("--sip-port", type=int, default=5060, help="SIP UDP port (5060)")
    write.add_argument("--flow", help=flow_help)
    write.add_argument(
        "--secrets",
        metavar="FILE",
        help="the agents' SIP passwords, kept across runs (OUT/agent-secrets.json)",
    )
    write.add_argument(
        "--rotate", metavar="ENDPOINT", action="append", default=[], help="new password for it"
    )
    write.add_argument("--rotate-all", action="store_true", help="new passwords for every phone")
    write.add_argument("--show-passwords", action="store_true", help="print the passwords")
    write.add_argument(
        "--demo-agents", action="store_true", help="the demo agents' phones, not the database's"
    )
    write.set_defaults(run=_asterisk_config)

    sandbox = commands.add_parser(
        "sandbox", help="run a private Asterisk with the hotline on 127.0.0.1"
    )
    sandbox.add_argument("--sip-port", type=int, default=5060, help="SIP UDP port (5060)")
    sandbox.add_argument("--fastagi-port", type=int, default=4573, help="FastAGI port (4573)")
    sandbox.add_argument("--run-dir", default="var/sandbox", help="its files (var/sandbox)")
    sandbox.add_argument(
        "--no-fastagi", action="store_true", help="do not start the FastAGI server"
    )
    sandbox.add_argument(
        "--agi-script", metavar="PATH", help="run this AGI script per call instead of FastAGI"
    )
    sandbox.add_argument("--flow", help=flow_help)
    sandbox.set_defaults(run=_sandbox)


def _asterisk_config(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.app.asterisk_agents import hotline_phones
    from ivr.app.bootstrap import load_hotline
    from ivr.phone.asterisk import agent_secrets, queue_members, writer

    if args.agi_script:
        agi, per_call = str(Path(args.agi_script).resolve()), True
        if not Path(agi).is_file():
            print(f"warning: {agi} does not exist (yet)")
    else:
        agi, per_call = args.fastagi or DEFAULT_FASTAGI, False
        if not re.fullmatch(r"[\w.-]+:\d{1,5}", agi):
            raise IvrError(f"--fastagi '{agi}' is not HOST:PORT (like {DEFAULT_FASTAGI})")
    out = Path(args.out)
    secrets_file = Path(args.secrets) if args.secrets else out / agent_secrets.FILE_NAME
    flow = load_hotline(settings.flow_path)
    phones, source = hotline_phones(settings, demo=args.demo_agents)
    kept = agent_secrets.load(secrets_file)
    names = [phone.name for phone in phones]
    plan = agent_secrets.plan(kept, names, args.rotate, args.rotate_all)
    moh = out / "moh"
    options = writer.options_for(
        flow, agi, per_call, args.sip_port, plan.passwords, moh, phones=phones
    )
    files = writer.hotline_files(options)  # before anything is written: it may fail
    if plan.changed or not secrets_file.exists():
        agent_secrets.save(secrets_file, plan.passwords)  # first: pjsip.conf names its digests
    for path in [*writer.write_files(out, files), writer.write_hold_music(moh)]:
        print(f"wrote {path}")
    for warning in queue_members.staffing_warnings(options.queues, phones, flow.languages):
        print(f"warning: {warning}")
    _print_phones(plan, source, secrets_file, args.show_passwords)
    print(f'include them from /etc/asterisk: #include "{out.resolve()}/extensions.conf" (and the')
    print("same for pjsip.conf, queues.conf, musiconhold.conf; pjsip-transport.conf without a")
    print('transport of your own): README.md, "In your own Asterisk"')
    return 0


def _print_phones(plan: Any, source: str, secrets_file: Path, show: bool) -> None:
    print(f"agent phones ({source}): {', '.join(plan.passwords) or 'none'}")
    for what in ("created", "rotated", "dropped"):
        if getattr(plan, what):
            print(f"  passwords {what}: {', '.join(getattr(plan, what))}")
    if show:
        for name, password in plan.passwords.items():
            print(f"  {name}: password {password}")
    else:
        print(f"  passwords in {secrets_file} (--show-passwords prints them)")


def _sandbox(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.app.asterisk_prompts import build_prompts
    from ivr.app.asterisk_sandbox import Sandbox
    from ivr.phone.asterisk.provision import provision

    started = time.monotonic()
    installation = provision(progress=print)
    problem = build_prompts(settings)
    if problem:
        print(f"warning: {problem}")
    box = Sandbox(
        Path(args.run_dir),
        settings,
        args.sip_port,
        args.fastagi_port,
        with_fastagi=not args.no_fastagi,
        installation=installation,
        agi_script=Path(args.agi_script) if args.agi_script else None,
    )
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with box:
            _print_banner(box, time.monotonic() - started)
            while not stopping and not box.stopped():
                time.sleep(0.2)
            dead = box.stopped()
            print(f"\n{' and '.join(dead)} stopped; stopping" if dead else "\nstopping")
            return 1 if dead and not stopping else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_banner(box: Any, took: float) -> None:
    run = box.run
    installation = box.installation
    version = installation.version.split(":")[-1].split("+")[0]
    print(f"Asterisk {version} answers the hotline ({took:.1f}s to start)")
    print(f"  call it:   {box.sip_uri}   (a softphone on this machine; no password)")
    print(
        f"  SIPp:      sipp -sn uac -s 100 -i 127.0.0.1 -p 5070 -m 1 -d 60000 "
        f"127.0.0.1:{box.sip_port}"
    )
    for name, password in box.agents.items():
        print(f"  agent:     sip:{name}@127.0.0.1:{box.sip_port} (password {password})")
    if box.agi_script:
        print(f"  AGI:       {box.agi_script} per call")
    elif box.with_fastagi:
        print(
            f"  FastAGI:   127.0.0.1:{box.fastagi_port}, log {run / 'log' / 'fastagi.log'} "
            "(started again if it stops)"
        )
    else:
        print("  FastAGI:   not started: calls take the safe route (apology, general queue)")
    print(f"  database:  {redact(box.settings.database_url)}")
    print(f"  log:       {run.log_file}")
    console = " ".join(installation.command("-C", str(box.conf), "-r"))
    print(f"  console:   {console}")
    print("Ctrl-C stops it.", flush=True)
