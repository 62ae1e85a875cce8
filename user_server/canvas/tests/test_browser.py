"""End to end: a person draws on the page in headless Chromium and both real services answer."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from canvas.tests.e2e import (
    GUESS_TIMEOUT,
    LOOPBACK,
    Servers,
    Visit,
    canvas_box,
    expect_guess,
    get_json,
    has_ink,
    open_page,
    preview_lit,
    ready,
)
from canvas.tests.strokes import DIGITS, draw_with_finger, draw_with_mouse, draw_with_pen, part

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("digit", ["1", "7", "0"])
def test_a_digit_drawn_with_the_mouse_is_guessed(visit: Visit, digit: str) -> None:
    page = ready(visit)
    draw_with_mouse(page, DIGITS[digit], canvas_box(page))
    expect_guess(page, digit)
    expect(page.get_by_test_id("confidence")).to_have_text(re.compile(r"\d+% sure"))
    expect(page.get_by_test_id("probabilities").get_by_role("listitem")).to_have_count(10)
    assert page.get_by_test_id("canvas").get_attribute("data-pointer") == "mouse"
    assert not visit.console_errors


def test_a_guess_moves_nothing_on_the_page(visit: Visit) -> None:
    page = ready(visit)
    parts = ["canvas", "predict", "prediction", "confidence", "probabilities", "preview", "feedback"]

    def places() -> dict[str, tuple[float, float, float]]:  # where each part starts, and its height
        boxes = {name: page.get_by_test_id(name).bounding_box() for name in parts}
        return {name: (box["x"], box["y"], box["height"]) for name, box in boxes.items()}

    before = places()
    draw_with_mouse(page, DIGITS["7"], canvas_box(page))
    expect_guess(page, "7")
    assert places() == before


def test_the_page_guesses_while_the_stroke_is_still_being_drawn(visit: Visit) -> None:
    page = ready(visit)
    box = canvas_box(page)
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    with page.expect_request(lambda request: request.url.endswith("/predict")):
        page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.8 * box["height"], steps=20)
    page.mouse.up()
    expect_guess(page, "1")


def test_a_late_answer_for_an_older_drawing_is_never_shown(visit: Visit, servers: Servers) -> None:
    page = ready(visit)
    held = []

    def hold_the_first_guess(route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/predict", hold_the_first_guess)
    draw_with_mouse(page, DIGITS["1"], canvas_box(page))
    page.get_by_test_id("predict").click()
    expect_guess(page, "1")
    assert held
    stale = {"model": servers.model, "digit": 3, "confidence": 0.9, "probabilities": [0.1] * 10}
    headers = {"Access-Control-Allow-Origin": servers.user.url}
    with contextlib.suppress(PlaywrightError):  # the page may have aborted that request already
        held[0].fulfill(status=200, json=stale, headers=headers)
    page.wait_for_timeout(500)
    expect(page.get_by_test_id("prediction")).to_have_text("1")


def test_the_predict_button_asks_again_and_shows_what_the_model_saw(visit: Visit) -> None:
    page = ready(visit)
    draw_with_mouse(page, DIGITS["7"], canvas_box(page))
    expect_guess(page, "7")
    with page.expect_response(lambda response: response.url.endswith("/predict")) as answer:
        page.get_by_test_id("predict").click()
    seen = answer.value.json()["input"]
    assert len(seen) == 28 and all(len(row) == 28 for row in seen)
    assert preview_lit(page)


def test_a_digit_drawn_with_a_finger_on_a_phone_is_guessed_without_scrolling(browser, servers: Servers) -> None:
    with open_page(
        browser, servers, viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True
    ) as visit:
        page = ready(visit)
        canvas = page.get_by_test_id("canvas")
        canvas.scroll_into_view_if_needed()
        box = canvas_box(page)
        assert box["width"] >= 390 - 72  # the phone's width, less the page's and the card's padding
        assert abs(box["width"] - box["height"]) < 1
        assert canvas.evaluate("c => c.width") == round(box["width"] * 3)  # sharp at the device's pixel ratio
        scrolled = page.evaluate("() => window.scrollY")
        draw_with_finger(page, DIGITS["7"], box)
        expect_guess(page, "7")
        assert canvas.get_attribute("data-pointer") == "touch"
        assert page.evaluate("() => window.scrollY") == scrolled
        assert not visit.console_errors
        assert visit.hosts() <= LOOPBACK


def test_a_digit_drawn_with_a_pen_is_guessed(visit: Visit) -> None:
    page = ready(visit)
    draw_with_pen(page, DIGITS["7"], canvas_box(page))
    expect_guess(page, "7")
    assert page.get_by_test_id("canvas").get_attribute("data-pointer") == "pen"


def test_another_model_answers_once_picked_and_is_remembered(visit: Visit, servers: Servers) -> None:
    page = ready(visit)
    select = page.get_by_test_id("model-select")
    assert select.input_value() == servers.model
    other = "knn" if servers.model != "knn" else "ann"
    select.select_option(other)
    with page.expect_response(lambda response: response.url.endswith("/predict")) as answer:
        draw_with_mouse(page, DIGITS["1"], canvas_box(page))
    assert answer.value.json()["model"] == other
    expect_guess(page, "1")
    expect(page.get_by_test_id("answered-by")).to_have_attribute("data-model", other)
    page.reload()
    expect(ready(visit).get_by_test_id("model-select")).to_have_value(other)


def test_model_select_shows_names_and_accuracies(visit: Visit) -> None:
    page = ready(visit)
    labels = page.get_by_test_id("model-select").locator("option").all_inner_texts()
    assert len(labels) >= 2
    assert all(re.search(r"\d+\.\d%", label) for label in labels), labels


def test_undo_and_clear_by_button_and_keyboard(visit: Visit) -> None:
    page = ready(visit)
    box = canvas_box(page)
    prediction = page.get_by_test_id("prediction")
    draw_with_mouse(page, DIGITS["1"], box)
    expect_guess(page, "1")
    draw_with_mouse(page, DIGITS["0"], box)
    expect(page.get_by_test_id("result")).to_have_attribute("aria-busy", "false", timeout=GUESS_TIMEOUT)
    assert prediction.inner_text() != "1"
    page.get_by_test_id("undo").click()
    expect_guess(page, "1")
    page.keyboard.press("Control+z")
    expect(prediction).to_have_text("")
    assert not has_ink(page)

    draw_with_mouse(page, DIGITS["7"], box)
    expect_guess(page, "7")
    page.get_by_test_id("clear").click()
    expect(prediction).to_have_text("")
    assert not has_ink(page)

    draw_with_mouse(page, DIGITS["0"], box)
    expect_guess(page, "0")
    page.keyboard.press("Escape")
    expect(prediction).to_have_text("")
    assert not has_ink(page)
    assert not visit.console_errors


def test_feedback_on_a_wrong_guess_is_stored_by_the_ml_server(visit: Visit, servers: Servers) -> None:
    page = ready(visit)
    before = get_json(servers.ml.url + "/feedback/stats")[1]
    draw_with_mouse(page, DIGITS["7"], canvas_box(page))
    expect_guess(page, "7")
    with page.expect_request(lambda request: request.url.endswith("/feedback")) as sent:
        page.get_by_test_id("feedback").get_by_role("button", name="The right digit is 1").click()
    body = json.loads(sent.value.post_data)
    assert body["label"] == 1 and body["predicted"] == 7 and body["model"] == servers.model
    assert body["image"].startswith("data:image/png;base64,")
    expect(page.get_by_test_id("feedback-note")).to_have_text(re.compile("Thank you"))
    after = get_json(servers.ml.url + "/feedback/stats")[1]
    assert after["count"] == before.get("count", 0) + 1
    assert after["by_label"]["1"] == before.get("by_label", {}).get("1", 0) + 1
    assert not visit.console_errors


def test_a_number_drawn_in_number_mode_is_read_whole(visit: Visit) -> None:
    page = ready(visit)
    page.get_by_test_id("mode-number").check()
    box = canvas_box(page)
    assert box["width"] == pytest.approx(2 * box["height"], rel=0.01)
    draw_with_mouse(page, DIGITS["4"], part(box, 0.12, 0.36))
    draw_with_mouse(page, DIGITS["2"], part(box, 0.52, 0.36))
    expect_guess(page, "42")
    expect(page.get_by_test_id("boxes").locator(".box")).to_have_count(2)
    expect(page.get_by_test_id("number-digits").locator("li")).to_have_count(2)
    assert not visit.console_errors


def test_an_unreachable_ml_server_shows_an_error_and_the_page_recovers(visit: Visit, servers: Servers) -> None:
    page = ready(visit)
    error = page.get_by_test_id("error")
    expect(error).to_be_hidden()
    servers.ml.stop()
    try:
        draw_with_mouse(page, DIGITS["7"], canvas_box(page))
        expect(error).to_be_visible(timeout=GUESS_TIMEOUT)
        expect(error).to_contain_text("be reached")
        # What the answer shows at the moment the banner goes.
        page.evaluate(
            """() => {
              const banner = document.querySelector('[data-testid="error"]');
              new MutationObserver(() => {
                const answer = document.querySelector('[data-testid="prediction"]');
                if (banner.hidden) window.answerWhenBannerWent = answer.textContent;
              }).observe(banner, { attributes: true, attributeFilter: ["hidden"] });
            }"""
        )
    finally:
        servers.ml.start()
    expect(error).to_be_hidden(timeout=GUESS_TIMEOUT)
    expect_guess(page, "7")
    assert page.evaluate("() => window.answerWhenBannerWent") == "7"  # gone with the answer, not before it
    # While the server was down the browser logged the refused connections, and nothing else.
    assert all("ERR_CONNECTION_REFUSED" in message for message in visit.console_errors), visit.console_errors
