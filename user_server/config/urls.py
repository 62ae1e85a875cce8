"""user_server routes: the drawing page and a health check."""

from django.urls import include, path

urlpatterns = [path("", include("canvas.urls"))]
