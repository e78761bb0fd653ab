"""Prompt audio without the tools: numbers in Mandarin, cutting texts into segments, the
playback steps for every kind of value in both languages, and what the build would render
(all pure; no espeak-ng or sox needed)."""

from __future__ import annotations

import ast
import io
import logging
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.audio import chinese, fragments, manifest, plan
from ivr.audio.problems import catalog_problems
from ivr.audio.progress import ProgressBar
from ivr.audio.speech import Segment, Slot, recordings, recover_template, speaker, split, steps
from ivr.audio.steps import PlayFile, SayDigits, SayNumber, Step
from ivr.audio.values import kind, say
from ivr.flow.actions import Prompt
from ivr.flow.model import Flow
from ivr.flow.prompts import Catalog, fill, placeholders
from ivr.services import wording

AUDIO = Path(__file__).resolve().parents[3] / "ivr" / "audio"

# --- Numbers in Mandarin ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "said"),
    [
        (0, "零"),
        (1, "一"),
        (2, "二"),
        (10, "十"),
        (11, "十一"),
        (19, "十九"),
        (20, "二十"),
        (21, "二十一"),
        (99, "九十九"),
        (100, "一百"),
        (101, "一百零一"),
        (105, "一百零五"),
        (110, "一百一十"),
        (111, "一百一十一"),
        (200, "二百"),
        (1000, "一千"),
        (1001, "一千零一"),
        (1010, "一千零一十"),
        (1100, "一千一百"),
        (1250, "一千二百五十"),
        (9999, "九千九百九十九"),
        (10000, "一万"),
        (10001, "一万零一"),
        (10010, "一万零一十"),
        (10100, "一万零一百"),
        (11000, "一万一千"),
        (12345, "一万二千三百四十五"),
        (100000, "十万"),
        (100001, "十万零一"),
        (100100, "十万零一百"),
        (110000, "十一万"),
        (1000000, "一百万"),
        (1001000, "一百万一千"),
        (10000000, "一千万"),
        (20000100, "二千万零一百"),
        (100000000, "一亿"),
        (100000001, "一亿零一"),
        (100010000, "一亿零一万"),
        (1000000000000, "一万亿"),
        (-5, "负五"),
    ],
)
def test_whole_numbers_in_mandarin(number: int, said: str) -> None:
    assert "".join(chinese.integer(number)) == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("89.90", "八十九点九零"),
        ("0.5", "零点五"),
        ("0.05", "零点零五"),
        ("10.01", "十点零一"),
        ("1250", "一千二百五十"),
        ("-12.50", "负十二点五零"),
        ("100000.00", "十万点零零"),
    ],
)
def test_decimals_in_mandarin(text: str, said: str) -> None:
    assert "".join(chinese.decimal(text)) == said


@pytest.mark.parametrize("text", ["", "1.", ".5", "1.2.3", "1,000", "a", "１２", "²", "+1"])
def test_decimal_refuses_what_is_not_a_plain_number(text: str) -> None:
    with pytest.raises(ValueError):
        chinese.decimal(text)


def test_digit_strings_read_one_as_yao() -> None:
    assert "".join(chinese.digit_string("8001")) == "八零零幺"
    assert "".join(chinese.digit_string("12345678")) == "幺二三四五六七八"
    with pytest.raises(ValueError):
        chinese.digit_string("12a4")


def test_numbers_past_the_limit_are_refused() -> None:
    with pytest.raises(ValueError, match="too large"):
        chinese.integer(chinese.LIMIT)


def parse_mandarin(chars: list[str]) -> int:
    """A reference reader of Chinese numerals, to check ``integer`` against."""
    text = "".join(chars).replace("万亿", "兆")
    sign = -1 if text.startswith("负") else 1
    places = {"十": 10, "百": 100, "千": 1000}
    groups = {"兆": 10**12, "亿": 10**8, "万": 10**4}
    total = group = digit = 0
    for char in text.lstrip("负"):
        if char in chinese.DIGITS:
            digit = chinese.DIGITS.index(char)
        elif char in places:
            group += (digit or 1) * places[char]
            digit = 0
        else:
            total += (group + digit) * groups[char]
            group = digit = 0
    return sign * (total + group + digit)


@given(st.integers(min_value=0, max_value=chinese.LIMIT - 1))
def test_every_number_reads_back_as_itself(number: int) -> None:
    said = chinese.integer(number)
    text = "".join(said)

    assert parse_mandarin(said) == number
    assert "零零" not in text
    assert number == 0 or not text.endswith("零")
    assert not text.startswith("一十")
    assert all(char in fragments.MANDARIN_NAMES for char in said)


