"""The dashboard's SVG charts: well-formed, escaped, and drawn to scale. Plain functions, no
database."""

import math
import xml.etree.ElementTree as ET

import pytest

from incidents.console.charts import bar_chart, line_chart

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<script>alert(1)</script>", 'A & B "x"', "O'Brien's <b>ward</b>"]
WEEKS = [f"W{n}" for n in range(1, 13)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def find_all(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    return [e for e in root.iter(NS + tag) if cls is None or e.get("class") == cls]


def texts(root: ET.Element, cls: str) -> list[str]:
    """The visible text of the <text> elements of a class, without their <title> children."""
    return [
        (e.text or "") + "".join(child.tail or "" for child in e)
        for e in find_all(root, "text", cls)
    ]


def y_ticks(svg: str) -> list[float]:
    return [float(t) for t in texts(parse(svg), "y-tick")]


def bars(svg: str) -> list[ET.Element]:
    return find_all(parse(svg), "rect", "bar")


def height_of(svg: str) -> float:
    return float(parse(svg).get("viewBox").split()[3])


# Escaping and XML ---------------------------------------------------------------------------


def test_bar_chart_escapes_hostile_department_names():
    svg = bar_chart("Open by <i>department</i>", [(name, 3) for name in HOSTILE])

    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "A &amp; B" in svg
    root = parse(svg)
    # Parsed back, each name is exactly what the department typed.
    assert texts(root, "bar-label") == HOSTILE
    assert [e.findtext(NS + "title") for e in find_all(root, "text", "bar-label")] == HOSTILE
    assert root.findtext(NS + "title") == "Open by <i>department</i>"


def test_line_chart_escapes_hostile_series_and_week_names():
    svg = line_chart(
        '"Weekly" & <b>trends</b>',
        ["<script>x</script>", "A & B"],
        [(name, [1, 2]) for name in HOSTILE],
    )

    assert "<script>" not in svg and "<b>" not in svg
    root = parse(svg)
    assert root.findtext(NS + "title") == '"Weekly" & <b>trends</b>'
    assert texts(root, "x-label") == ["<script>x</script>", "A & B"]
    legend = [g.findtext(NS + "title") for g in find_all(root, "g", "legend-entry")]
    assert legend == HOSTILE


def test_characters_xml_cannot_hold_are_dropped_from_names():
    svg = bar_chart("Wards", [("Ward\x00 1\x07\x1b", 1)])

    assert texts(parse(svg), "bar-label") == ["Ward 1"]


@pytest.mark.parametrize(
    "svg",
    [
        line_chart("Trends", WEEKS, [("Received", list(range(12))), ("Closed", [None] * 11 + [1])]),
        line_chart("One week", ["W1"], [("A", [5])]),
        line_chart("Nothing yet", WEEKS, [("A", [None] * 12)]),
        bar_chart("By ward", [("A", 1), ("B", 2)], target=1.5, target_label="Goal <1.5>"),
        bar_chart("By ward", [(f"Ward {n}", n) for n in range(30)]),
        bar_chart("Nothing yet", []),
    ],
)
def test_charts_are_well_formed_xml(svg):
    root = parse(svg)

    assert root.tag == NS + "svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert len(root.get("viewBox").split()) == 4
    title = root.find(NS + "title")
    assert title is not None and title.get("id") == root.get("aria-labelledby")
    assert root.find(NS + "desc").get("id") == root.get("aria-describedby")
    assert title.text == texts(root, "chart-title")[0]  # the title is on screen too


def test_two_charts_have_distinct_title_ids():
    charts = [
        bar_chart("Same", [("A", 1)]),
        bar_chart("Same", [("A", 1)]),
        line_chart("Same", ["W1"], [("A", [1])]),
    ]

    ids = [parse(svg).get("aria-labelledby") for svg in charts]
    assert len(set(ids)) == 3
    all_ids = [e.get("id") for svg in charts for e in parse(svg).iter() if e.get("id")]
    assert len(all_ids) == len(set(all_ids))


def test_a_long_title_is_shortened_on_screen_but_whole_for_screen_readers():
    title = "Reports received per week in every ward of the city, " * 3

    root = parse(bar_chart(title, [("A", 1)], width=320))

    assert root.findtext(NS + "title") == title
    shown = texts(root, "chart-title")[0]
    assert shown.endswith("…") and len(shown) < len(title)


# Empty charts -------------------------------------------------------------------------------


def test_empty_chart_says_no_data():
    for svg in [
        bar_chart("By department", []),
        line_chart("Trends", WEEKS, [("A", [None] * 12), ("B", [math.nan] * 12)]),
        line_chart("Trends", WEEKS, []),
        line_chart("Trends", [], []),
    ]:
        root = parse(svg)
        assert texts(root, "empty") == ["No data"]
        assert not find_all(root, "rect", "bar") and not find_all(root, "polyline")


def test_empty_chart_says_what_it_is_told_to():
    svg = bar_chart("Theo phòng ban", [], empty_text="Chưa có dữ liệu & <gì>")

    assert texts(parse(svg), "empty") == ["Chưa có dữ liệu & <gì>"]


# Line chart ---------------------------------------------------------------------------------


def test_line_chart_leaves_a_gap_for_missing_weeks():
    svg = line_chart("Trends", WEEKS[:6], [("Received", [3, 4, None, 6, 7, 8])])

    root = parse(svg)
    lines = find_all(root, "polyline")
    assert [len(line.get("points").split()) for line in lines] == [2, 3]
    assert len(find_all(root, "circle")) - 1 == 5  # one marker a value, plus the legend's


def test_line_chart_draws_a_lone_week_as_a_marker_without_a_line():
    svg = line_chart("Trends", WEEKS[:5], [("Received", [None, 4, None, None, 2])])

    root = parse(svg)
    assert find_all(root, "polyline") == []
    assert len(find_all(root, "circle")) - 1 == 2


def test_line_chart_treats_nan_and_infinity_as_missing_weeks():
    svg = line_chart("Trends", WEEKS[:5], [("Received", [1, math.nan, 2, math.inf, 3])])

    assert find_all(parse(svg), "polyline") == []
    assert y_ticks(svg) == [0, 1, 2, 3]  # infinity does not stretch the axis


def test_line_chart_puts_each_value_at_its_height_on_the_axis():
    svg = line_chart("Trends", ["W1", "W2", "W3"], [("Received", [0, 20, 40])])

    root = parse(svg)
    gridlines = {
        float(label.text): float(line.get("y1"))
        for line, label in zip(
            find_all(root, "g", "grid")[0].iter(NS + "line"), find_all(root, "text", "y-tick")
        )
    }
    assert sorted(gridlines) == [0, 10, 20, 30, 40]
    markers = [c for c in find_all(root, "circle") if c.find(NS + "title") is not None]
    assert [float(c.get("cy")) for c in markers] == [gridlines[0], gridlines[20], gridlines[40]]
    xs = [float(c.get("cx")) for c in markers]
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], abs=0.02)  # weeks evenly spaced
    assert markers[1].findtext(NS + "title") == "Received · W2: 20"


