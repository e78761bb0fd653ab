"""The hotline's dialplan, ``extensions.conf``, as text (pure: options in, file contents out).

``extensions.conf`` runs the controller over FastAGI (or the per-call script) and reads what it
left in channel variables (see docs/asterisk.md). The controller holds callers for a person
itself (the database queue decides who is next) and rings agents with ``Dial``; a caller it
hands back with ``IVR_OUTCOME=queued`` (the controller failed mid-wait) still reaches
``app_queue``, ``fallback`` (it apologised already) the general queue, ``transferred`` dials
``IVR_TRANSFER``. ``[hotline-answered]`` is the gosub Dial runs on an agent's channel when
they answer; ``[hotline-callback]`` runs the callback call files. Anything else that
returns to the dialplan (``AGISTATUS`` FAILURE or NOTFOUND because the controller is down
or the script crashed, no ``IVR_OUTCOME``, an unknown queue, a transfer nobody answered)
takes the *safe route*: the recorded apology (``<lang>/system_error``, English if that
language's file is missing), then the general queue. The caller never hears dead air.
Every ``Queue()`` goes through ``[hotline-queue]``, which picks the caller's language's
queue (``ivr.phone.asterisk.queue_members``) and never one that does not exist.
"""

from __future__ import annotations

import re

from ivr.phone.asterisk.config import HEADER, QUEUE_PREFIX, SAFE_QUEUE, Options


def agi_application(options: Options, script: str = "hotline", **args: str) -> str:
    """``AGI(...)`` running one of the controller's scripts (``ivr.phone.asterisk.routes``)."""
    if options.per_call_script:
        if script == "hotline" and not args:
            return f"AGI({options.agi})"
        words = [script, *(f"{key}={value}" for key, value in args.items())]
        return f"AGI({options.agi},{','.join(words)})"
    query = "&".join(f"{key}={value}" for key, value in args.items())
    return f"AGI(agi://{options.agi}/{script}{'?' + query if query else ''})"


