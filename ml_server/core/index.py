"""`GET /`: a small JSON index, so a person who opens the API's address sees where to go next."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

LINKS = {"docs": "docs", "schema": "schema", "list": "model_list"}  # link name -> URL name


class IndexApi(APIView):
    @extend_schema(
        operation_id="index",
        summary="What this service is, and links to its docs, schema and models",
        responses={
            200: inline_serializer(
                "Index",
                {
                    "name": serializers.CharField(),
                    "version": serializers.CharField(),
                    "links": serializers.DictField(child=serializers.CharField()),
                },
            )
        },
    )
    def get(self, _request: Request) -> Response:
        return Response(
            {
                "name": settings.SPECTACULAR_SETTINGS["TITLE"],
                "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                "links": {link: reverse(url_name) for link, url_name in LINKS.items()},
            }
        )
