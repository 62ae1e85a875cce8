"""Serializers that describe the API's bodies for the OpenAPI document (drf-spectacular).

Request bodies are read by `predictions.inputs` (which knows the contract's error codes), and
answers are built as plain dicts by `predictions.apis`, because rendering a 256-digit answer
through these serializers costs hundreds of times more (docs/benchmarks.md, `bench.response_rendering`);
these classes state their exact shape, and the schemathesis test checks answers against them.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from digits.config import IMAGE_SIZE, NUM_CLASSES
from predictions.inputs import GRID_CELLS, MAX_INSTANCES

PIXELS_HELP = (
    "28x28 nested list or flat list of 784 numbers, 0..1 or 0..255, MNIST-style (white digit on black); used as given."
)
IMAGE_HELP = "PNG, JPEG, WebP or BMP image as base64 or as a data URL (data:image/png;base64,...)."
MODEL_HELP = "Model name from GET /list; the default model when omitted."
SCORE_HELP = "0..1, higher = less like a digit; not_a_digit is true above 0.5."


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"type": "number"}, "minItems": 784, "maxItems": 784},
            {
                "type": "array",
                "minItems": IMAGE_SIZE,
                "maxItems": IMAGE_SIZE,
                "items": {"type": "array", "items": {"type": "number"}, "minItems": IMAGE_SIZE, "maxItems": IMAGE_SIZE},
            },
        ],
        "description": PIXELS_HELP,
    }
)
class PixelsField(serializers.JSONField):
    pass


def float_list(length: int, help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(), min_length=length, max_length=length, help_text=help_text
    )


class InstanceSerializer(serializers.Serializer):
    image = serializers.CharField(required=False, help_text=IMAGE_HELP)
    pixels = PixelsField(required=False)


class PredictJsonInputSerializer(InstanceSerializer):
    """One digit (`image` or `pixels`) or a batch (`instances`)."""

    model = serializers.CharField(required=False, help_text=MODEL_HELP)
    return_input = serializers.BooleanField(required=False, default=False, help_text="Add the 28x28 input seen.")
    instances = InstanceSerializer(many=True, required=False, max_length=MAX_INSTANCES)


class PredictUploadInputSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="PNG, JPEG, WebP or BMP file, at most 5 MB and 25 megapixels.")
    model = serializers.CharField(required=False, help_text=MODEL_HELP)
    return_input = serializers.BooleanField(required=False, default=False)


class PredictGridInputSerializer(serializers.Serializer):
    """The original grid client's form."""

    digit = serializers.CharField(
        min_length=GRID_CELLS, max_length=GRID_CELLS, help_text="784 characters of 0/1, row-major, 1 = ink."
    )
    model = serializers.CharField(required=False, help_text=MODEL_HELP)


class NumberJsonInputSerializer(serializers.Serializer):
    image = serializers.CharField(help_text=IMAGE_HELP)
    model = serializers.CharField(required=False, help_text=MODEL_HELP)


class NumberUploadInputSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="PNG, JPEG, WebP or BMP file of a drawn number.")
    model = serializers.CharField(required=False, help_text=MODEL_HELP)


class UncertaintySerializer(serializers.Serializer):
    predictive_entropy = serializers.FloatField(help_text="Entropy (nats) of the mean Monte-Carlo probabilities.")
    std = float_list(NUM_CLASSES, "Spread of each class probability across the Monte-Carlo passes.")


class DigitPredictionSerializer(serializers.Serializer):
    model = serializers.CharField()
    digit = serializers.IntegerField(min_value=0, max_value=9)
    confidence = serializers.FloatField()
    probabilities = float_list(NUM_CLASSES, "Probability of each digit 0..9; they sum to 1.")
    uncertainty = UncertaintySerializer(required=False, help_text="Only for Monte-Carlo dropout models (*_mcd).")
    not_a_digit = serializers.BooleanField(help_text="True when the drawing is unlikely to be a digit at all.")
    not_a_digit_score = serializers.FloatField(min_value=0.0, max_value=1.0, help_text=SCORE_HELP)
    elapsed_ms = serializers.FloatField()
    input = serializers.ListField(
        child=float_list(IMAGE_SIZE, "One row."), required=False, help_text="The 28x28 input, with return_input."
    )


class BatchPredictionSerializer(serializers.Serializer):
    model = serializers.CharField()
    predictions = DigitPredictionSerializer(many=True)
    elapsed_ms = serializers.FloatField()


class NumberDigitSerializer(serializers.Serializer):
    digit = serializers.IntegerField(min_value=0, max_value=9)
    confidence = serializers.FloatField()
    probabilities = float_list(NUM_CLASSES, "Probability of each digit 0..9.")
    not_a_digit = serializers.BooleanField()
    not_a_digit_score = serializers.FloatField(min_value=0.0, max_value=1.0, help_text=SCORE_HELP)
    box = serializers.ListField(child=serializers.IntegerField(), min_length=4, max_length=4, help_text="x, y, w, h")


class NumberPredictionSerializer(serializers.Serializer):
    model = serializers.CharField()
    number = serializers.CharField(help_text="The digits read left to right.")
    digits = NumberDigitSerializer(many=True)
    elapsed_ms = serializers.FloatField()


class ModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    display_name = serializers.CharField()
    family = serializers.CharField(allow_null=True)
    format = serializers.CharField(allow_null=True, help_text="File format: h5 (Keras) or pkl (scikit-learn).")
    size_bytes = serializers.IntegerField(allow_null=True)
    metrics = serializers.DictField(child=serializers.FloatField())
    uncertainty = serializers.BooleanField()
    loaded = serializers.BooleanField(help_text="Loaded in this process (models load on first use).")
    trained = serializers.JSONField(allow_null=True)
    error = serializers.CharField(required=False, help_text="Why the model could not be loaded.")


class ModelListSerializer(serializers.Serializer):
    default = serializers.CharField(allow_null=True)
    models = ModelSerializer(many=True)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class StatusSerializer(serializers.Serializer):
    status = serializers.CharField()
    model = serializers.CharField(required=False, allow_null=True)
    error = ErrorDetailSerializer(required=False)