def extensions_conf(options: Options) -> str:
    names = "|".join(re.escape(queue.name) for queue in options.queues)
    other_languages = [lang for lang in options.languages if lang != "en"]
    safe_priority = next((q.priority for q in options.queues if q.name == SAFE_QUEUE), 0)
    failed_agi = agi_application(
        options, "callback-failed", id="${IVR_CALLBACK}", reason="${REASON}"
    )
    lines = [
        HEADER,
        '; Include it from your extensions.conf (#include "<this folder>/extensions.conf")',
        f"; and send callers to it: Goto(hotline,{options.exten},1). Prompts are played by name,",
        "; e.g. en/main_menu: link the rendered prompts into the English sounds folder",
        "; (ln -s $PWD/prompts/en /usr/share/asterisk/sounds/en/en, and the same for zh).",
        "",
        "[hotline]",
        f"exten => {options.exten},1,NoOp(Wallet hotline call from ${{CALLERID(all)}})",
        " same => n,Answer()",
        " same => n,Set(IVR_OUTCOME=)",
        f" same => n,{agi_application(options)}",
        " same => n,NoOp(IVR AGISTATUS=${AGISTATUS} IVR_OUTCOME=${IVR_OUTCOME})",
        "; IVR_OUTCOME is set last by the controller, so a set one is a complete decision, even",
        "; when AGISTATUS says FAILURE (one prompt file that failed to play gives FAILURE).",
        ' same => n,GotoIf($["${IVR_OUTCOME}" = "queued"]?queued)',
        ' same => n,GotoIf($["${IVR_OUTCOME}" = "transferred"]?transferred)',
        ' same => n,GotoIf($["${IVR_OUTCOME}" = "fallback"]?fallback)',
        ' same => n,GotoIf($["${AGISTATUS}" = "HANGUP"]?done)',
        ' same => n,GotoIf($["${IVR_OUTCOME}" = ""]?safe)',
        ' same => n,GotoIf($["${AGISTATUS}" != "SUCCESS"]?safe)',
        " same => n(done),Hangup()",
        "",
        "; The controller held the caller and gave up (it failed mid-wait): app_queue takes",
        "; them on. Only the flow's queues are accepted.",
        f' same => n(queued),GotoIf($[${{REGEX("^({names})$" ${{IVR_QUEUE}})}}]?enqueue)',
        " same => n,Goto(safe)",
        ' same => n(enqueue),ExecIf($[${REGEX("^[0-9]+$" ${IVR_PRIORITY})}]'
        "?Set(QUEUE_PRIO=${IVR_PRIORITY}))",
        " same => n,Gosub(hotline-queue,s,1(${IVR_QUEUE}))",
        " same => n,Queue(${IVR_ASTERISK_QUEUE})",
        " same => n,NoOp(IVR queue ${IVR_QUEUE} ended: QUEUESTATUS=${QUEUESTATUS})",
        ' same => n,GotoIf($[${REGEX("^(JOINEMPTY|JOINUNAVAIL|FULL)$" ${QUEUESTATUS})}]?safe)',
        " same => n,Hangup()",
        "",
        "; The controller chose a transfer: a dial string (PJSIP/...) or a number.",
        ' same => n(transferred),GotoIf($["${IVR_TRANSFER}" = ""]?safe)',
        ' same => n,GotoIf($[${REGEX("/" ${IVR_TRANSFER})}]?dial)',
        " same => n,Set(IVR_TRANSFER=Local/${IVR_TRANSFER}@hotline-outbound)",
        " same => n(dial),Dial(${IVR_TRANSFER},30)",
        ' same => n,GotoIf($["${DIALSTATUS}" != "ANSWER"]?safe)',
        " same => n,Hangup()",
        "",
        "; The safe route: the controller is down, crashed or left nothing to do.",
        " same => n(safe),Log(WARNING,IVR safe route for ${CHANNEL}: AGISTATUS=${AGISTATUS}"
        " IVR_OUTCOME=${IVR_OUTCOME})",
        " same => n,Set(IVR_APOLOGY=en/system_error)",
        *(
            f' same => n,ExecIf($["${{IVR_LANGUAGE}}" = "{lang}"]'
            f"?Set(IVR_APOLOGY={lang}/system_error))"
            for lang in other_languages
        ),
        " same => n,Playback(${IVR_APOLOGY})",
        ' same => n,ExecIf($["${PLAYBACKSTATUS}" != "SUCCESS" & "${IVR_APOLOGY}"'
        ' != "en/system_error"]?Playback(en/system_error))',
        "; IVR_OUTCOME=fallback: the controller apologised itself before handing the call back.",
        f" same => n(fallback),Set(QUEUE_PRIO={safe_priority})",
        f" same => n,Gosub(hotline-queue,s,1({SAFE_QUEUE}))",
        " same => n,Queue(${IVR_ASTERISK_QUEUE})",
        " same => n,Hangup()",
        "",
        *pick_queue(),
        "; Numbers the controller transfers to: route them to your trunk here.",
        "[hotline-outbound]",
        "exten => _[+0-9].,1,NoOp(IVR: no trunk configured for ${EXTEN})",
        " same => n,Hangup(3)",
        "",
        "; Agents may call the hotline too.",
        "[hotline-agents]",
        f"exten => {options.exten},1,Goto(hotline,{options.exten},1)",
        "",
        "; Dial(PJSIP/<agent>,20,gU(hotline-answered^<entry>)) runs this on the agent's channel",
        "; when they answer: the controller marks the entry connected. Whatever the controller",
        "; says (or if it is down), the call is connected.",
        "[hotline-answered]",
        "exten => s,1,NoOp(IVR agent answered entry ${ARG1})",
        f" same => n,{agi_application(options, 'answered', entry='${ARG1}')}",
        " same => n,Return()",
        "",
        "; Callback call files (ivr.phone.asterisk.call_files) run here once the customer answers;",
        "; 'failed' runs when the call could not be made or was not answered.",
        "[hotline-callback]",
        "exten => s,1,NoOp(IVR callback ${IVR_CALLBACK} to ${CALLERID(num)})",
        " same => n,Set(IVR_OUTCOME=)",
        f" same => n,{agi_application(options, 'callback', id='${IVR_CALLBACK}')}",
        ' same => n,GotoIf($["${IVR_OUTCOME}" != "" | "${AGISTATUS}" = "HANGUP"]?over)',
        " same => n,Log(WARNING,IVR callback ${IVR_CALLBACK}: AGISTATUS=${AGISTATUS})",
        " same => n,Playback(en/system_error)",
        " same => n(over),Hangup()",
        "exten => failed,1,NoOp(IVR callback ${IVR_CALLBACK} failed: REASON=${REASON})",
        f" same => n,{failed_agi}",
        " same => n,Hangup()",
        "",
    ]
    return "\n".join(lines)


def pick_queue() -> list[str]:
    """``[hotline-queue]``: ``Gosub(hotline-queue,s,1(<flow queue>))`` sets
    ``IVR_ASTERISK_QUEUE`` to the fallback queue for the caller's language (the one the
    controller chose, else the channel's): ``hotline-<queue>-<language>`` if it exists
    (``queue_members``), else ``hotline-<queue>``; if that has no members, the same for the
    general queue, which always exists. Never a queue that does not exist."""
    prefix = QUEUE_PREFIX
    return [
        "; The fallback queue for the caller's language (queues.conf): sets IVR_ASTERISK_QUEUE.",
        "[hotline-queue]",
        "exten => s,1,Set(LOCAL(queue)=${ARG1})",
        ' same => n,Set(LOCAL(lang)=${IF($["${IVR_LANGUAGE}" != ""]'
        "?${IVR_LANGUAGE}:${CHANNEL(language)})})",
        " same => n,Set(LOCAL(lang)=${FILTER(a-zA-Z0-9_,${lang})})",
        f" same => n(pick),Set(IVR_ASTERISK_QUEUE={prefix}${{queue}})",
        f' same => n,ExecIf($["${{lang}}" != "" & ${{QUEUE_EXISTS({prefix}${{queue}}-${{lang}})}}]'
        f"?Set(IVR_ASTERISK_QUEUE={prefix}${{queue}}-${{lang}}))",
        f' same => n,GotoIf($["${{queue}}" = "{SAFE_QUEUE}"]?picked)',
        " same => n,GotoIf($[${QUEUE_MEMBER(${IVR_ASTERISK_QUEUE},count)} > 0]?picked)",
        f" same => n,Set(LOCAL(queue)={SAFE_QUEUE})",
        " same => n,Goto(pick)",
        " same => n(picked),NoOp(IVR fallback queue ${IVR_ASTERISK_QUEUE})",
        " same => n,Return()",
        "",
    ]
