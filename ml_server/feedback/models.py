"""A correction a person gave: the drawing, what the model saw, the true digit and the guess."""

from __future__ import annotations

import numpy as np
from django.db import models
from django.db.models import F, Q

from digits.config import IMAGE_SIZE, NUM_CLASSES

INPUT_DTYPE = np.dtype("<f4")  # the 28x28 model input is stored as little-endian float32 bytes


class Feedback(models.Model):
    image_png = models.BinaryField(
        help_text="The drawing as PNG (rendered from the pixels when only pixels were sent)."
    )
    model_input = models.BinaryField(help_text="The 28x28 float32 input (0..1, row-major) the model saw.")
    label = models.PositiveSmallIntegerField(help_text="The digit the person says it is.")
    predicted = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The digit the model guessed.")
    model_name = models.CharField(max_length=64, blank=True, default="", help_text="The model that guessed.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "feedback"
        indexes = [models.Index(fields=["label"]), models.Index(fields=["model_name"])]
        constraints = [
            models.CheckConstraint(condition=Q(label__lt=NUM_CLASSES), name="feedback_label_is_a_digit"),
            models.CheckConstraint(
                condition=Q(predicted__isnull=True) | Q(predicted__lt=NUM_CLASSES),
                name="feedback_predicted_is_a_digit",
            ),
        ]

    def __str__(self) -> str:
        guess = "" if self.predicted is None else f", {self.model_name or 'model'} said {self.predicted}"
        return f"#{self.pk}: a {self.label}{guess}"

    @property
    def is_correct(self) -> bool | None:
        """Whether the model's guess was right; None when no guess was reported."""
        return None if self.predicted is None else self.predicted == self.label

    def input_array(self) -> np.ndarray:
        """The stored model input as float32 (28, 28)."""
        return input_from_bytes(self.model_input)


def input_to_bytes(model_input: np.ndarray) -> bytes:
    """How a (28, 28) model input is stored: 784 little-endian float32, row-major."""
    return np.ascontiguousarray(model_input, dtype=INPUT_DTYPE).reshape(IMAGE_SIZE, IMAGE_SIZE).tobytes()


def input_from_bytes(raw: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(raw), dtype=INPUT_DTYPE).reshape(IMAGE_SIZE, IMAGE_SIZE).astype(np.float32)


CORRECT = Q(predicted=F("label"))
GUESSED = Q(predicted__isnull=False)


class NumberFeedback(models.Model):
    """A whole number a person confirmed or corrected: the drawing and, for each digit the page
    showed, its box in the drawing, the right digit and the model's guess."""

    image_png = models.BinaryField(help_text="The drawing of the number as PNG.")
    digits = models.JSONField(help_text='Left to right: [{"label", "predicted" (or null), "box": [x, y, w, h]}, ...].')
    model_name = models.CharField(max_length=64, blank=True, default="", help_text="The model that guessed.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "number feedback"
        verbose_name_plural = "number feedback"

    def __str__(self) -> str:
        guess = "" if self.predicted is None else f", {self.model_name or 'model'} said {self.predicted}"
        return f"#{self.pk}: {self.label}{guess}"

    @property
    def label(self) -> str:
        """The number the person says it is."""
        return "".join(str(item["label"]) for item in self.digits)

    @property
    def predicted(self) -> str | None:
        """The number the model read; None when any digit's guess was not reported."""
        guesses = [item.get("predicted") for item in self.digits]
        return None if None in guesses else "".join(map(str, guesses))
