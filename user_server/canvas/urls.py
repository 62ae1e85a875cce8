"""URL routes of the canvas app."""

from django.urls import path

from canvas import views

urlpatterns = [
    path("", views.page, name="page"),
    path("health", views.health, name="health"),
]
