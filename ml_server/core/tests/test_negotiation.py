"""Parser choice: the bare media type picks its parser; everything else follows DRF's rules."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser
from rest_framework.request import Request

from core.negotiation import PlainContentNegotiation
from core.parsers import BufferedMultiPartParser, LenientJSONParser

PARSERS = [LenientJSONParser(), BufferedMultiPartParser(), FormParser()]


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=abc",
        "Multipart/Form-Data; boundary=abc",
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "*/*",
        "application/*",
        "text/plain",
        "",
    ],
)
def test_picks_the_parser_drf_would_pick(content_type):
    request = Request(RequestFactory().post("/predict", data=b"{}", content_type=content_type))
    expected = DefaultContentNegotiation().select_parser(request, PARSERS)
    assert PlainContentNegotiation().select_parser(request, PARSERS) is expected


def test_an_absurdly_long_content_type_is_refused_as_drf_refuses_it():
    request = Request(RequestFactory().post("/predict", data=b"{}", content_type="application/json;" + "x" * 300))
    assert PlainContentNegotiation().select_parser(request, PARSERS) is None