# --- Cutting a text into segments ----------------------------------------------------------


def test_a_text_is_cut_at_its_placeholders_and_punctuation_alone_is_dropped() -> None:
    parts = split("Your most recent failed payment was {amount} to {merchant} on {date}.")

    assert parts == [
        Segment(1, "Your most recent failed payment was"),
        Slot("amount"),
        Segment(2, "to"),
        Slot("merchant"),
        Segment(3, "on"),
        Slot("date"),
    ]


def test_chinese_segments_and_a_text_that_starts_with_a_value() -> None:
    assert split("{date}向{merchant}付款{amount}。") == [
        Slot("date"),
        Segment(1, "向"),
        Slot("merchant"),
        Segment(2, "付款"),
        Slot("amount"),
    ]


def test_a_placeholder_used_twice_and_values_side_by_side() -> None:
    assert split("Number {reference}. Once more, that's {reference}.") == [
        Segment(1, "Number"),
        Slot("reference"),
        Segment(2, ". Once more, that's"),
        Slot("reference"),
    ]
    assert split("{a}{b} and {c}") == [Slot("a"), Slot("b"), Segment(1, "and"), Slot("c")]


def test_recordings_are_one_file_without_placeholders_and_segments_with() -> None:
    assert recordings("goodbye", " Thank you. ") == [("goodbye", "Thank you.")]
    assert recordings("frozen", "Frozen. Your incident number is {incident}.") == [
        ("frozen.1", "Frozen. Your incident number is")
    ]


# --- Steps: each kind of value, in each language ---------------------------------------------


def en(name: str) -> PlayFile:
    return PlayFile(f"en/_fragments/{name}")


def zh(text: str) -> list[Step]:
    """The fragments saying ``text``, longest match first (美元 is one fragment)."""
    out: list[Step] = []
    while text:
        word = max((w for w in fragments.MANDARIN_NAMES if text.startswith(w)), key=len)
        out.append(PlayFile(f"zh/_fragments/{fragments.MANDARIN_NAMES[word]}"))
        text = text[len(word) :]
    return out


def no_render(text: str, language: str) -> PlayFile | None:
    raise AssertionError(f"nothing should be rendered, got {text!r} in {language}")


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("amount", "89.90 yuan", [SayNumber(89), en("point"), SayDigits("90"), en("currency_cny")]),
        ("amount", "89.00 yuan", [SayNumber(89), en("currency_cny")]),
        (
            "amount",
            "0.05 dollars",
            [SayNumber(0), en("point"), SayDigits("05"), en("currency_usd")],
        ),
        ("balance", "1250.00 Hong Kong dollars", [SayNumber(1250), en("currency_hkd")]),
        (
            "balance",
            "-3.50 euros",
            [en("minus"), SayNumber(3), en("point"), SayDigits("50"), en("currency_eur")],
        ),
        ("date", "November 20", [en("month_11"), SayNumber(20)]),
        ("date", "January 1", [en("month_01"), SayNumber(1)]),
        ("reference", "12345678", [SayDigits("12345678")]),
        ("incident", "00420017", [SayDigits("00420017")]),
        ("phone_last4", "8001", [SayDigits("8001")]),
        ("phone_last4", "", []),
    ],
)
def test_english_values(name: str, value: str, said: list[Step]) -> None:
    assert say(name, value, "en", no_render) == said


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("amount", "89.90元", zh("八十九点九零元")),
        ("amount", "89.00元", zh("八十九元")),
        ("amount", "1250.00美元", zh("一千二百五十美元")),
        ("balance", "100000.50港币", zh("十万点五零港币")),
        ("balance", "-0.10欧元", zh("负零点一零欧元")),
        ("date", "11月20日", zh("十一月二十日")),
        ("date", "1月10日", zh("一月十日")),
        ("reference", "12345678", zh("幺二三四五六七八")),
        ("incident", "00420017", zh("零零四二零零幺七")),
        ("phone_last4", "8001", zh("八零零幺")),
    ],
)
def test_mandarin_values(name: str, value: str, said: list[Step]) -> None:
    assert say(name, value, "zh", no_render) == said


