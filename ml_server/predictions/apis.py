"""The prediction API: thin views that read the request, call one service and shape the answer."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from core.parsers import BufferedMultiPartParser, LenientJSONParser
from core.throttling import AtomicScopedRateThrottle
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from predictions import metrics
from predictions import serializers as s
from predictions.inputs import (
    parse_digit_input,
    parse_instances,
    read_image_bytes,
    requested_model,
    require_object,
    wants_input,
)
from predictions.registry import get_registry
from predictions.services import DigitResult, classify_digits, model_detail, model_list, predict_number

ERRORS = {
    code: OpenApiResponse(s.ErrorSerializer, description=text)
    for code, text in {
        400: "invalid_request, invalid_image, invalid_pixels, empty_image",
        404: "unknown_model",
        413: "too_large: body over 5 MB or image over 25 megapixels",
        415: "unsupported_media_type",
        429: "throttled",
        503: "model_unavailable",
    }.items()
}


def answer(body: dict[str, Any], *, model: str) -> Response:
    """A 200 answer that tells the metrics middleware which model served it."""
    response = Response(body)
    response.metrics_model = model
    return response


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def digit_body(model: str, result: DigitResult, elapsed: float, with_input: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "digit": result.digit,
        "confidence": result.confidence,
        "probabilities": result.probabilities,
    }
    if result.uncertainty is not None:
        body["uncertainty"] = result.uncertainty
    body["not_a_digit"] = result.not_a_digit
    body["not_a_digit_score"] = result.not_a_digit_score
    body["elapsed_ms"] = elapsed
    if with_input:
        body["input"] = np.round(result.input.astype(np.float64), 4).tolist()
    return body


class PredictionApi(APIView):
    """What every prediction endpoint shares: the request forms it reads and its throttle."""

    parser_classes = [LenientJSONParser, BufferedMultiPartParser, FormParser]
    throttle_classes = [AtomicScopedRateThrottle]
    throttle_scope = "predict"


class PredictApi(PredictionApi):
    """POST /predict: one digit (image upload, base64/data URL, pixels, grid form) or a batch."""

    @extend_schema(
        operation_id="predict",
        summary="Classify one digit, or a batch of up to 256",
        request={
            "application/json": s.PredictJsonInputSerializer,
            "multipart/form-data": s.PredictUploadInputSerializer,
            "application/x-www-form-urlencoded": s.PredictGridInputSerializer,
        },
        responses={
            200: PolymorphicProxySerializer(
                component_name="PredictAnswer",
                serializers=[s.DigitPredictionSerializer, s.BatchPredictionSerializer],
                resource_type_field_name=None,
            ),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        started = time.perf_counter()
        data = require_object(request.data)
        model_name, with_input = requested_model(data), wants_input(data)
        if "instances" in data:
            inputs = parse_instances(data["instances"])
            batch = classify_digits(model_name=model_name, images=np.stack([item.pixels for item in inputs]))
            elapsed = elapsed_ms(started)
            predictions = [digit_body(batch.model, result, elapsed, with_input) for result in batch.results]
            return answer({"model": batch.model, "predictions": predictions, "elapsed_ms": elapsed}, model=batch.model)
        digit = parse_digit_input(data, request.FILES)
        batch = classify_digits(model_name=model_name, images=digit.pixels[None])
        return answer(digit_body(batch.model, batch.results[0], elapsed_ms(started), with_input), model=batch.model)


class PredictNumberApi(PredictionApi):
    """POST /predict/number: every digit of a drawn number, left to right, classified in one batch."""

    @extend_schema(
        operation_id="predict_number",
        summary="Read a number of several digits",
        request={
            "application/json": s.NumberJsonInputSerializer,
            "multipart/form-data": s.NumberUploadInputSerializer,
        },
        responses={200: s.NumberPredictionSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        started = time.perf_counter()
        data = require_object(request.data)
        reading = predict_number(model_name=requested_model(data), image=read_image_bytes(data, request.FILES))
        digits = [
            {
                "digit": result.digit,
                "confidence": result.confidence,
                "probabilities": result.probabilities,
                "not_a_digit": result.not_a_digit,
                "not_a_digit_score": result.not_a_digit_score,
                "box": list(box),
            }
            for result, box in zip(reading.batch.results, reading.boxes, strict=True)
        ]
        number = "".join(str(item["digit"]) for item in digits)
        body = {"model": reading.batch.model, "number": number, "digits": digits, "elapsed_ms": elapsed_ms(started)}
        return answer(body, model=reading.batch.model)


class ModelListApi(APIView):
    @extend_schema(operation_id="model_list", summary="The models served", responses={200: s.ModelListSerializer})
    def get(self, _request: Request) -> Response:
        return Response(model_list())


class ModelDetailApi(APIView):
    @extend_schema(
        operation_id="model_detail", summary="One model", responses={200: s.ModelSerializer, 404: ERRORS[404]}
    )
    def get(self, _request: Request, name: str) -> Response:
        return Response(model_detail(name=name))


class HealthApi(APIView):
    @extend_schema(operation_id="health", summary="The process serves", responses={200: s.StatusSerializer})
    def get(self, _request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyApi(APIView):
    @extend_schema(
        operation_id="ready",
        summary="The default model is loaded",
        responses={200: s.StatusSerializer, 503: s.StatusSerializer},
    )
    def get(self, _request: Request) -> Response:
        registry = get_registry()
        name = registry.default_name
        if registry.default_loaded():
            return Response({"status": "ready", "model": name})
        registry.preload_default_in_background()
        reason = registry.manifest_error or (name and registry.slot(name).error) or "the default model is loading"
        error = {"code": "model_unavailable", "message": f"Not ready: {reason}"}
        return Response({"status": "not_ready", "model": name, "error": error}, status=503)


class MetricsApi(APIView):
    @extend_schema(
        operation_id="metrics",
        summary="Prometheus metrics",
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, _request: Request) -> HttpResponse:
        return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE)
