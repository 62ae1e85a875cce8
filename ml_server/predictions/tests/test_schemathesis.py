"""Property-based run against the OpenAPI document, in-process through WSGI: whatever schemathesis
sends within (and around) the documented shapes, the service answers without a 5xx, with the
documented content type, and 200 answers match their documented schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

EXAMPLES_PER_OPERATION = 40  # 9 operations x media types, positive and negative: about 500 requests

# Loaded at collection (pytest-django has configured Django by then); the schema needs no models.
schema = schemathesis.openapi.from_wsgi("/schema", get_wsgi_application())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.mark.django_db
@pytest.mark.usefixtures("tiny_models", "api_client")
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case) -> None:
    case.call_and_validate(checks=[not_a_server_error, content_type_conformance, response_schema_conformance])