@pytest.mark.parametrize("language", ["en", "zh"])
def test_free_text_is_rendered_on_demand(language: str) -> None:
    asked: list[tuple[str, str]] = []

    def render(text: str, lang: str) -> PlayFile:
        asked.append((text, lang))
        return PlayFile(f"{lang}/_dynamic/0123456789abcdef")

    said = say("merchant", "Lucky Noodles", language, render)

    assert said == [PlayFile(f"{language}/_dynamic/0123456789abcdef")]
    assert asked == [("Lucky Noodles", language)]


def test_free_text_without_a_renderer_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="ivr.audio.values"):
        said = say("merchant", "Lucky Noodles", "en")

    assert said == []
    assert "{merchant}" in caplog.text
    assert "Lucky Noodles" not in caplog.text  # values are not logged


@pytest.mark.parametrize(
    ("name", "value", "language"),
    [
        ("amount", "12.00 GBP", "en"),  # a currency without a fragment
        ("amount", "12.00英镑", "zh"),
        ("reference", "AB12", "en"),  # SAY DIGITS takes digits only
        ("reference", "AB12", "zh"),
        ("date", "Nov 20", "en"),
        ("date", "13月1日", "zh"),
    ],
)
def test_a_value_not_in_its_kinds_shape_is_spoken_as_free_text(
    name: str, value: str, language: str
) -> None:
    rendered = PlayFile(f"{language}/_dynamic/x")

    assert say(name, value, language, lambda text, lang: rendered) == [rendered]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("amount", "whatever", "money"),
        ("merchant", "12345", "text"),
        ("minutes", "15", "number"),
        ("position", "3", "number"),
        ("code", "482917", "digits"),
        ("count", "15", "digits"),
        ("total", "8.50 dollars", "money"),
        ("total", "8.50元", "money"),
        ("when", "March 3", "date"),
        ("when", "3月3日", "date"),
        ("who", "Alice", "text"),
    ],
)
def test_the_kind_comes_from_the_name_else_the_shape(name: str, value: str, expected: str) -> None:
    assert kind(name, value) == expected


# --- Steps for whole prompts ---------------------------------------------------------------------

SUMMARY_EN = "Your most recent failed payment was {amount} to {merchant} on {date}."
SUMMARY_ZH = "您最近一笔失败的支付,是{date}向{merchant}付款{amount}。"


def prompt(prompt_id: str, language: str, template: str, **values: str) -> Prompt:
    used = {name: values.get(name, "") for name in placeholders(template)}
    return Prompt(prompt_id, language, fill(template, used), used)


def merchant(text: str, language: str) -> PlayFile:
    return PlayFile(f"{language}/_dynamic/merchant")


def test_a_prompt_without_placeholders_is_its_file() -> None:
    assert steps(Prompt("main_menu", "zh", "重置密码请按1")) == [PlayFile("zh/main_menu")]


def test_english_summary_interleaves_segments_and_values() -> None:
    summary = prompt(
        "payment_failed_summary", "en", SUMMARY_EN,
        amount="89.90 yuan", merchant="Lucky Noodles", date="November 20",
    )  # fmt: skip

    said = steps(summary, merchant, template=SUMMARY_EN)

    assert said == [
        PlayFile("en/payment_failed_summary.1"),
        SayNumber(89), en("point"), SayDigits("90"), en("currency_cny"),
        PlayFile("en/payment_failed_summary.2"),
        PlayFile("en/_dynamic/merchant"),
        PlayFile("en/payment_failed_summary.3"),
        en("month_11"), SayNumber(20),
    ]  # fmt: skip


def test_chinese_summary_interleaves_segments_and_fragments() -> None:
    summary = prompt(
        "payment_failed_summary", "zh", SUMMARY_ZH,
        amount="89.90元", merchant="幸运面馆", date="11月20日",
    )  # fmt: skip

    said = steps(summary, merchant, template=SUMMARY_ZH)

    assert said == [
        PlayFile("zh/payment_failed_summary.1"),
        *zh("十一月二十日"),
        PlayFile("zh/payment_failed_summary.2"),
        PlayFile("zh/_dynamic/merchant"),
        PlayFile("zh/payment_failed_summary.3"),
        *zh("八十九点九零元"),
    ]


def test_a_value_said_twice_and_a_value_at_the_end() -> None:
    template = "Your reference number is {reference}. Once more, that's {reference}."
    done = prompt("closure_done", "en", template, reference="48213307")

    assert steps(done, template=template) == [
        PlayFile("en/closure_done.1"),
        SayDigits("48213307"),
        PlayFile("en/closure_done.2"),
        SayDigits("48213307"),
    ]


