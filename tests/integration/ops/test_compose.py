"""compose.yaml and deploy/Dockerfile: the compose file is valid for Docker Compose
(``config -q``: no engine needed; this machine kind runs none, so images are not built
here), and what they name agrees with the code: files that exist, the ``ivr`` commands
and flags the controller's start script runs, the ports the code listens on by default,
no secret in either. The start scripts' failures are run for real: a broken flow stops
the controller before anything else, a database that is away stops it with the password
hidden, an Asterisk without its files says who writes them."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from integration.ops.kit import (
    COMPOSE,
    DOCKER,
    DOCKERFILE,
    ROOT,
    parse_ivr,
    shell_commands,
    subcommand_default,
)

VENV_BIN = Path(sys.executable).parent


def compose_command() -> list[str]:
    """``docker compose`` (the plugin) or ``docker-compose`` (Debian's package); a skip
    without either, a failure in CI (scripts/install-test-deps installs docker-compose)."""
    docker = shutil.which("docker")
    if docker:
        plugin = subprocess.run([docker, "compose", "version"], capture_output=True)
        if plugin.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone:
        return [standalone]
    reason = "no docker compose or docker-compose (Debian package docker-compose)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: required)", pytrace=False)
    pytest.skip(reason)


def compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*compose_command(), "-f", str(path), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=path.parent,
        env={k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        timeout=60,
    )


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_docker_compose_accepts_the_compose_file() -> None:
    result = compose_config(COMPOSE)
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_a_broken_copy(tmp_path: Path) -> None:
    """The check can fail: a service option that does not exist, at its name."""
    text = COMPOSE.read_text(encoding="utf-8").replace(
        "    restart: unless-stopped\n", "    restrat: unless-stopped\n", 1
    )
    broken = tmp_path / "compose.yaml"
    broken.write_text(text, encoding="utf-8")
    result = compose_config(broken)
    assert result.returncode != 0
    assert "restrat" in result.stderr


def dockerfile_copies() -> list[str]:
    """The sources of the Dockerfile's COPY lines that come from the build context."""
    sources = []
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words[:1] != ["COPY"] or any(w.startswith("--from") for w in words):
            continue
        sources += [w for w in words[1:-1] if not w.startswith("--")]
    return sources


def test_every_file_the_dockerfile_copies_exists_and_passes_dockerignore() -> None:
    sources = dockerfile_copies()
    assert {"pyproject.toml", "ivr", "callflows.yaml", "prompts/prompts.yaml"} <= set(sources)
    kept = [
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    ]
    for source in sources:
        assert (ROOT / source).exists(), source
        assert any(source == k or source.startswith(k + "/") for k in kept), source


def test_the_scripts_the_images_run_are_there_and_executable() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    for name in ("controller-start", "make-keys", "asterisk-start"):
        path = DOCKER / name
        assert f"deploy/docker/{name}" in text
        assert path.stat().st_mode & stat.S_IXUSR, f"{path} is not executable"
        assert subprocess.run(["sh", "-n", str(path)]).returncode == 0, f"{path}: sh syntax"


def test_compose_builds_the_dockerfiles_targets() -> None:
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", DOCKERFILE.read_text(), re.M))
    services = compose()["services"]
    for name in ("controller", "asterisk", "keys"):
        build = services[name]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
        assert build["target"] in stages


def test_the_controller_start_runs_real_ivr_commands_with_valid_flags() -> None:
    commands = shell_commands(DOCKER / "controller-start")
    assert [c[0] for c in commands] == [
        *("validate", "db", "seed", "prompts", "asterisk-config", "serve"),
    ]
    for args in commands:
        parse_ivr(args)  # SystemExit(2) on a flag ivr does not have
    serve = parse_ivr(commands[-1])
    assert (serve.host, serve.port, serve.fastagi) == ("0.0.0.0", 8080, "0.0.0.0:4573")


def test_the_ports_agree_with_the_codes_defaults() -> None:
    web = subcommand_default("serve", "--port")
    fastagi = int(str(subcommand_default("serve", "--fastagi")).rpartition(":")[2])
    sip = subcommand_default("asterisk-config", "--sip-port")
    assert (web, fastagi, sip) == (8080, 4573, 5060)
    services = compose()["services"]
    assert services["controller"]["ports"] == [f"${{IVR_WEB_PUBLISH:-127.0.0.1:{web}}}:{web}"]
    assert services["controller"]["environment"]["IVR_FASTAGI_ADVERTISE"] == f"controller:{fastagi}"
    assert f"{sip}:{sip}/udp" in services["asterisk"]["ports"]
    rtp = (DOCKER / "asterisk-etc" / "rtp.conf").read_text()
    low, high = (re.search(rf"^{k} = (\d+)$", rtp, re.M).group(1) for k in ("rtpstart", "rtpend"))  # type: ignore[union-attr]
    assert f"{low}-{high}:{low}-{high}/udp" in services["asterisk"]["ports"]
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert f"EXPOSE {web} {fastagi}\n" in dockerfile
    assert f"EXPOSE {sip}/udp {low}-{high}/udp\n" in dockerfile
    assert f"http://127.0.0.1:{web}/readyz" in dockerfile
    assert '@bp.get("/readyz")' in (ROOT / "ivr" / "web" / "operations.py").read_text()


def test_the_controller_waits_for_a_healthy_database_and_runs_as_ivr() -> None:
    services = compose()["services"]
    assert services["controller"]["depends_on"]["db"] == {"condition": "service_healthy"}
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["asterisk"]["depends_on"]["controller"] == {"condition": "service_healthy"}
    controller = DOCKERFILE.read_text().split("AS controller\n")[1].split("\nFROM ")[0]
    assert "\nUSER ivr\n" in controller and "HEALTHCHECK" in controller
    assert services["controller"]["environment"]["IVR_SEED_DEMO"] == "${IVR_SEED_DEMO:-0}"


def test_no_secret_is_written_into_the_image_or_the_compose_file() -> None:
    env = compose()["services"]["db"]["environment"]
    assert "POSTGRES_PASSWORD" not in env and env["POSTGRES_PASSWORD_FILE"].startswith("/run/")
    for path in (COMPOSE, DOCKERFILE):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"(PASSWORD|SECRET_KEY|PEPPER|TOKEN)[A-Z_]*[=:] *\S", line):
                assert re.search(r"_FILE[=:]|\$\{IVR_TWILIO_AUTH_TOKEN:-\}", line), line


