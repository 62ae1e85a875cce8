"""`POST /feedback` and `GET /feedback/stats`: thin views that validate, call one service, answer.

The database may be down while the models still serve: every database error here becomes the
contract's `503 database_unavailable`, and `/predict` (which never touches the database) is unaffected.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from core.errors import ApiError, error_response
from core.parsers import BufferedMultiPartParser, LenientJSONParser
from django.db import Error as DatabaseError
from django.http import QueryDict
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from predictions.inputs import parse_digit_input, preprocess_api_error, read_image_bytes, require_object
from predictions.serializers import ErrorSerializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from digits.config import NUM_CLASSES
from digits.preprocess import PreprocessError
from digits.segment import MAX_DIGITS
from digits.zoo import ZOO
from feedback.selectors import feedback_stats
from feedback.services import feedback_create, number_feedback_create

logger = logging.getLogger(__name__)
ASCII_INTEGER = re.compile(r"[0-9]+")


class DigitField(serializers.IntegerField):
    """A digit 0..9: a JSON integer (booleans, floats and strings refused), or a decimal string in a form."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=0, max_value=NUM_CLASSES - 1, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        from_form = self.context.get("form", False)
        if isinstance(data, bool) or not isinstance(data, str if from_form else int):
            self.fail("invalid")
        if isinstance(data, str) and not ASCII_INTEGER.fullmatch(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """Only a JSON string: DRF's CharField would quietly turn 5 into "5"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ModelNameField(TextField):
    """The model that guessed: optional, and when given, one the zoo knows."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_blank=True, allow_null=True, max_length=64, **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> str:
        value = super().run_validation(data)  # type and length first: a 400 before any 404
        if value and value not in ZOO:
            raise ApiError(f"Unknown model '{value}'; see GET /list.", code="unknown_model", status_code=404)
        return value or ""


class NumberDigitFeedbackSerializer(serializers.Serializer):
    """One digit of a confirmed or corrected number."""

    label = DigitField(help_text="The right digit.")
    predicted = DigitField(required=False, allow_null=True, default=None, help_text="The digit the model read.")
    box = serializers.ListField(
        child=serializers.IntegerField(min_value=0),
        min_length=4,
        max_length=4,
        help_text="[x, y, w, h] in the picture's pixels, as /predict/number answered it.",
    )

    def validate_box(self, value: list[int]) -> list[int]:
        if value[2] == 0 or value[3] == 0:
            raise serializers.ValidationError("A box has a width and a height of at least 1.")
        return value


ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in {
        400: "invalid_request (bad label, predicted or model), invalid_image, invalid_pixels, empty_image",
        404: "unknown_model",
        413: "too_large: body over 5 MB or image over 25 megapixels",
        415: "unsupported_media_type",
        429: "throttled",
        503: "database_unavailable",
    }.items()
}


def database_unavailable(error: DatabaseError) -> Response:
    logger.error("feedback database unavailable: %s", error)
    return error_response("database_unavailable", "The feedback database is unavailable; try again later.", 503)


class FeedbackCreateApi(APIView):
    """POST /feedback: store one correction (drawing, model input, true digit, guess, model)."""

    parser_classes = [LenientJSONParser, BufferedMultiPartParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "feedback"

    class InputSerializer(serializers.Serializer):
        label = DigitField(help_text="The digit the drawing really is.")
        predicted = DigitField(required=False, allow_null=True, help_text="The digit the model guessed.")
        model = ModelNameField()

    class FeedbackRequestSerializer(InputSerializer):
        """Documentation only: the drawing fields are read by `predictions.inputs`, shared with /predict."""

        image = serializers.CharField(
            required=False, help_text="PNG/JPEG/WebP/BMP as base64 or a data URL (or a multipart file)."
        )
        pixels = serializers.ListField(
            child=serializers.FloatField(), required=False, help_text="28x28 (or 784) numbers, 0..1 or 0..255."
        )

    @extend_schema(
        operation_id="feedback_create",
        summary="Tell the right digit for a drawing",
        request={"application/json": FeedbackRequestSerializer, "multipart/form-data": FeedbackRequestSerializer},
        responses={201: inline_serializer("FeedbackCreated", {"id": serializers.IntegerField()}), **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = require_object(request.data)
        serializer = self.InputSerializer(data=data, context={"form": isinstance(data, QueryDict)})
        serializer.is_valid(raise_exception=True)
        drawing = parse_digit_input(data, request.FILES)
        try:
            feedback = feedback_create(
                model_input=drawing.pixels,
                image_bytes=drawing.image_bytes,
                label=serializer.validated_data["label"],
                predicted=serializer.validated_data.get("predicted"),
                model_name=serializer.validated_data.get("model") or "",
            )
        except DatabaseError as error:
            return database_unavailable(error)
        return Response({"id": feedback.pk}, status=status.HTTP_201_CREATED)


class NumberFeedbackCreateApi(APIView):
    """POST /feedback/number: store one confirmed or corrected number (drawing, each digit's box,
    right digit and guess, model). The boxes are the ones `/predict/number` answered."""

    parser_classes = [LenientJSONParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "feedback"

    class InputSerializer(serializers.Serializer):
        digits = serializers.ListField(child=NumberDigitFeedbackSerializer(), min_length=1, max_length=MAX_DIGITS)
        model = ModelNameField()

    class RequestSerializer(InputSerializer):
        """Documentation only: the picture is read by `predictions.inputs`, shared with /predict/number."""

        image = serializers.CharField(help_text="PNG/JPEG/WebP/BMP as base64 or a data URL.")

    @extend_schema(
        operation_id="number_feedback_create",
        summary="Confirm or correct a whole number",
        request={"application/json": RequestSerializer},
        responses={201: inline_serializer("NumberFeedbackCreated", {"id": serializers.IntegerField()}), **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = require_object(request.data)
        serializer = self.InputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        image_bytes = read_image_bytes(data)
        try:
            feedback = number_feedback_create(
                image_bytes=image_bytes,
                digits=[dict(item) for item in serializer.validated_data["digits"]],
                model_name=serializer.validated_data.get("model") or "",
            )
        except PreprocessError as error:
            raise preprocess_api_error(error) from error
        except DatabaseError as error:
            return database_unavailable(error)
        return Response({"id": feedback.pk}, status=status.HTTP_201_CREATED)


class FeedbackStatsApi(APIView):
    """GET /feedback/stats: counts and per-model accuracy over the stored corrections."""

    @extend_schema(
        operation_id="feedback_stats",
        summary="How much feedback there is, per digit, and each model's accuracy on it",
        responses={
            200: inline_serializer(
                "FeedbackStats",
                {
                    "count": serializers.IntegerField(),
                    "by_label": serializers.DictField(child=serializers.IntegerField()),
                    "model_accuracy": serializers.DictField(child=serializers.FloatField()),
                    "numbers": serializers.IntegerField(),
                },
            ),
            503: ERRORS[503],
        },
    )
    def get(self, request: Request) -> Response:  # noqa: ARG002 - DRF's signature
        try:
            return Response(feedback_stats())
        except DatabaseError as error:
            return database_unavailable(error)
