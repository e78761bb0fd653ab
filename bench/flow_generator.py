"""A large, valid flow for the validation benchmark: copies of a ten-node branch (a menu,
a say, a branch, account and PIN gathers, a verify, a use case, an "anything else" menu, a
queue, a hangup), each branch's menu leading on to the next one's and back to the one
before, so that every node is reached from the start and every call can end.
"""

from __future__ import annotations

from pathlib import Path

#: Nodes in one block (``BLOCK`` below).
BLOCK_NODES = 10

BLOCK = """\
  m{i}:
    type: menu
    prompt: menu
    choices:
      1: s{i}
      2: g{i}
      3: x{i}
      8: {back}
      9: {forward}
      0: q{i}
      "*": repeat
    timeout: 6s
    on_failure: q{i}
    max_visits: 3
    on_max_visits: q{i}

  s{i}:
    type: say
    set: {{reason: branch_{i}}}
    prompt: info
    next: b{i}

  b{i}:
    type: branch
    var: reason
    cases:
      branch_{i}: g{i}
    default: q{i}

  g{i}:
    type: gather
    prompt: enter_account
    min_digits: 8
    max_digits: 8
    finish_key: "#"
    timeout: 8s
    save_as: account_number
    next: p{i}
    on_failure: q{i}

  p{i}:
    type: gather
    prompt: enter_pin
    min_digits: 6
    max_digits: 6
    save_as: pin
    secure: true
    next: v{i}
    on_failure: q{i}

  v{i}:
    type: verify
    account: account_number
    pin: pin
    attempts: 3
    retry: g{i}
    on_success: a{i}
    on_failure: q{i}
    on_locked: q{i}
    on_error: q{i}

  a{i}:
    type: action
    action: send_reset_code
    outcomes:
      sent: x{i}
      no_phone: q{i}
    on_error: q{i}

  x{i}:
    type: menu
    prompt: anything_else
    choices:
      1: h{i}
      0: q{i}
    on_failure: h{i}

  q{i}:
    type: queue
    queue: general
    callback: offer
    prompt: hold

  h{i}:
    type: hangup
    prompt: goodbye

"""

HEAD = """\
version: 1
start: m0
languages: [en, zh]
prompts: prompts.yaml
timezone: Asia/Shanghai

defaults:
  language: en
  timeout: 5s
  retries: 2

queues:
  general: {priority: 1, skill: general, max_wait: 15m, announce_every: 3m}

nodes:

"""

CATALOG = """\
menu: {en: "For help press 1.", zh: "帮助请按1。"}
info: {en: "Here is how it works.", zh: "说明如下。"}
enter_account: {en: "Enter your account number.", zh: "请输入账号。"}
enter_pin: {en: "Enter your PIN.", zh: "请输入密码。"}
anything_else: {en: "Anything else?", zh: "还有其他问题吗？"}
hold: {en: "Please hold.", zh: "请稍候。"}
goodbye: {en: "Goodbye.", zh: "再见。"}
"""


def flow_text(nodes: int) -> str:
    """The YAML of a flow of ``nodes`` nodes (a multiple of ``BLOCK_NODES``)."""
    blocks = nodes // BLOCK_NODES
    parts = [HEAD]
    for i in range(blocks):
        back = f"m{i - 1}" if i else "repeat"
        forward = f"m{i + 1}" if i + 1 < blocks else "repeat"
        parts.append(BLOCK.format(i=i, back=back, forward=forward))
    return "".join(parts)


def write_flow(folder: Path, nodes: int) -> Path:
    """Write the flow and its prompt catalog into ``folder``; the flow's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prompts.yaml").write_text(CATALOG, encoding="utf-8")
    path = folder / "callflows.yaml"
    path.write_text(flow_text(nodes), encoding="utf-8")
    return path
