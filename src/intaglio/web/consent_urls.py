"""Privacy pages: consent."""

urlpatterns: list = []
