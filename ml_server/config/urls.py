"""ml_server routes: an index at `/`, the prediction API, feedback, the OpenAPI schema and docs, and the admin.

Django's own error pages are JSON too, so no path of this service answers with HTML errors."""

from core.index import IndexApi
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", IndexApi.as_view(), name="index"),
    path("", include("predictions.urls")),
    path("", include("feedback.urls")),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
]

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
