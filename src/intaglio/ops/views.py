import json

from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.views.decorators.http import require_GET


def database_ok() -> bool:
    """True when the database answers a trivial query (a broken connection is dropped, so the next try reconnects)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        connection.close()
        return False
    return True


def health_body(ok: bool) -> bytes:
    """The JSON body of /healthz (also answered by the server's front, intaglio/asgi.py, ahead of the queue)."""
    if ok:
        return json.dumps({"status": "ok", "database": "ok"}).encode()
    return json.dumps({"status": "unavailable", "database": "unreachable"}).encode()


@require_GET
def healthz(request):
    """200 when the database answers, 503 otherwise; load balancers poll it."""
    ok = database_ok()
    return HttpResponse(health_body(ok), status=200 if ok else 503, content_type="application/json")