def test_the_template_is_recovered_when_not_given() -> None:
    summary = prompt(
        "payment_failed_summary", "en", SUMMARY_EN,
        amount="89.90 yuan", merchant="Lucky Noodles", date="November 20",
    )  # fmt: skip

    assert recover_template(summary.text, summary.values) == SUMMARY_EN
    assert steps(summary, merchant) == steps(summary, merchant, template=SUMMARY_EN)


def test_an_empty_value_cannot_be_placed_so_the_whole_text_is_rendered() -> None:
    summary = prompt("payment_failed_summary", "en", SUMMARY_EN, amount="1.00 yuan")
    whole = PlayFile("en/_dynamic/whole")

    assert recover_template(summary.text, summary.values) is None
    assert steps(summary, lambda text, lang: whole) == [whole]
    assert steps(summary) == []
    # with the template, an empty value just says nothing
    assert SayNumber(1) in steps(summary, template=SUMMARY_EN)


def sample_values(language: str) -> dict[str, str]:
    when = datetime(2026, 11, 20)
    return {
        "amount": wording.money(8990, "CNY", language),
        "balance": wording.money(125000, "USD", language),
        "merchant": "Lucky Noodles",
        "date": wording.day(when, language),
        "phone_last4": "8001",
        "reference": "48213307",
        "incident": "70012345",
        "position": "12",
        "minutes": "25",
        "last4": "8001",
        "number": "13800138001",
        "code": "482917",
        "complaint_reference": "51880263",
        "acknowledge_date": wording.day(datetime(2026, 11, 21), language),
        "resolve_date": wording.day(datetime(2026, 11, 27), language),
    } | {  # the recent transactions, newest first (``recent_tx<n>``)
        f"tx{n}_{name}": value
        for n in (1, 2, 3)
        for name, value in (
            ("amount", wording.money(1250 * n, "CNY", language)),
            ("merchant", "Lucky Noodles"),
            ("date", wording.day(when - timedelta(days=n), language)),
        )
    }


def test_every_catalog_prompt_plays_only_files_the_build_makes(flow: Flow) -> None:
    for language in flow.languages:
        made = {r.label for r in plan.catalog_recordings(flow.catalog, language).values()}
        made.add(f"{language}/_dynamic/merchant")
        speak = speaker(flow.catalog, merchant)
        for prompt_id, texts in flow.catalog.texts.items():
            filled = prompt(prompt_id, language, texts[language], **sample_values(language))

            said = speak(filled)

            assert {s.name for s in said if isinstance(s, PlayFile)} <= made, prompt_id
            assert said == steps(filled, merchant), prompt_id  # the template recovered


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        ("en", "12", [SayNumber(12)]),
        ("zh", "12", ["zh/_fragments/ten", "zh/_fragments/digit_2"]),
        ("zh", "3", ["zh/_fragments/digit_3"]),
    ],
)
def test_a_count_is_said_as_a_number(language: str, value: str, expected: list[object]) -> None:
    said = say("position", value, language)
    if language == "en":
        assert said == expected
    else:
        assert [s.name for s in said if isinstance(s, PlayFile)] == expected


def test_fragments_cover_every_currency_and_month_the_wording_uses() -> None:
    for code in ("CNY", "USD", "EUR", "HKD"):
        assert wording.money(100, code, "en").split(" ", 1)[1] in fragments.CURRENCY_WORDS["en"]
        assert wording.money(100, code, "zh").removeprefix("1.00") in fragments.CURRENCY_WORDS["zh"]
    for month in range(1, 13):
        name = wording.day(datetime(2026, month, 1), "en").split()[0]
        assert fragments.MONTH_NAMES[name] == f"month_{month:02d}"


# --- What the build renders, and with which voice ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("Welcome to wallet support.", [("latin", "Welcome to wallet support.")]),
        (
            "请在键盘上输入您的6位PIN码。",
            [("han", "请在键盘上输入您的6位"), ("latin", "PIN"), ("han", "码。")],
        ),
        (
            "For English, press 1. 中文服务请按2。",
            [("latin", "For English, press 1."), ("han", "中文服务请按2。")],
        ),
        ("15分钟内有效", [("han", "15分钟内有效")]),
        ("12345", [("neutral", "12345")]),
        ("", []),
    ],
)
def test_texts_are_cut_into_runs_of_one_script(text: str, runs: list[tuple[str, str]]) -> None:
    assert plan.script_runs(text) == runs


