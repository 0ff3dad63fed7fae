import pytest


@pytest.fixture(autouse=True)
def _commit_callbacks_run(request):
    """Copies' blobs are deleted once the transaction commits; the test transaction never does, so the callbacks
    run when the test ends (before the storage scan looks for orphans)."""
    if not request.node.get_closest_marker("django_db"):
        yield
        return
    with request.getfixturevalue("django_capture_on_commit_callbacks")(execute=True):
        yield
