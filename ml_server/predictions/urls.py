"""URL routes of the predictions app (no trailing slashes, as the contract spells them)."""

from django.urls import path

from predictions import apis

urlpatterns = [
    path("predict", apis.PredictApi.as_view(), name="predict"),
    path("predict/number", apis.PredictNumberApi.as_view(), name="predict_number"),
    path("list", apis.ModelListApi.as_view(), name="model_list"),
    path("list/<path:name>", apis.ModelDetailApi.as_view(), name="model_detail"),
    path("health", apis.HealthApi.as_view(), name="health"),
    path("ready", apis.ReadyApi.as_view(), name="ready"),
    path("metrics", apis.MetricsApi.as_view(), name="metrics"),
]
