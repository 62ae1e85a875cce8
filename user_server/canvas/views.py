"""The drawing page and the health check. The page talks to the ml_server from the browser."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    return render(request, "canvas/index.html", {"ml_server_url": settings.ML_SERVER_URL})


@require_GET
def health(request: HttpRequest) -> JsonResponse:  # noqa: ARG001
    return JsonResponse({"status": "ok"})
