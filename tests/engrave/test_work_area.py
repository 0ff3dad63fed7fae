"""One work-area check (imaging's check_fit): the engine, the live preview, preparing files, the API and the jobs
give the same answer, in the same words, where they used to disagree.

Before, a piece whose height follows the photo was judged in four ways: the studio by its size in millimetres, the
engrave.prepare job's parameters by the width alone, the engine by the size it really burns (whole lines), and the
live preview not at all (it only warned, with the studio's sentence). Now every one of them asks check_fit.
"""

import io

import numpy as np
import pytest
from PIL import Image

from intaglio.credits.services import credits_grant_monthly
from intaglio.engrave import services
from intaglio.imaging.artwork import ArtworkError, check_fit, get_machine, prepare_artwork
from intaglio.jobs.models import JobState
from intaglio.jobs.services import job_create, upload_photo
from tests.factories import run_queued_jobs

FIBRE = get_machine("fibre-20w")  # a 110 × 110 mm field
INTERVAL = 0.1  # slate's line interval, coarser than the fibre's 0.03 mm
# 100 mm wide with no height given: a 1:3 portrait photo makes it 300 mm tall.
TOO_TALL = {"material": "slate", "machine": "fibre-20w", "width_mm": 100}
TOO_TALL_PROBLEM = "100.0 × 300.0 mm does not fit the Fibre galvo marker 20 W's 110 × 110 mm work area."
# 110.04 mm is 1100 lines of 0.1 mm, which burn 110.0 mm: it fits.
A_HAIR_WIDE = {"material": "slate", "machine": "fibre-20w", "width_mm": 110.04}


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 128, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def upload(user):
    credits_grant_monthly(user=user, period="2026-11")

    def photo(width: int, height: int):
        job = upload_photo(owner=user, upload=io.BytesIO(png(width, height)))
        run_queued_jobs()
        return job.inputs.get()

    return photo


@pytest.fixture
def api(client, token):
    def post(path, body):
        return client.post(
            f"/api/v1{path}", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )

    return post


def test_check_fit_takes_the_height_from_the_photo_and_judges_the_lines_burned():
    tall = check_fit(FIBRE, width_mm=100, line_interval_mm=INTERVAL, source_size=(300, 900))
    assert (tall.width_px, tall.height_px) == (1000, 3000) and tall.problem == TOO_TALL_PROBLEM
    # Before the photo is known only the width can be judged.
    assert check_fit(FIBRE, width_mm=100, line_interval_mm=INTERVAL).fits
    wide = check_fit(FIBRE, width_mm=300, line_interval_mm=INTERVAL)
    assert wide.height_px is None and "300.0 mm is wider than the Fibre galvo marker 20 W work area" in wide.problem
    hair = check_fit(FIBRE, width_mm=110.04, line_interval_mm=INTERVAL, source_size=(600, 400))
    assert hair.fits and hair.width_px == 1100 and hair.width_mm == pytest.approx(110.0)


def test_a_photo_too_tall_for_the_machine_is_refused_in_the_same_words_everywhere(user, upload, api):
    photo = upload(300, 900)
    with pytest.raises(ArtworkError) as engine:
        prepare_artwork(png(300, 900), machine="fibre-20w", material="slate", width_mm=100)
    assert str(engine.value) == TOO_TALL_PROBLEM

    preview = services.live_preview_render(owner=user, source=photo, settings=TOO_TALL)
    assert (preview.warnings[0].code, preview.warnings[0].message) == (
        "does_not_fit",
        TOO_TALL_PROBLEM,
    )  # before: "100 × 300 mm does not fit …"

    artwork = services.artwork_create(owner=user, source=photo)
    with pytest.raises(services.StudioRefused) as prepared:
        services.artwork_prepare(artwork=artwork, settings=TOO_TALL)
    assert (prepared.value.code, prepared.value.message) == ("does_not_fit", TOO_TALL_PROBLEM)

    previewed = api("/engrave/previews", {"source": photo.pk, "settings": TOO_TALL})
    assert previewed.status_code == 200 and previewed.json()["warnings"][0]["message"] == TOO_TALL_PROBLEM
    version = api(f"/engrave/artworks/{artwork.pk}/versions", {"settings": TOO_TALL})
    assert version.status_code == 422 and version.json()["error"] == {
        "code": "does_not_fit",
        "message": TOO_TALL_PROBLEM,
        "details": [],
    }

    # POST /jobs cannot see the photo's aspect when it takes the parameters, so the job checks first thing.
    job = job_create(owner=user, kind="engrave.prepare", params=TOO_TALL, inputs=[photo])
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error_message == TOO_TALL_PROBLEM and not job.outputs.exists()


def test_a_piece_a_fraction_of_a_line_over_is_judged_by_what_is_burned_everywhere(user, upload, api):
    """Before, the studio warned and refused 110.04 mm on a 110 mm field, and so did POST /jobs, while the engine
    made it (1100 lines of 0.1 mm = 110.0 mm). Now all of them make it."""
    photo = upload(600, 400)
    preview = services.live_preview_render(owner=user, source=photo, settings=A_HAIR_WIDE)
    # (It is warned about as an upscaled photo, 600 px stretched to 1100 dots, but not as too large.)
    assert "does_not_fit" not in [w.code for w in preview.warnings] and preview.width_px == 1100
    previewed = api("/engrave/previews", {"source": photo.pk, "settings": A_HAIR_WIDE}).json()
    assert "does_not_fit" not in [w["code"] for w in previewed["warnings"]]

    artwork = services.artwork_create(owner=user, source=photo)
    version = services.artwork_prepare(artwork=artwork, settings=A_HAIR_WIDE)
    job = job_create(owner=user, kind="engrave.prepare", params=A_HAIR_WIDE, inputs=[photo])
    run_queued_jobs()
    for made in (version.job, job):
        made.refresh_from_db()
        assert made.state == JobState.SUCCEEDED, made.error_detail
        assert made.outputs.get(role="png").width == 1100
