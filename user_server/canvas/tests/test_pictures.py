"""Pictures instead of drawings: a phone photo of a digit written on paper (made by `digits.paper`)
given through the file picker, dropped on the page and pasted, is read, and the page shows what
the model saw."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from canvas.tests.e2e import SCREENS, Servers, Visit, expect_guess, open_page, preview_lit, ready
from digits.paper import paper_photo
from digits.pen_strokes import DIGITS

pytestmark = pytest.mark.browser

GIVE = """([how, encoded]) => {
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "photo.jpg", { type: "image/jpeg" }));
  if (how === "drop") {
    const pad = document.getElementById("pad");
    for (const type of ["dragenter", "dragover", "drop"]) {
      pad.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }
  } else {
    document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
  }
}"""


def photo_of(digit: str) -> bytes:
    return paper_photo(DIGITS[digit], seed=int(digit))


def test_a_photo_of_paper_is_read_from_the_picker_a_drop_and_a_paste(visit: Visit) -> None:
    page = ready(visit)
    upload = page.get_by_test_id("upload")
    assert upload.get_attribute("accept") == "image/*"
    assert upload.get_attribute("capture") is not None  # phones offer the camera

    upload.set_input_files(files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": photo_of("4")}])
    expect_guess(page, "4")
    expect(page.get_by_test_id("photo")).to_be_visible()
    assert preview_lit(page)
    expect(page.get_by_test_id("confirm")).to_be_enabled()

    page.evaluate(GIVE, ["drop", base64.b64encode(photo_of("7")).decode("ascii")])
    expect_guess(page, "7")
    page.evaluate(GIVE, ["paste", base64.b64encode(photo_of("2")).decode("ascii")])
    expect_guess(page, "2")

    page.get_by_test_id("clear").click()
    expect(page.get_by_test_id("photo")).to_be_hidden()
    expect(page.get_by_test_id("prediction")).to_have_text("")
    assert not visit.console_errors


def test_a_photo_from_a_phone_is_read_in_number_mode_too(browser, servers: Servers) -> None:
    with open_page(browser, servers, **SCREENS["phone"]) as visit:
        page = ready(visit)
        page.get_by_test_id("mode-number").tap()
        page.get_by_test_id("upload").set_input_files(
            files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": photo_of("7")}]
        )
        expect_guess(page, "7")
        expect(page.get_by_test_id("boxes").locator(".box")).to_have_count(1)
        box = page.get_by_test_id("boxes").locator(".box").bounding_box()
        shown = page.get_by_test_id("photo").bounding_box()
        assert shown["x"] <= box["x"] and box["x"] + box["width"] <= shown["x"] + shown["width"]
        assert not visit.console_errors
