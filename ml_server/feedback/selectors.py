"""Reading feedback back: the summary behind `GET /feedback/stats`."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from digits.config import NUM_CLASSES
from feedback.models import CORRECT, GUESSED, Feedback, NumberFeedback


def feedback_stats() -> dict[str, Any]:
    """How many corrections there are, per true digit, and how often each model's guess was right
    (over the rows that report both a guess and a model), computed by the database in three queries;
    `numbers` counts the whole numbers confirmed or corrected (`POST /feedback/number`)."""
    by_label = {str(digit): 0 for digit in range(NUM_CLASSES)}
    for row in Feedback.objects.order_by().values("label").annotate(n=Count("id")):
        by_label[str(row["label"])] = row["n"]
    judged = Feedback.objects.filter(GUESSED).exclude(model_name="").order_by().values("model_name")
    model_accuracy = {
        row["model_name"]: round(row["right"] / row["total"], 4)
        for row in judged.annotate(total=Count("id"), right=Count("id", filter=CORRECT)).order_by("model_name")
    }
    return {
        "count": sum(by_label.values()),
        "by_label": by_label,
        "model_accuracy": model_accuracy,
        "numbers": NumberFeedback.objects.count(),
    }