@pytest.mark.parametrize(
    "values, ticks",
    [
        ([3, 37, 12], [0, 10, 20, 30, 40]),
        ([0.13, 0.73], [0, 0.2, 0.4, 0.6, 0.8]),
        ([1.2, 9.1], [0, 2.5, 5, 7.5, 10]),
        ([120, 1400], [0, 500, 1000, 1500]),
        ([-7.3, 7.3], [-10, -5, 0, 5, 10]),
        ([-3, -1], [-3, -2, -1, 0]),
        ([0, 0], [0, 1]),
    ],
)
def test_y_axis_ticks_are_round_numbers(values, ticks):
    svg = line_chart("Trends", WEEKS[: len(values)], [("A", values)])

    assert y_ticks(svg) == ticks


@pytest.mark.parametrize("top", [0.07, 0.9, 1.5, 3.3, 7, 11, 19, 41, 99.5, 101, 730, 12345])
def test_y_axis_always_starts_at_zero_and_ends_just_above_the_largest_value(top):
    ticks = y_ticks(line_chart("Trends", ["W1", "W2"], [("A", [top / 3, top])]))

    assert ticks[0] == 0 and ticks[-1] >= top
    step = ticks[1] - ticks[0]
    assert all(b - a == pytest.approx(step) for a, b in zip(ticks, ticks[1:]))
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 9) in (1, 2, 2.5, 5)
    assert 4 <= len(ticks) <= 5
    assert ticks[-2] < top  # no empty band at the top


