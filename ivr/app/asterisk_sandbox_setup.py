"""What the sandbox (``ivr.app.asterisk_sandbox``) prepares before its children run: the
configuration tree in the run folder, the database, and the settings its children get
through their environment. No processes here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ivr.app import demo_database
from ivr.app.bootstrap import bootstrap
from ivr.app.config import Settings
from ivr.flow.model import Flow
from ivr.phone.asterisk import config, layout, writer
from ivr.phone.asterisk.provision import Installation
from ivr.services.ports import Clock

HOST = "127.0.0.1"


def write_tree(
    run: layout.RunFolder,
    installation: Installation,
    flow: Flow,
    options: config.Options,
    rtp_ports: tuple[int, int],
) -> None:
    """Asterisk's own files and the hotline's (from ``options``) under ``run``, the hold
    music, the sounds linked in; stale logs, sockets and pid files removed."""
    run.create()
    system = {
        "asterisk.conf": layout.asterisk_conf(run, installation.module_dir),
        "modules.conf": layout.modules_conf(),
        "logger.conf": layout.logger_conf(),
        "rtp.conf": layout.rtp_conf(*rtp_ports),
    }
    files = writer.hotline_files(options)
    # The sandbox's Asterisk has no pjsip.conf of its own: the transport goes in the same file.
    files["pjsip.conf"] = files.pop("pjsip-transport.conf") + "\n" + files["pjsip.conf"]
    writer.write_files(run.etc, files | system)
    writer.write_hold_music(run / "moh")
    layout.link_sounds(run, installation.data_dir, prompts_folder(flow), flow.languages)
    layout.link_hold_music(run, run / "moh")
    for stale in (run.log_file, run.control_socket, run / "run" / "asterisk.pid"):
        stale.unlink(missing_ok=True)


def routed(options: config.Options, agi_script: Path | None, fastagi_port: int) -> config.Options:
    """``options`` sending calls to ``agi_script`` (run per call) or, with None, to the
    FastAGI server on ``fastagi_port``."""
    if agi_script is None:
        return replace(options, agi=f"{HOST}:{fastagi_port}", per_call_script=False)
    return replace(options, agi=str(agi_script.resolve()), per_call_script=True)


def prepare_database(settings: Settings, clock: Clock) -> None:
    """The schema and the demo accounts (both idempotent)."""
    demo_database.prepare(bootstrap(settings, clock))


def child_environment(
    settings: Settings, clock: Clock, spool: Path, extra: dict[str, str]
) -> dict[str, str]:
    """The IVR_... variables the sandbox's children (a per-call AGI script, the FastAGI
    server) read their settings from; ``extra`` last."""
    env = {
        "IVR_FLOW": str(settings.flow_path.resolve()),
        "IVR_DATABASE_URL": settings.database_url,
        "IVR_LOG_LEVEL": settings.log_level,
        "IVR_ASTERISK_SPOOL": str(spool),
        "IVR_CALLBACK_OFFER_AFTER": str(settings.callback_offer_after),
        "IVR_WRAP_UP_SECONDS": str(settings.wrap_up_seconds),
    }
    if settings.secret_key:
        env["IVR_SECRET_KEY"] = settings.secret_key
    if settings.clock_start is not None:
        env["IVR_CLOCK_START"] = clock.now().isoformat()
    if settings.pepper_key:  # the PINs were seeded with it (else the file beside
        env["IVR_PEPPER"] = settings.pepper_key  # the flow, which IVR_FLOW finds)
    elif settings.pepper_file:
        env["IVR_PEPPER_FILE"] = str(settings.pepper_file.resolve())
    return env | extra


def prompts_folder(flow: Flow) -> Path:
    """Where the prompt catalog and the rendered audio (``<lang>/<id>.wav``) are."""
    return Path(flow.catalog_source).parent if flow.catalog_source else Path("prompts")
