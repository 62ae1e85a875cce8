"""URL routes of the feedback app."""

from django.urls import path

from feedback.apis import FeedbackCreateApi, FeedbackStatsApi, NumberFeedbackCreateApi

urlpatterns = [
    path("feedback", FeedbackCreateApi.as_view(), name="feedback-create"),
    path("feedback/number", NumberFeedbackCreateApi.as_view(), name="number-feedback-create"),
    path("feedback/stats", FeedbackStatsApi.as_view(), name="feedback-stats"),
]
