"""The hotline's SIP endpoints (``pjsip.conf``, ``pjsip-transport.conf``), queues
(``queues.conf``) and hold music (``musiconhold.conf``), as text (pure: options in, file
contents out).

Agent phones authenticate with a digest (``password_digest = md5:...``, Asterisk 22.2 and
later; ``auth_type = md5`` with ``md5_cred`` before): the passwords themselves are only in
the secrets file (``ivr.phone.asterisk.agent_secrets``), never in ``pjsip.conf``.
"""

from __future__ import annotations

import hashlib

from ivr.phone.asterisk.config import HEADER, Options, section
from ivr.phone.asterisk.queue_members import asterisk_queues

#: The realm of the agents' digests (their ``auth`` sections name it: the hash covers it).
REALM = "hotline"


def password_digest(username: str, password: str, realm: str = REALM) -> str:
    """``md5:<hex>``, the hash of ``username:realm:password`` (RFC 2617's HA1)."""
    ha1 = hashlib.md5(f"{username}:{realm}:{password}".encode(), usedforsecurity=False)
    return f"md5:{ha1.hexdigest()}"


def pjsip_transport_conf(options: Options) -> str:
    """For an Asterisk without a SIP transport of its own: UDP on 127.0.0.1."""
    return "\n".join(
        [
            HEADER,
            "; For a fresh Asterisk. With a transport of your own, do not include this file; add\n"
            "; endpoint_identifier_order below to your [global] instead, so that agent phones\n"
            "; are known by name before callers by address.\n",
            "[global]\ntype = global\nendpoint_identifier_order = username,ip,anonymous\n",
            f"[transport-udp]\ntype = transport\nprotocol = udp\n"
            f"bind = 127.0.0.1:{options.sip_port}\n",
        ]
    )


def pjsip_conf(options: Options) -> str:
    """Callers from 127.0.0.1 without authentication (edit ``match`` for your network),
    agent phones that register with a password, and the callbacks' way out."""
    media = ["media_address = 127.0.0.1", "bind_rtp_to_media_address = yes"]
    common = [
        "disallow = all",
        "allow = ulaw",
        "dtmf_mode = rfc4733",
        *media,
        "rtp_symmetric = yes",
        "direct_media = no",  # media stays on Asterisk: no re-INVITE when an agent answers
    ]
    parts = [
        HEADER,
        '; Include it from your pjsip.conf (#include "<this folder>/pjsip.conf"), and\n'
        "; pjsip-transport.conf too unless you have a transport. Agent phones sign in with\n"
        "; their endpoint's name and the password in agent-secrets.json (not here).\n",
        section("caller", ["type = endpoint", "context = hotline", *common]),
        section("caller-identify", ["type = identify", "endpoint = caller", "match = 127.0.0.1"]),
    ]
    for agent in options.agents:
        parts += [
            section(
                agent.name,
                [
                    "type = endpoint",
                    "context = hotline-agents",
                    *common,
                    f"auth = {agent.name}",
                    f"aors = {agent.name}",
                ],
            ),
            section(
                agent.name,
                [
                    "type = auth",
                    "auth_type = digest",
                    f"username = {agent.name}",
                    f"realm = {REALM}",
                    f"password_digest = {password_digest(agent.name, agent.password)}",
                ],
            ),
            section(agent.name, _aor(agent.contact)),
        ]
    parts += [
        "; Callbacks go out through this endpoint: PJSIP/<number>@hotline-callbacks. Point its\n"
        "; contact at your SIP trunk (and add the trunk's authentication).\n",
        section("hotline-callbacks", ["type = endpoint", "context = hotline", *common,
                                       "aors = hotline-callbacks"]),
        section("hotline-callbacks", ["type = aor", f"contact = {options.callback_contact}"]),
    ]  # fmt: skip
    for name, body in options.extra_pjsip.items():
        parts.append(f"[{name}]\n{body.rstrip()}\n")
    return "\n".join(parts)


def queues_conf(options: Options) -> str:
    """The fallback queues (``queue_members``), holding music ``hotline``; agents ring all
    at once, and a higher flow priority becomes a higher weight when queues share agents."""
    parts = [
        HEADER,
        "; No [general] section: include this file next to yours. A member has the queue's\n"
        "; skill; hotline-<queue>-<language> holds those of them who speak the language.\n",
    ]
    queues = asterisk_queues(options.queues, options.agents, options.languages)
    for queue in queues:
        settings = [
            "musicclass = hotline",
            "strategy = ringall",
            "timeout = 15",
            "retry = 5",
            "wrapuptime = 5",
            "joinempty = yes",
            "leavewhenempty = no",
            "ringinuse = no",
            f"weight = {queue.weight}",
        ]
        members = [f"member => PJSIP/{name},0,{name},PJSIP/{name}" for name in queue.members]
        parts.append(section(queue.name, settings + members))
    return "\n".join(parts)


def musiconhold_conf(options: Options) -> str:
    body = ["mode = files", f"directory = {options.moh_directory}", "sort = alpha"]
    return "\n".join([HEADER, section("hotline", body)])


def _aor(contact: str | None) -> list[str]:
    if contact:
        return ["type = aor", f"contact = {contact}"]
    return ["type = aor", "max_contacts = 1", "remove_existing = yes"]
