"""The reports page's charts: valid SVG (parsed with ElementTree), one bar per hour and per
queue with the figures in them, text escaped, and a chart that says so when it is empty."""

from __future__ import annotations

from datetime import UTC, date
from xml.etree import ElementTree as ET

from report_sample import HOSTILE, sample_report

from ivr.services import periods
from ivr.services.insight import QueueFigures
from ivr.services.report_figures import HourOfDay, by_hour_of_day
from ivr.web import charts

SVG = "{http://www.w3.org/2000/svg}"
PERIOD = periods.day(date(2026, 11, 30), "Asia/Shanghai")


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label")
    return root


def test_calls_per_hour_has_24_bars_with_the_calls() -> None:
    report = sample_report(PERIOD)
    root = parsed(charts.hours_chart(by_hour_of_day(report)))
    bars = root.findall(f"{SVG}rect[@class='bar']")
    assert [b.get("data-hour") for b in bars] == [str(h) for h in range(24)]
    calls = {int(b.get("data-hour", "")): int(b.get("data-calls", "")) for b in bars}
    assert (calls[9], calls[10], calls[11]) == (70, 50, 0)
    heights = {int(b.get("data-hour", "")): float(b.get("height", "")) for b in bars}
    assert heights[9] > heights[10] > heights[11] == 0
    assert "120 calls" in (root.findtext(f"{SVG}title") or "")


def test_a_range_says_its_hours_are_summed_over_its_days() -> None:
    hours = [HourOfDay(h, 1, 0, 0) for h in range(24)]
    root = parsed(charts.hours_chart(hours, days=30))
    assert "summed over 30 days" in (root.get("aria-label") or "")


def test_an_empty_period_says_there_were_no_calls() -> None:
    root = parsed(charts.hours_chart([]))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "No calls in this period." in texts


def test_service_level_bars_against_the_target() -> None:
    root = parsed(charts.service_level_chart(sample_report(PERIOD).queues))
    [bar] = root.findall(f"{SVG}rect[@data-queue]")
    assert (bar.get("data-queue"), bar.get("data-share")) == ("payments", "0.6000")
    assert bar.get("class") == "bar below"  # 60% < 80%
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "payments (20 s)" in texts and "60%" in texts
    assert "security (10 s)" in texts and "no callers" in texts  # no bar, no division by 0
    assert "target 80%" in texts


def test_queue_names_are_escaped_text() -> None:
    queue = QueueFigures(HOSTILE, 10, 9, 1, 3.0, 20, 9, 5.0, 60.0, 0, 0, 0)
    svg = charts.service_level_chart([queue])
    assert "<script>" not in svg
    root = parsed(svg)
    assert f"{HOSTILE} (20 s)" in [t.text for t in root.iter(f"{SVG}text")]
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))


def test_no_queues_says_so() -> None:
    root = parsed(charts.service_level_chart([]))
    assert "No queue had callers in this period." in [t.text for t in root.iter(f"{SVG}text")]


def test_hours_of_the_day_are_local() -> None:
    report = sample_report(PERIOD)
    first = report.hours[0].hour
    assert first.utcoffset() is not None and first.astimezone(UTC).hour == 1  # 09:00 Beijing
    assert by_hour_of_day(report)[9].calls == 70
