"""Corrections: nothing to press (and the reason shown) until there is an answer; "That's right" and
the right digit for one digit; each digit of a number tapped and corrected on a phone, then the
whole number saved, all stored by the ml_server."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from canvas.tests.e2e import SCREENS, Servers, Visit, canvas_box, expect_guess, get_json, open_page, ready
from canvas.tests.strokes import DIGITS, draw_with_finger, draw_with_mouse, part

pytestmark = pytest.mark.browser

LOOKS = "b => { const s = getComputedStyle(b); return [s.color, s.borderColor, s.backgroundColor, s.outlineStyle]; }"


def test_a_digit_is_confirmed_only_once_there_is_an_answer(visit: Visit, servers: Servers) -> None:
    page = ready(visit)
    feedback = page.get_by_test_id("feedback")
    digit_buttons = feedback.locator(".digit-buttons button")
    confirm = page.get_by_test_id("confirm")
    expect(confirm).to_be_disabled()
    for index in range(10):
        expect(digit_buttons.nth(index)).to_be_disabled()
    expect(page.get_by_test_id("feedback-title")).to_have_text(re.compile("Draw a digit first"))

    before = get_json(servers.ml.url + "/feedback/stats")[1]
    draw_with_mouse(page, DIGITS["7"], canvas_box(page))
    expect_guess(page, "7")
    expect(confirm).to_be_enabled()
    expect(confirm).to_have_text("That\u2019s right")
    guessed = feedback.get_by_role("button", name="The right digit is 7")
    other = feedback.get_by_role("button", name="The right digit is 3")
    expect(guessed).to_be_enabled()
    assert guessed.evaluate(LOOKS) == other.evaluate(LOOKS)  # the guess is not shown as already chosen

    with page.expect_request(lambda request: request.url.endswith("/feedback")) as sent:
        confirm.click()
    body = json.loads(sent.value.post_data)
    assert (body["label"], body["predicted"], body["model"]) == (7, 7, servers.model)
    expect(page.get_by_test_id("feedback-note")).to_have_text("Thank you! Saved as a 7.")
    expect(confirm).to_be_disabled()
    after = get_json(servers.ml.url + "/feedback/stats")[1]
    assert after["by_label"]["7"] == before["by_label"]["7"] + 1
    assert after["model_accuracy"][servers.model] >= before.get("model_accuracy", {}).get(servers.model, 0)

    page.get_by_test_id("clear").click()
    expect(confirm).to_be_disabled()
    expect(guessed).to_be_disabled()


def test_each_digit_of_a_number_is_corrected_by_touch_and_the_number_saved(browser, servers: Servers) -> None:
    with open_page(browser, servers, **SCREENS["phone"]) as visit:
        page = ready(visit)
        page.get_by_test_id("mode-number").tap()
        expect(page.get_by_test_id("feedback-title")).to_have_text(re.compile("Write a number first"))
        box = canvas_box(page)
        draw_with_finger(page, DIGITS["4"], part(box, 0.12, 0.36))
        draw_with_finger(page, DIGITS["2"], part(box, 0.52, 0.36))
        expect_guess(page, "42")
        before = get_json(servers.ml.url + "/feedback/stats")[1]["numbers"]
        pieces = page.get_by_test_id("number-digits").get_by_role("button")
        expect(pieces).to_have_count(2)
        digit_buttons = page.get_by_test_id("feedback").locator(".digit-buttons button")
        expect(digit_buttons.first).to_be_disabled()  # which digit? tap one of the number first

        pieces.nth(1).tap()
        expect(pieces.nth(1)).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_test_id("feedback-title")).to_have_text(re.compile("Digit 2 of the number"))
        page.get_by_role("button", name="The right digit is 3").tap()
        expect(pieces.nth(1).locator(".digit")).to_have_text("3")
        confirm = page.get_by_test_id("confirm")
        expect(confirm).to_have_text("Save 43 as right")

        with page.expect_request(lambda request: request.url.endswith("/feedback/number")) as sent:
            confirm.tap()
        body = json.loads(sent.value.post_data)
        assert [item["label"] for item in body["digits"]] == [4, 3]
        assert [item["predicted"] for item in body["digits"]] == [4, 2]
        assert all(len(item["box"]) == 4 for item in body["digits"])
        assert body["image"].startswith("data:image/png;base64,")
        expect(page.get_by_test_id("feedback-note")).to_have_text("Thank you! Saved as 43.")
        assert get_json(servers.ml.url + "/feedback/stats")[1]["numbers"] == before + 1
        assert not visit.console_errors