def run_script(name: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(DOCKER / name), *args],
        capture_output=True,
        text=True,
        env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": env.get("HOME", "/tmp"), **env},
        timeout=120,
    )


def test_make_keys_makes_each_key_once_and_never_prints_one(tmp_path: Path) -> None:
    me = str(os.getuid())
    env = {"IVR_UID": me, "POSTGRES_UID": me}
    first = run_script("make-keys", env, str(tmp_path))
    assert first.returncode == 0, first.stderr
    keys = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert set(keys) == {"secret.key", "pepper.key", "db_password"}
    assert len(set(keys.values())) == 3 and all(len(k.strip()) == 64 for k in keys.values())
    assert not any(k.strip() in first.stdout + first.stderr for k in keys.values())
    assert stat.S_IMODE((tmp_path / "pepper.key").stat().st_mode) == 0o400
    assert stat.S_IMODE((tmp_path / "db_password").stat().st_mode) == 0o440
    again = run_script("make-keys", env, str(tmp_path))
    assert again.returncode == 0 and again.stdout == ""
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == keys  # never changed


def test_make_keys_fails_on_a_folder_it_cannot_write(tmp_path: Path) -> None:
    result = run_script("make-keys", {}, str(tmp_path / "missing"))
    assert result.returncode != 0
    assert "missing" in result.stderr


def controller_env(tmp_path: Path, source: Path, **more: str) -> dict[str, str]:
    hotline = tmp_path / "hotline"
    return {
        "HOME": str(tmp_path),
        "IVR_FLOW_SOURCE": str(source),
        "IVR_FLOW": str(hotline / "callflows.yaml"),
        "IVR_ASTERISK_CONF": str(tmp_path / "asterisk"),
        "IVR_SECRET_KEY_FILE": str(tmp_path / "secret.key"),
        "IVR_PEPPER_FILE": str(tmp_path / "pepper.key"),
        **more,
    }


def shipped_flow(folder: Path, text: str | None = None) -> Path:
    (folder / "prompts").mkdir(parents=True)
    (folder / "callflows.yaml").write_text(text or (ROOT / "callflows.yaml").read_text())
    shutil.copy(ROOT / "prompts" / "prompts.yaml", folder / "prompts" / "prompts.yaml")
    return folder


