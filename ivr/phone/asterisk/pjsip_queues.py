"""The hotline's SIP endpoints (``pjsip.conf``), queues (``queues.conf``) and hold music
(``musiconhold.conf``), as text (pure: options in, file contents out).
"""

from __future__ import annotations

from ivr.phone.asterisk.config import HEADER, Options, queue_name, section


def pjsip_conf(options: Options) -> str:
    """A UDP transport on 127.0.0.1, callers from 127.0.0.1 without authentication (edit
    ``match`` for your network) and agent phones that register with a password."""
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
        "; A working sample for a fresh Asterisk. With a pjsip.conf of your own, keep your\n"
        "; [global] and transport (add endpoint_identifier_order below to your [global], so\n"
        "; agent phones are known by name before callers by address) and copy the endpoints.\n",
        "[global]\ntype = global\nendpoint_identifier_order = username,ip,anonymous\n",
        f"[transport-udp]\ntype = transport\nprotocol = udp\nbind = 127.0.0.1:{options.sip_port}\n",
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
                    "auth_type = userpass",
                    f"username = {agent.name}",
                    f"password = {agent.password}",
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
    """One queue per flow queue, holding music ``hotline``; agents ring all at once, and a
    higher flow priority becomes a higher weight when queues share agents."""
    parts = [HEADER, "; No [general] section: include this file next to yours.\n"]
    for queue in options.queues:
        settings = [
            "musicclass = hotline",
            "strategy = ringall",
            "timeout = 15",
            "retry = 5",
            "wrapuptime = 5",
            "joinempty = yes",
            "leavewhenempty = no",
            "ringinuse = no",
            f"weight = {max(queue.priority, 0)}",
        ]
        members = [
            f"member => PJSIP/{agent.name},0,{agent.name},PJSIP/{agent.name}"
            for agent in options.agents
        ]
        parts.append(section(queue_name(queue.name), settings + members))
    return "\n".join(parts)


def musiconhold_conf(options: Options) -> str:
    body = ["mode = files", f"directory = {options.moh_directory}", "sort = alpha"]
    return "\n".join([HEADER, section("hotline", body)])


def _aor(contact: str | None) -> list[str]:
    if contact:
        return ["type = aor", f"contact = {contact}"]
    return ["type = aor", "max_contacts = 1", "remove_existing = yes"]
