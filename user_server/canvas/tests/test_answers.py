"""How answers are shown: live guesses marked provisional and never announced, one polite live
region, a visible loading state for a model not loaded yet, and "Not a digit?" with the closest
digit small beside it (for one digit and for a piece of a number)."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from canvas.tests.e2e import GUESS_TIMEOUT, Servers, Visit, canvas_box, expect_guess, get_json, ready
from canvas.tests.strokes import DIGITS, NOT_DIGITS, draw_with_mouse, part, place

pytestmark = pytest.mark.browser

# Every text the live region ever holds, in order.
RECORD_ANNOUNCEMENTS = """() => {
  window.announced = [];
  const region = document.querySelector('[data-testid="announcer"]');
  new MutationObserver(() => window.announced.push(region.textContent)).observe(region, {
    childList: true, characterData: true, subtree: true,
  });
}"""
LIVE_REGIONS = """() => document.querySelectorAll(
  '[aria-live], [role=alert], [role=status], [role=log], [role=marquee], [role=timer], output'
).length"""


def test_live_guesses_are_provisional_and_only_the_final_answer_is_announced(visit: Visit) -> None:
    page = ready(visit)
    assert page.evaluate(LIVE_REGIONS) == 1
    assert page.get_by_test_id("announcer").get_attribute("aria-live") == "polite"
    page.evaluate(RECORD_ANNOUNCEMENTS)
    points = place(DIGITS["0"][0], canvas_box(page))
    page.mouse.move(*points[0])
    page.mouse.down()
    half = len(points) // 2
    for point in points[1:half]:
        page.mouse.move(*point, steps=4)
    with page.expect_response(lambda response: response.url.endswith("/predict")):
        page.mouse.move(*points[half], steps=4)  # still drawing when the live answer arrives
    expect(page.get_by_test_id("provisional")).to_be_visible()
    expect(page.get_by_test_id("result")).to_have_attribute("data-state", "provisional")
    for point in points[half + 1 :]:
        page.mouse.move(*point, steps=4)
    page.mouse.up()
    expect_guess(page, "0")
    expect(page.get_by_test_id("provisional")).to_be_hidden()
    announced = page.evaluate("() => window.announced")
    assert len(announced) == 1 and re.fullmatch(r"0, \d+% sure\.", announced[0]), announced
    assert page.evaluate(LIVE_REGIONS) == 1


def test_a_model_still_loading_shows_it_instead_of_the_old_answer(visit: Visit, servers: Servers) -> None:
    page = ready(visit)
    listing = get_json(servers.ml.url + "/list")[1]
    not_loaded = [entry["name"] for entry in listing["models"] if not entry["loaded"]]
    assert not_loaded, "every model is loaded already"
    other = next((name for name in ("svm", "rf", "ann_bn") if name in not_loaded), not_loaded[0])
    page.reload()  # so the page's list says which models are loaded now
    ready(visit)
    draw_with_mouse(page, DIGITS["7"], canvas_box(page))
    expect_guess(page, "7")
    held = []
    page.route("**/predict", lambda route: held.append(route))
    page.get_by_test_id("model-select").select_option(other)
    expect(page.get_by_test_id("model-loading")).to_be_visible()
    expect(page.get_by_test_id("model-loading")).to_contain_text("Loading")
    expect(page.get_by_test_id("prediction")).to_have_text("")
    expect(page.get_by_test_id("answered-by")).to_have_text("")
    page.wait_for_timeout(200)
    assert held
    held[-1].continue_()
    expect_guess(page, "7")
    page.unroute("**/predict")
    expect(page.get_by_test_id("model-loading")).to_be_hidden()
    expect(page.get_by_test_id("answered-by")).to_have_attribute("data-model", other)


def doubted(route, servers: Servers) -> None:
    """The real answer, marked `not_a_digit` (for one digit, or for the number's last piece)."""
    response = route.fetch()
    answer = response.json()
    if "digits" in answer:
        answer["digits"][-1]["not_a_digit"] = True
    else:
        answer["not_a_digit"] = True
    with contextlib.suppress(PlaywrightError):  # the page may have moved on and aborted it
        route.fulfill(
            response=response,
            body=json.dumps(answer),
            headers={
                **response.headers,
                "access-control-allow-origin": servers.user.url,
            },
        )


def test_an_answer_flagged_not_a_digit_reads_not_a_digit_with_the_closest_digit(visit: Visit, servers: Servers) -> None:
    """The display itself, whatever the committed model flags: the server's answer is marked."""
    page = ready(visit)
    doubt = page.get_by_test_id("not-a-digit")
    expect(doubt).to_be_hidden()
    page.route("**/predict", lambda route: doubted(route, servers))
    draw_with_mouse(page, DIGITS["7"], canvas_box(page))
    expect_guess(page, "7")  # `prediction` holds exactly the closest digit
    expect(doubt).to_be_visible()
    expect(doubt).to_have_text("Not a digit?")
    expect(page.get_by_test_id("confidence")).to_have_text(re.compile(r"^\d+%$"))
    closest = page.get_by_test_id("prediction").evaluate("e => getComputedStyle(e, '::before').content")
    assert closest == '"closest: "'
    big = float(doubt.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    small = float(page.get_by_test_id("prediction").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert big > 1.5 * small
    page.unroute("**/predict")
    page.get_by_test_id("clear").click()
    draw_with_mouse(page, DIGITS["1"], canvas_box(page))
    expect_guess(page, "1")
    expect(doubt).to_be_hidden()

    page.route("**/predict/number", lambda route: doubted(route, servers))
    page.get_by_test_id("mode-number").check()
    box = canvas_box(page)
    draw_with_mouse(page, DIGITS["4"], part(box, 0.12, 0.36))
    draw_with_mouse(page, DIGITS["2"], part(box, 0.52, 0.36))
    expect_guess(page, "42")
    pieces = page.get_by_test_id("piece-not-a-digit")
    expect(pieces.nth(0)).to_be_hidden()
    expect(pieces.nth(1)).to_be_visible()
    expect(page.get_by_test_id("number-digits").locator("li").nth(1)).to_contain_text(re.compile(r"closest: 2, \d+%"))
    expect(doubt).to_be_hidden()


@pytest.mark.parametrize("drawing", list(NOT_DIGITS))
def test_a_letter_a_cross_and_a_scribble_read_not_a_digit(visit: Visit, drawing: str) -> None:
    """Issue 15: drawn with the mouse, answered by the committed default model."""
    page = ready(visit)
    draw_with_mouse(page, NOT_DIGITS[drawing], canvas_box(page))
    with page.expect_response(lambda response: response.url.endswith("/predict")) as answer:
        page.get_by_test_id("predict").click()  # the answer for the whole drawing, not for its first stroke
    expect(page.get_by_test_id("result")).to_have_attribute("data-state", "final", timeout=GUESS_TIMEOUT)
    assert answer.value.json()["not_a_digit"], answer.value.json()
    expect(page.get_by_test_id("not-a-digit")).to_be_visible()
    expect(page.get_by_test_id("prediction")).to_have_text(re.compile(r"^\d$"))
