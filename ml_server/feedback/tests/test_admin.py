"""The Django admin: staff-only, read-only, thumbnails of the drawings, filters by label/model/right-wrong."""

from __future__ import annotations

import numpy as np
import pytest

from feedback.models import Feedback
from feedback.services import feedback_create, number_feedback_create
from feedback.tests.conftest import draw_seven

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/feedback/feedback/"


@pytest.fixture
def rows() -> list[Feedback]:
    seven = draw_seven()
    pixels = np.zeros((28, 28), dtype=np.float32)
    return [
        feedback_create(model_input=pixels, image_bytes=seven, label=7, predicted=7, model_name="cnn"),
        feedback_create(model_input=pixels, image_bytes=seven, label=7, predicted=1, model_name="cnn"),
        feedback_create(model_input=pixels, label=3, predicted=3, model_name="knn"),
        feedback_create(model_input=pixels, label=2),
    ]


def test_superuser_sees_the_list_with_thumbnails(admin_client, rows):
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert response.context["cl"].result_count == len(rows)
    assert response.content.decode().count('<img src="data:image/png;base64,') == len(rows)


@pytest.mark.parametrize(
    ("query", "expected_labels"),
    [
        ("guess=right", [3, 7]),
        ("guess=wrong", [7]),
        ("guess=none", [2]),
        ("label=7", [7, 7]),
        ("model_name=knn", [3]),
    ],
)
@pytest.mark.usefixtures("rows")
def test_filters_by_right_or_wrong_label_and_model(admin_client, query, expected_labels):
    response = admin_client.get(f"{CHANGELIST}?{query}")

    assert response.status_code == 200
    assert sorted(row.label for row in response.context["cl"].result_list) == expected_labels


def test_a_row_page_is_read_only_and_shows_both_images(admin_client, rows):
    admin_client.raise_request_exception = False  # answer 403 as a server would, rather than raise
    response = admin_client.get(f"{CHANGELIST}{rows[0].pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('<img src="data:image/png;base64,') == 2
    assert 'name="_save"' not in page
    assert admin_client.post(f"{CHANGELIST}{rows[0].pk}/change/", {"label": 1}).status_code == 403
    assert Feedback.objects.get(pk=rows[0].pk).label == 7


def test_nobody_adds_feedback_through_the_admin(admin_client):
    admin_client.raise_request_exception = False
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


@pytest.mark.usefixtures("rows")
def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_numbers_are_listed_read_only_with_their_drawing(admin_client):
    digits = [{"label": 1, "predicted": 7, "box": [0, 0, 50, 50]}, {"label": 2, "predicted": 2, "box": [60, 0, 50, 50]}]
    row = number_feedback_create(image_bytes=draw_seven(), digits=digits, model_name="cnn")

    listing = admin_client.get("/admin/feedback/numberfeedback/")
    detail = admin_client.get(f"/admin/feedback/numberfeedback/{row.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert listing.content.decode().count('<img src="data:image/png;base64,') == 1
    assert "72" in detail.content.decode() and "12" in detail.content.decode()
    assert admin_client.get("/admin/feedback/numberfeedback/add/").status_code == 403