def test_each_run_gets_its_own_voice_and_mandarin_is_not_plain_cmn() -> None:
    menu = plan.Recording(
        "en", "choose_language.wav", "For English, press 1. 中文服务请按2。", "prompt"
    )
    digits = plan.Recording("zh", "_fragments/x.wav", "123", "fragment")

    assert [(v.name, pause) for v, _, pause in menu.runs()] == [
        ("en-us", True),
        ("cmn-latn-pinyin", False),
    ]
    assert [v.name for v, _, _ in digits.runs()] == ["cmn-latn-pinyin"]


def test_the_digest_follows_the_text_and_settings_not_the_language_folder() -> None:
    one = plan.Recording("en", "a.wav", "Hello.", "prompt")

    assert one.digest() == plan.Recording("zh", "b.wav", "Hello.", "prompt").digest()
    assert one.digest() != plan.Recording("en", "a.wav", "Hello!", "prompt").digest()
    assert one.digest() != plan.Recording("en", "a.wav", "Hello.", "segment").digest()


def test_the_catalog_renders_prompts_segments_and_fragments() -> None:
    catalog = Catalog({"hi": {"en": "Hi."}, "paid": {"en": "You paid {amount}."}})

    paths = list(plan.catalog_recordings(catalog, "en"))

    assert paths[:2] == ["hi.wav", "paid.1.wav"]
    assert set(paths[2:]) == {f"_fragments/{name}.wav" for name in fragments.ENGLISH}


def test_dynamic_files_are_named_by_their_digest() -> None:
    one = plan.dynamic_recording(" Lucky Noodles ", "en")

    assert one.path == f"_dynamic/{one.digest()[:16]}.wav"
    assert one.text == "Lucky Noodles"
    assert plan.dynamic_recording("Lucky Noodles", "en") == one
    assert plan.dynamic_recording("Lucky Noodles!", "en").path != one.path


# --- Without audio files: problems, manifests, the progress bar ----------------------------------


def test_missing_audio_is_reported_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    catalog = Catalog({"main_menu": {"en": "Press 1."}})

    problems = catalog_problems(catalog, ("en", "fr"), Path("prompts"))

    assert problems[0] == "prompts/en/main_menu.wav: missing (run ivr prompts build)"
    assert "prompts/en/_fragments/point.wav: missing (run ivr prompts build)" in problems
    assert problems[-1].startswith("prompts/fr: no voice for language 'fr'")


def test_a_broken_manifest_reads_as_empty(tmp_path: Path) -> None:
    assert manifest.read(tmp_path) == {}
    (tmp_path / manifest.NAME).write_text("{not json", encoding="utf-8")
    assert manifest.read(tmp_path) == {}
    manifest.write(tmp_path, {"b.wav": "2", "a.wav": "1"})
    assert manifest.read(tmp_path) == {"a.wav": "1", "b.wav": "2"}


def test_the_progress_bar_redraws_one_line() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, width=10)

    bar(5, 10, "en/main_menu")
    bar(10, 10, "zh/goodbye")
    bar.close()

    assert out.getvalue().split("\r")[1:3] == [
        "[#####.....] 5/10 en/main_menu",
        "[##########] 10/10 zh/goodbye ",  # padded over the longer line before
    ]
    assert out.getvalue().endswith("\r")


PURE = ("speech.py", "values.py", "chinese.py", "fragments.py", "plan.py", "steps.py")


@pytest.mark.parametrize("module", PURE)
def test_the_speech_modules_run_nothing(module: str) -> None:
    tree = ast.parse((AUDIO / module).read_text(encoding="utf-8"))
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    tops = {name.split(".")[0] for name in names}

    assert tops <= set(sys.stdlib_module_names) | {"ivr"}
    assert not tops & {"subprocess", "os", "shutil", "tempfile", "threading"}
    assert not {n for n in names if n.startswith("ivr.")} & {"ivr.audio.render", "ivr.audio.build"}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_steps_that_speak_a_secret_value_are_marked_secret(language: str) -> None:
    template = {"en": "Your reference code is {code}.", "zh": "您的参考码是{code}。"}[language]
    code = "304091"
    secret = Prompt("callback_code_said", language, fill(template, {"code": code}),
                    {"code": code}, secret=frozenset({"code"}))  # fmt: skip
    plain = Prompt(secret.id, language, secret.text, secret.values)

    marked = steps(secret, template=template)
    unmarked = steps(plain, template=template)

    assert [replace(s, secret=False) for s in marked] == unmarked  # spoken the same
    assert [s.secret for s in marked] == [False] + [True] * (len(marked) - 1)
    assert code not in repr(secret) and code in repr(plain)
