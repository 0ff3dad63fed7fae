"""Privacy pages: notice."""

urlpatterns: list = []
