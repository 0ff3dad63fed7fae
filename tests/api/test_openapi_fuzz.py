"""schemathesis against /api/v1/openapi.json: no server error, no undocumented status, responses that match the
document, schema-valid requests accepted and schema-invalid ones refused, signed in or not.

Every operation runs schemathesis' three phases (the document's examples, coverage of each constraint's edges, then
random fuzzing), each in positive mode (valid requests) and negative mode (requests the document forbids). The
fuzzing phase is bounded by `max_examples` per operation and mode, so the run stays within a few minutes on two cores;
raise INTAGLIO_FUZZ_EXAMPLES locally to search harder.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from intaglio.wsgi import application
from tests.factories import make_token, make_user

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])

# Without credentials every operation answers 401 before reading anything: the examples and a few random requests
# of each mode show it; the coverage phase's thousands of edge cases would only repeat it.
anonymous_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
anonymous_schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
anonymous_schema.config.phases.update(phases=["examples", "fuzzing"])

EXAMPLES = int(os.environ.get("INTAGLIO_FUZZ_EXAMPLES", "20"))
# Derandomized so CI is repeatable.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
FUZZ_ANONYMOUS = settings(FUZZ, max_examples=max(1, EXAMPLES // 4))


@pytest.fixture(autouse=True)
def _keep_test_connection():
    # schemathesis calls the raw WSGI app, which closes "old" connections on every request; inside the test's
    # transaction that would close it. Django's own test client detaches the same handler.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(db):
    return make_token(make_user())


# Whether a job's params are acceptable depends on state a schema cannot carry (which files exist, whether the size
# fits the chosen machine's work area), so a schema-valid request may rightly get a documented 4xx refusal there.
# Every other check (no 500, documented statuses, response schemas) still applies to it.
STATE_DEPENDENT = {("POST", "/api/v1/jobs")}
# The studio's artwork settings have rules between fields that a schema cannot state: exactly one of machine,
# machine_profile and machine_spec, and a size that fits that machine's work area; the material and machine names
# come from the library, and a machine_profile must be one of yours. A machine whose line interval is omitted takes
# its spot size, which must then be a valid interval. So these too may rightly refuse a schema-valid body with 422.
STATE_DEPENDENT |= {
    ("POST", "/api/v1/engrave/artworks"),
    ("PATCH", "/api/v1/engrave/artworks/{artwork_id}"),
    ("POST", "/api/v1/engrave/artworks/{artwork_id}/versions"),
    ("POST", "/api/v1/engrave/artworks/{artwork_id}/styles"),
    ("POST", "/api/v1/engrave/previews"),
    ("POST", "/api/v1/engrave/machines/mine"),
    ("PATCH", "/api/v1/engrave/machines/mine/{profile_id}"),
}


# A card must fit its machine (and a verify card name one of your calibrations); a reading, a calibration's check and
# a burn report need a finished card, reading or version of yours, and a photo judged by its content; guidance can be
# adopted only where enough makers measured it.
STATE_DEPENDENT |= {
    ("POST", "/api/v1/engrave/cards"),
    ("POST", "/api/v1/engrave/cards/{card_id}/readings"),
    ("POST", "/api/v1/engrave/calibrations"),
    ("POST", "/api/v1/engrave/calibrations/{calibration_id}/checks"),
    ("POST", "/api/v1/engrave/artworks/{artwork_id}/versions/{number}/burn-reports"),
    ("POST", "/api/v1/engrave/guidance/adopt"),
}


# A piece's prompt and generations need its attributes confirmed first, with one shot type per reference image; a
# reference file is judged by its content (the fuzzer's multipart parts are rarely images).
STATE_DEPENDENT |= {
    ("POST", "/api/v1/jewellery/pieces"),
    ("PUT", "/api/v1/jewellery/pieces/{piece_id}/attributes"),
    ("POST", "/api/v1/jewellery/pieces/{piece_id}/prompt"),
    ("POST", "/api/v1/jewellery/pieces/{piece_id}/generations"),
}


@schema.parametrize()
@FUZZ
def test_api_with_a_token(case, fuzz_token):
    excluded = [positive_data_acceptance] if (case.method.upper(), case.path) in STATE_DEPENDENT else []
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, excluded_checks=excluded)


# Operations the document marks public (no security requirement), such as the gallery's reads.
PUBLIC = {
    (method.upper(), path)
    for path, item in schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).raw_schema["paths"].items()
    for method, operation in item.items()
    if isinstance(operation, dict) and "security" not in operation
}


@anonymous_schema.parametrize()
@FUZZ_ANONYMOUS
def test_api_without_credentials(case, db):
    response = case.call_and_validate()
    if (case.method.upper(), case.path) in PUBLIC:
        # Public reads (the gallery): answered without credentials; an unknown item is 404, never 401.
        assert response.status_code in (200, 400, 404, 405, 422)
    else:
        assert response.status_code in (400, 401, 405, 422)
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}
