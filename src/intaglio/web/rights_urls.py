"""Privacy pages: rights."""

urlpatterns: list = []
