"""URL routes of the predictions app."""

urlpatterns: list = []