def test_counts_never_get_fractional_ticks():
    assert y_ticks(line_chart("Trends", ["W1", "W2"], [("Overdue", [1, 3])])) == [0, 1, 2, 3]
    assert y_ticks(line_chart("Trends", ["W1", "W2"], [("Overdue", [0, 1])])) == [0, 1]


def test_y_format_labels_the_ticks():
    svg = line_chart("Share resolved", ["W1", "W2"], [("A", [0.2, 0.9])], y_format="{:.0%}")

    assert texts(parse(svg), "y-tick") == ["0%", "25%", "50%", "75%", "100%"]


def test_x_labels_are_all_shown_for_twelve_weeks_and_thinned_for_a_year():
    twelve = texts(parse(line_chart("Trends", WEEKS, [("A", list(range(12)))])), "x-label")
    assert twelve == WEEKS

    year = [f"W{n}" for n in range(1, 53)]
    shown = texts(parse(line_chart("Trends", year, [("A", list(range(52)))])), "x-label")
    assert 6 <= len(shown) <= 12
    assert shown[-1] == "W52"  # the latest week is always labelled


def test_long_x_labels_are_thinned_so_they_do_not_overlap():
    weeks = [f"2026-11-{n:02d} to 2026-11-{n + 6:02d}" for n in range(1, 13)]

    shown = texts(parse(line_chart("Trends", weeks, [("A", list(range(12)))])), "x-label")

    assert len(shown) < 12 and shown[-1] == weeks[-1]


def test_series_differ_by_dash_as_well_as_colour():
    svg = line_chart("Trends", ["W1", "W2"], [(f"S{n}", [n, n + 1]) for n in range(10)])

    lines = find_all(parse(svg), "polyline")
    styles = [(line.get("stroke"), line.get("stroke-dasharray")) for line in lines]
    assert len(set(styles)) == 10
    assert len({dash for _, dash in styles[:8]}) == 8


def test_series_of_the_wrong_length_are_a_bug_not_a_chart():
    with pytest.raises(ValueError, match="'Received' has 3 values for 12 x labels"):
        line_chart("Trends", WEEKS, [("Received", [1, 2, 3])])


# Bar chart ----------------------------------------------------------------------------------


def test_bar_lengths_are_proportional_to_the_values():
    rows = [("Roads", 40), ("Water", 10), ("Lighting", 0), ("Parks", 25)]

    drawn = bars(bar_chart("Open reports", rows))

    widths = [float(bar.get("width")) for bar in drawn]
    assert max(widths) == widths[0] > 0
    assert widths[2] == 0
    assert widths[1] / widths[0] == pytest.approx(10 / 40, abs=1e-3)
    assert widths[3] / widths[0] == pytest.approx(25 / 40, abs=1e-3)
    assert len({bar.get("x") for bar in drawn}) == 1  # all grow from the same baseline


def test_each_bar_ends_with_its_value_printed():
    svg = bar_chart("Median days", [("Roads", 4.5), ("Water", 2)], value_format="{:g} d")

    root = parse(svg)
    assert texts(root, "bar-value") == ["4.5 d", "2 d"]
    for bar, value in zip(bars(svg), find_all(root, "text", "bar-value")):
        end = float(bar.get("x")) + float(bar.get("width"))
        assert float(value.get("x")) == pytest.approx(end + 4, abs=0.02)


def test_negative_values_draw_no_bar_but_keep_their_number():
    svg = bar_chart("Change", [("Roads", 5), ("Water", -3)])

    assert [float(bar.get("width")) for bar in bars(svg)][1] == 0
    assert texts(parse(svg), "bar-value") == ["5", "-3"]


def test_bar_chart_treats_nan_and_infinity_as_zero():
    svg = bar_chart("Open", [("Roads", 2), ("Water", math.nan), ("Parks", math.inf)])

    assert [float(bar.get("width")) for bar in bars(svg)][1:] == [0, 0]
    assert float(bars(svg)[0].get("width")) > 0
    assert texts(parse(svg), "bar-value") == ["2", "0", "0"]


def test_bar_chart_with_only_zeros_draws_empty_bars():
    svg = bar_chart("Open", [("A", 0), ("B", 0)])

    assert [float(bar.get("width")) for bar in bars(svg)] == [0, 0]


