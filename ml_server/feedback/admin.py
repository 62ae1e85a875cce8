"""The Django admin for feedback: the only place stored drawings can be listed (staff login only).

Rows are read-only evidence of what people drew; they may be deleted (e.g. junk), never edited."""

from __future__ import annotations

import base64
import io

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from PIL import Image, UnidentifiedImageError

from feedback.models import CORRECT, GUESSED, Feedback, NumberFeedback
from feedback.services import input_png

THUMBNAIL_SIZE = 56


class CorrectnessFilter(admin.SimpleListFilter):
    title = "model guess"
    parameter_name = "guess"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:  # noqa: ARG002 - Django's signature
        return [("right", "right"), ("wrong", "wrong"), ("none", "no guess reported")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Feedback]) -> QuerySet[Feedback]:  # noqa: ARG002 - Django's signature
        if self.value() == "right":
            return queryset.filter(GUESSED & CORRECT)
        if self.value() == "wrong":
            return queryset.filter(GUESSED).exclude(CORRECT)
        if self.value() == "none":
            return queryset.filter(predicted__isnull=True)
        return queryset


class EvidenceAdmin(admin.ModelAdmin):
    """Stored corrections as read-only evidence: listed newest first with a thumbnail, never added or edited."""

    list_display_links = ["id", "thumbnail"]
    list_per_page = 50
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - Django's signature
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:  # noqa: ARG002 - Django's signature
        return False


@admin.register(Feedback)
class FeedbackAdmin(EvidenceAdmin):
    list_display = ["id", "thumbnail", "label", "predicted", "model_name", "correct", "created_at"]
    list_filter = ["label", "model_name", CorrectnessFilter]
    fields = ["drawing", "model_input_image", "label", "predicted", "model_name", "correct", "created_at"]
    readonly_fields = fields

    @admin.display(description="drawing")
    def thumbnail(self, obj: Feedback) -> str:
        return png_img(thumbnail_png(bytes(obj.image_png)), f"drawing of a {obj.label}", THUMBNAIL_SIZE)

    @admin.display(description="drawing")
    def drawing(self, obj: Feedback) -> str:
        return png_img(thumbnail_png(bytes(obj.image_png), 280), f"drawing of a {obj.label}", 280)

    @admin.display(description="28x28 input the model saw")
    def model_input_image(self, obj: Feedback) -> str:
        return png_img(input_png(obj.input_array()), "model input", 140, pixelated=True)

    @admin.display(description="right?", boolean=True)
    def correct(self, obj: Feedback) -> bool | None:
        return obj.is_correct


@admin.register(NumberFeedback)
class NumberFeedbackAdmin(EvidenceAdmin):
    list_display = ["id", "thumbnail", "label", "predicted", "model_name", "created_at"]
    list_filter = ["model_name"]
    fields = ["drawing", "label", "predicted", "digits", "model_name", "created_at"]
    readonly_fields = fields

    @admin.display(description="drawing")
    def thumbnail(self, obj: NumberFeedback) -> str:
        size = 2 * THUMBNAIL_SIZE  # numbers are wide
        return png_img(thumbnail_png(bytes(obj.image_png), size), f"drawing of {obj.label}", size)

    @admin.display(description="drawing")
    def drawing(self, obj: NumberFeedback) -> str:
        return png_img(thumbnail_png(bytes(obj.image_png), 560), f"drawing of {obj.label}", 560)


def thumbnail_png(png: bytes, size: int = THUMBNAIL_SIZE) -> bytes | None:
    """A small PNG of a stored drawing (transparency composited on white); None if it cannot be read."""
    try:
        with Image.open(io.BytesIO(png)) as image:
            image.thumbnail((size, size))
            canvas = Image.new("RGB", image.size, "white")
            rgba = image.convert("RGBA")
            canvas.paste(rgba, mask=rgba.getchannel("A"))
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def png_img(png: bytes | None, alt: str, size: int, *, pixelated: bool = False) -> str:
    if png is None:
        return "(unreadable image)"
    style = "image-rendering: pixelated; " if pixelated else ""
    return format_html(
        '<img src="data:image/png;base64,{}" alt="{}" style="{}max-width: {}px; max-height: {}px; '
        'background: #fff; border: 1px solid #ccc">',
        base64.b64encode(png).decode("ascii"),
        alt,
        style,
        size,
        size,
    )