def test_a_broken_flow_stops_the_controller_before_the_database(tmp_path: Path) -> None:
    text = (
        (ROOT / "callflows.yaml")
        .read_text()
        .replace("start: choose_language", "start: chose_language", 1)
    )
    source = shipped_flow(tmp_path / "flow", text)
    db = tmp_path / "never.sqlite3"
    env = controller_env(tmp_path, source, IVR_DATABASE_URL=f"sqlite:///{db}")
    result = run_script("controller-start", env)
    assert result.returncode == 1
    assert re.search(
        r"callflows\.yaml:\d+:\d+: start 'chose_language' is not a node", result.stderr
    )
    assert not db.exists()


def test_a_database_that_is_away_stops_the_controller_and_its_password_stays_hidden(
    tmp_path: Path,
) -> None:
    source = shipped_flow(tmp_path / "flow")
    password = tmp_path / "db_password"
    password.write_text("s3cret/with@odd:chars\n")
    env = controller_env(
        tmp_path,
        source,
        IVR_DB_PASSWORD_FILE=str(password),
        IVR_DB_HOST="127.0.0.1",
        IVR_DB_PORT="1",  # nothing listens there
    )
    result = run_script("controller-start", env)
    assert result.returncode == 1
    assert "ivr db: database postgresql+psycopg://ivr:***@127.0.0.1:1/ivr" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr


def test_asterisk_without_the_controllers_files_says_who_writes_them(tmp_path: Path) -> None:
    result = run_script("asterisk-start", {"IVR_ASTERISK_CONF": str(tmp_path)})
    assert result.returncode == 1
    assert f"no {tmp_path}/extensions.conf: the controller writes it" in result.stderr


def sip_for_containers(conf: Path, **env: str) -> str:
    """controller-start's edit of pjsip.conf and pjsip-transport.conf, run on ``conf``;
    the two files afterwards (the transport first)."""
    script = (DOCKER / "controller-start").read_text(encoding="utf-8")
    end = '"$asterisk_conf/pjsip.conf"'
    edit = script[script.index('media="') : script.index(end)] + end + "\n"
    done = subprocess.run(
        ["sh", "-ec", edit],
        env={"PATH": "/usr/bin:/bin", "asterisk_conf": str(conf), **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return "".join(
        (conf / name).read_text(encoding="utf-8") for name in ("pjsip-transport.conf", "pjsip.conf")
    )


def test_the_sip_edit_finds_its_lines_in_what_asterisk_config_writes(tmp_path: Path) -> None:
    """The edit is of another module's output (ivr/phone/asterisk): should that change
    its lines, this fails instead of the containers' SIP quietly staying on 127.0.0.1."""
    written = subprocess.run(
        [
            sys.executable,
            "-m",
            "ivr.app.cli",
            "asterisk-config",
            "--out",
            str(tmp_path),
            "--demo-agents",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert written.returncode == 0, written.stderr
    originals = {
        name: (tmp_path / name).read_text(encoding="utf-8")
        for name in ("pjsip-transport.conf", "pjsip.conf")
    }
    assert "bind = 127.0.0.1:5060" in originals["pjsip-transport.conf"]
    assert "match = 127.0.0.1" in originals["pjsip.conf"]
    assert "password =" not in originals["pjsip.conf"]  # digests only (agent-secrets.json)
    text = sip_for_containers(tmp_path, IVR_SIP_MEDIA_ADDRESS="192.0.2.7")
    assert "bind = 0.0.0.0:5060" in text
    assert not re.search(r"^(bind|match|media_address) = 127\.0\.0\.1", text, re.M)
    assert "match = 172.16.0.0/12" in text and "media_address = 192.0.2.7" in text
    assert "bind_rtp_to_media_address" not in text
    assert "contact = sip:127.0.0.1:5080" in text  # no trunk named: the sample stays
    for name, original in originals.items():
        (tmp_path / name).write_text(original, encoding="utf-8")
    trunk = "sip:trunk.example.net:5060"
    text = sip_for_containers(tmp_path, IVR_SIP_CALLERS="198.51.100.0/24", IVR_SIP_TRUNK=trunk)
    assert "match = 198.51.100.0/24" in text and "media_address" not in text
    assert f"contact = {trunk}" in text and "127.0.0.1" not in text.split("[global]")[1]