def test_bar_chart_draws_one_bar_per_row_and_says_how_many_more():
    rows = [(f"Ward {n}", n) for n in range(1, 26)]

    svg = bar_chart("Open by ward", rows)

    assert len(bars(svg)) == 20
    assert texts(parse(svg), "bar-label")[-1] == "Ward 20"
    assert texts(parse(svg), "more") == ["+5 more"]
    assert texts(parse(bar_chart("Open by ward", rows, max_rows=30)), "more") == []
    translated = bar_chart("Theo phường", rows, more_text="+{n} phường khác")
    assert texts(parse(translated), "more") == ["+5 phường khác"]


def test_bar_chart_grows_taller_with_more_rows():
    heights = [
        height_of(bar_chart("Open", [(f"W{n}", n) for n in range(count)])) for count in (1, 2, 10)
    ]

    assert heights[0] < heights[1] < heights[2]
    assert heights[2] - heights[1] == pytest.approx(8 * (22 + 6))
    taller = height_of(bar_chart("Open", [("A", 1), ("B", 2)], bar_height=40))
    assert taller - heights[1] == pytest.approx(2 * (40 - 22))


def test_bar_chart_truncates_long_labels_and_keeps_the_full_one_for_hover():
    name = "Environmental Sanitation and Urban Greenery Board"

    root = parse(bar_chart("Open", [(name, 1), ("Roads", 2)]))

    shown = texts(root, "bar-label")
    assert shown[0] == name[:27] + "…" and len(shown[0]) == 28
    assert shown[1] == "Roads"
    assert find_all(root, "text", "bar-label")[0].findtext(NS + "title") == name


def test_bar_chart_draws_the_target_line_where_the_target_is():
    rows = [("Roads", 8), ("Water", 2)]

    svg = bar_chart("Median days", rows, target=3, target_label="Target 3 days")

    root = parse(svg)
    longest = bars(svg)[0]
    target = find_all(root, "g", "target")[0]
    line = target.find(NS + "line")
    assert line.get("stroke-dasharray")
    from_baseline = float(line.get("x1")) - float(longest.get("x"))
    assert from_baseline / float(longest.get("width")) == pytest.approx(3 / 8, abs=1e-3)
    assert target.findtext(NS + "text") == "Target 3 days"


def test_a_target_beyond_every_bar_widens_the_scale_to_show_it():
    svg = bar_chart("Median days", [("Roads", 2), ("Water", 1)], target=4)

    longest = bars(svg)[0]
    target = find_all(parse(svg), "g", "target")[0]
    from_baseline = float(target.find(NS + "line").get("x1")) - float(longest.get("x"))
    assert float(longest.get("width")) / from_baseline == pytest.approx(2 / 4, abs=1e-3)
    assert target.findtext(NS + "text") == "4"  # no label given: the target's value
    assert float(target.find(NS + "line").get("x1")) < 640


def test_everything_on_a_bar_chart_stays_inside_its_width():
    rows = [("W" * 40, 123456.789), ("Roads", 3)]

    root = parse(
        bar_chart("Open", rows, value_format="{:,.2f} reports", target=2e5, target_label="Goal")
    )

    width = float(root.get("viewBox").split()[2])
    for bar in find_all(root, "rect", "bar"):
        assert float(bar.get("x")) >= 0 and float(bar.get("x")) + float(bar.get("width")) <= width
    for value in find_all(root, "text", "bar-value"):
        assert float(value.get("x")) + len(value.text) * 11 * 0.6 <= width
    caption = find_all(root, "g", "target")[0].find(NS + "text")
    reach = {"start": 1, "middle": 0.5, "end": 0}[caption.get("text-anchor")]
    assert float(caption.get("x")) + reach * len(caption.text) * 11 * 0.6 <= width


def test_a_narrow_bar_chart_shortens_labels_to_fit_its_label_column():
    name = "Environmental Sanitation and Urban Greenery Board"

    root = parse(bar_chart("Open", [(name, 1)], width=240))

    label = find_all(root, "text", "bar-label")[0]
    shown = texts(root, "bar-label")[0]
    assert shown.endswith("…") and len(shown) < 28
    assert float(label.get("x")) - len(shown) * 11 * 0.6 >= 0
    assert label.findtext(NS + "title") == name
