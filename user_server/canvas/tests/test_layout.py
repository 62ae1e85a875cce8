"""The page on a desktop and on phones held either way: everything fits and is reachable, the answer
sits beside the drawing where there is room, the drawing travels at the server's working size, the
offline banner covers no control, and axe-core finds nothing in any of the states it is shown in."""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import expect

from canvas.tests.e2e import (
    GUESS_TIMEOUT,
    LOOPBACK,
    REPO,
    SCREENS,
    Servers,
    axe_problems,
    canvas_box,
    expect_guess,
    open_page,
    ready,
)
from canvas.tests.strokes import DIGITS, draw_with_finger, draw_with_mouse, part
from digits.preprocess import WORKING_SIDE as MAX_SHORTER_SIDE  # picture.js sends the server's working side

pytestmark = pytest.mark.browser

CONTROLS = ["mode-number", "model-select", "undo", "clear", "predict"]
DOCS = REPO / "docs"
ARTIFACTS = REPO / "test-artifacts"
SELECT_TEXT_WIDTH = """select => {
  const style = getComputedStyle(select);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  return context.measureText(select.selectedOptions[0].text).width;
}"""
SELECT_ROOM = """select => {
  const style = getComputedStyle(select);
  return select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
}"""  # 20 px: the drop-down arrow


# Records the size of every picture the page sends (DevTools cannot read a multipart blob body).
RECORD_SENT_SIZES = """() => {
  const send = window.fetch;
  window.sentSizes = [];
  window.fetch = async (url, init) => {
    const image = init?.body instanceof FormData ? init.body.get("image") : null;
    if (image) {
      const bitmap = await createImageBitmap(image);
      window.sentSizes.push([bitmap.width, bitmap.height]);
    }
    return send(url, init);
  };
}"""


def control_boxes(page) -> dict[str, dict]:
    boxes = {name: page.get_by_test_id(name).bounding_box() for name in CONTROLS}
    boxes["upload"] = page.locator("label.upload").bounding_box()  # the file input's visible button
    boxes["canvas"] = canvas_box(page)
    return boxes


def assert_fits(page, aspect: float) -> None:
    """At the top of the page, the pad and every control are wholly on screen, nothing scrolls
    sideways, and the model picker shows its whole label."""
    page.evaluate("() => window.scrollTo(0, 0)")
    size = page.viewport_size
    for name, box in control_boxes(page).items():
        assert box["x"] >= 0 and box["y"] >= 0, (name, box)
        assert box["x"] + box["width"] <= size["width"] + 0.5, (name, box, size)
        assert box["y"] + box["height"] <= size["height"] + 0.5, (name, box, size)
    pad = canvas_box(page)
    assert pad["width"] / pad["height"] == pytest.approx(aspect, rel=0.02)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= size["width"]
    select = page.get_by_test_id("model-select")
    assert select.evaluate(SELECT_TEXT_WIDTH) <= select.evaluate(SELECT_ROOM), select.input_value()


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def assert_banner_covers_no_control(page) -> None:
    banner = page.get_by_test_id("error").bounding_box()
    controls = page.locator("button:visible, select:visible, label:visible, [data-testid='canvas']")
    for index in range(controls.count()):
        box = controls.nth(index).bounding_box()
        assert not overlaps(banner, box), controls.nth(index).evaluate("e => e.outerHTML.slice(0, 80)")


def keep_screenshot(page, screen: str, state: str) -> None:
    """test-artifacts/ always; docs/ (shown in the README) when missing or when UPDATE_SCREENSHOT=1."""
    name = f"screenshot-{screen}-{state}.png"
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(300)  # the bars' short transition
    page.screenshot(path=str(ARTIFACTS / name))
    if screen in {"desktop", "phone", "phone-landscape"} and (
        os.environ.get("UPDATE_SCREENSHOT") == "1" or not (DOCS / name).exists()
    ):
        shutil.copyfile(ARTIFACTS / name, DOCS / name)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_page_fits_the_screen_and_axe_finds_nothing(browser, servers: Servers, axe_source: str, screen) -> None:
    with open_page(browser, servers, **SCREENS[screen]) as visit:
        page = ready(visit)
        touch = SCREENS[screen].get("has_touch", False)
        draw = draw_with_finger if touch else draw_with_mouse
        wide = page.viewport_size["width"] >= 640
        problems: dict[str, list[str]] = {}
        # A digit.
        assert_fits(page, aspect=1)
        problems["empty"] = axe_problems(page, axe_source)
        page.evaluate(RECORD_SENT_SIZES)
        draw(page, DIGITS["7"], canvas_box(page))
        expect_guess(page, "7")
        width, height = page.evaluate("() => window.sentSizes.at(-1)")
        drawn = page.get_by_test_id("canvas").evaluate("c => Math.min(c.width, c.height)")
        assert min(width, height) == min(MAX_SHORTER_SIDE, drawn), (width, height, drawn)
        if wide:  # the answer beside the drawing
            assert (
                page.get_by_test_id("prediction").bounding_box()["x"]
                > canvas_box(page)["x"] + canvas_box(page)["width"]
            )
        problems["digit"] = axe_problems(page, axe_source)
        keep_screenshot(page, screen, "digit")

        # The service unreachable: the banner shows over the answer, covering no control.
        page.route("**/predict", lambda route: route.abort())
        page.route("**/health", lambda route: route.abort())
        page.get_by_test_id("predict").click()
        expect(page.get_by_test_id("error")).to_be_visible(timeout=GUESS_TIMEOUT)
        assert_banner_covers_no_control(page)
        problems["offline"] = axe_problems(page, axe_source)
        page.unroute("**/predict")
        page.unroute("**/health")
        expect_guess(page, "7")
        expect(page.get_by_test_id("error")).to_be_hidden()

        # A number.
        page.get_by_test_id("mode-number").check()
        assert_fits(page, aspect=2)
        box = canvas_box(page)
        draw(page, DIGITS["4"], part(box, 0.12, 0.36))
        draw(page, DIGITS["2"], part(box, 0.52, 0.36))
        expect_guess(page, "42")
        if wide:
            pieces = page.get_by_test_id("number-digits").bounding_box()
            assert pieces["x"] > box["x"] + box["width"]
            assert pieces["y"] + pieces["height"] <= page.viewport_size["height"]
        problems["number"] = axe_problems(page, axe_source)
        keep_screenshot(page, screen, "number")
        assert not any(problems.values()), problems
        assert visit.hosts() <= LOOPBACK
