"""Chinese the hotline speaks or sends is punctuated as Chinese: full-width ，；？！：。 after
Chinese words, never the ASCII ``,;?!:`` or a sentence-ending ``.``, and no spaces between
Chinese characters. Walks every Chinese text of the product: the prompt catalog, the flow
files, the text messages and the Twilio apology; each offender is named by file and key.

ASCII punctuation stays right inside a Latin stretch ("For English, press 1. 中文服务请按2。")
and as a decimal point ("89.90元"). espeak-ng pauses on the full-width marks as on the
ASCII ones (``ivr.audio.plan`` cuts runs on both)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from ivr.flow.prompts import PLACEHOLDER
from ivr.phone.twilio.twiml import APOLOGY
from ivr.services import wording
from ivr.services.complaints import COMPLAINT_SMS
from ivr.services.wallet_actions import RESET_CODE_SMS

ROOT = Path(__file__).resolve().parents[3]
CATALOGS = (
    ROOT / "prompts" / "prompts.yaml",
    ROOT / "ivr" / "defaults" / "prompts" / "prompts.yaml",
)
FLOWS = (ROOT / "callflows.yaml", ROOT / "ivr" / "defaults" / "callflows.yaml")

ASCII_MARKS = ",;?!:."
#: What ends a clause: a mark is judged by the clause it closes.
CLAUSE_END = re.compile(r"[,;?!:.，；？！：。、]")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Han, CJK punctuation (、。「」) and full-width forms (，；？！：).
CJK_LIKE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def problems(text: str) -> list[str]:
    """What is wrong with the punctuation of one text (none: ``[]``)."""
    plain = PLACEHOLDER.sub("\x00", text)  # a value is neither Chinese nor Latin
    found = []
    clause_start = 0
    for index, char in enumerate(plain):
        if not CLAUSE_END.match(char):
            if char == " " and _between_cjk(plain, index):
                found.append(f"a space between Chinese characters: {_around(plain, index)}")
            continue
        decimal = char == "." and plain[index + 1 : index + 2].isdigit()
        clause = plain[clause_start:index]
        if char in ASCII_MARKS and not decimal and HAN.search(clause):
            wide = "，；？！：。"[",;?!:.".index(char)]
            found.append(f"ASCII {char!r} after Chinese, use {wide!r}: {_around(plain, index)}")
        if not decimal:
            clause_start = index + 1
    return found


def _between_cjk(text: str, index: int) -> bool:
    before, after = text[:index].rstrip(" "), text[index:].lstrip(" ")
    return bool(before and after and CJK_LIKE.match(before[-1]) and CJK_LIKE.match(after[0]))


def _around(text: str, index: int) -> str:
    return repr(text[max(0, index - 8) : index + 8].replace("\x00", "{…}"))


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _once(paths: tuple[Path, ...]) -> Iterator[Path]:
    """Each file once: the package's defaults are links to the checkout's files."""
    seen = set()
    for path in paths:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            yield path


def catalog_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(``file: prompt.language``, text) for each catalog text with Chinese in it."""
    catalog = yaml.safe_load(path.read_text(encoding="utf-8"))
    for prompt_id, by_language in catalog.items():
        for language, text in by_language.items():
            if HAN.search(text):
                yield f"{_relative(path)}: {prompt_id}.{language}", text


def flow_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(``file: key.path``, text) for each string in a flow file with Chinese in it."""

    def walk(node: object, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, f"{where}.{key}" if where else str(key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{where}[{index}]")
        elif isinstance(node, str) and HAN.search(node):
            yield f"{_relative(path)}: {where}", node

    yield from walk(yaml.safe_load(path.read_text(encoding="utf-8")), "")


def message_texts() -> Iterator[tuple[str, str]]:
    """The text messages and the Twilio apology in Chinese, and a reset-code message and a
    complaint message as sent (amounts and dates as ``ivr.services.wording`` says them)."""
    yield "ivr/services/wallet_actions.py: RESET_CODE_SMS.zh", RESET_CODE_SMS["zh"]
    yield "ivr/services/complaints.py: COMPLAINT_SMS.zh", COMPLAINT_SMS["zh"]
    yield "ivr/phone/twilio/twiml.py: APOLOGY.zh", APOLOGY["zh"]
    day = wording.day(datetime(2030, 12, 1), "zh")
    sent = COMPLAINT_SMS["zh"].format(reference="20301201", acknowledge=day, resolve=day)
    yield "ivr/services/complaints.py: COMPLAINT_SMS.zh, as sent", sent
    paid = f"{day}{wording.money(8990, 'CNY', 'zh')}"
    yield "ivr/services/wording.py: money and day in zh", paid


def every_chinese_text() -> list[tuple[str, str]]:
    texts = [text for path in _once(CATALOGS) for text in catalog_texts(path)]
    texts += [text for path in _once(FLOWS) for text in flow_texts(path)]
    return texts + list(message_texts())


def test_every_chinese_text_of_the_product_is_punctuated_as_chinese() -> None:
    texts = every_chinese_text()
    offenders = [f"{where}: {problem}" for where, text in texts for problem in problems(text)]

    assert offenders == []
    assert len(texts) > 100  # the catalog's zh texts were all read


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("您好,欢迎致电。", "ASCII ',' after Chinese, use '，'"),
        ("重听请按1,转人工请按0。", "ASCII ',' after Chinese, use '，'"),
        ("请在App里输入;谢谢。", "ASCII ';' after Chinese, use '；'"),
        ("还有其他问题吗?", "ASCII '?' after Chinese, use '？'"),
        ("温馨提示:请勿告诉他人。", "ASCII ':' after Chinese, use '：'"),
        ("您的编号是{reference}.", "ASCII '.' after Chinese, use '。'"),
        ("验证码是{code},15分钟内有效。", "ASCII ',' after Chinese, use '，'"),
        ("感谢您的来电 再见。", "a space between Chinese characters"),
        ("感谢您的来电， 再见。", "a space between Chinese characters"),
    ],
)
def test_ascii_marks_and_spaces_in_chinese_are_found(text: str, problem: str) -> None:
    [found] = problems(text)
    assert found.startswith(problem)


@pytest.mark.parametrize(
    "text",
    [
        "For English, press 1. 中文服务请按2。",  # the English half of the bilingual menu
        "您最近一笔失败的支付，是11月20日向Fresh Mart付款89.90元。",  # a decimal point
        "请输入您的6位PIN码。",
        "最近一笔是{tx1_date}，在{tx1_merchant}支付{tx1_amount}，",
    ],
)
def test_latin_stretches_and_decimal_points_are_left_alone(text: str) -> None:
    assert problems(text) == []


def test_an_offender_is_named_by_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = tmp_path / "prompts.yaml"
    catalog.write_text(
        'goodbye:\n  en: "Goodbye."\n  zh: "感谢您的来电,再见。"\n', encoding="utf-8"
    )
    flow = tmp_path / "callflows.yaml"
    flow.write_text('nodes:\n  bye:\n    say: "再见 !"\n', encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)

    found = [
        f"{where}: {problem}"
        for where, text in [*catalog_texts(catalog), *flow_texts(flow)]
        for problem in problems(text)
    ]

    assert found == [
        "prompts.yaml: goodbye.zh: ASCII ',' after Chinese, use '，': '感谢您的来电,再见。'",
        "callflows.yaml: nodes.bye.say: ASCII '!' after Chinese, use '！': '再见 !'",
    ]
