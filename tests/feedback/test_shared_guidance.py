"""Shared guidance (E10, E11): what consenting makers' calibrations measured, pooled per material × machine kind ×
mode, shown only once at least five accounts contributed, read with the consent in force at read time."""

from __future__ import annotations

import pytest

from intaglio.engrave.models import CalibrationProfile
from intaglio.engrave.services import settings_validate
from intaglio.feedback.selectors import GUIDANCE_MIN_ACCOUNTS, shared_guidance
from intaglio.feedback.services import guidance_adopt
from intaglio.privacy.consent import consent_grant, consent_withdraw
from tests.factories import make_user

pytestmark = pytest.mark.django_db
LEARNING = "engraved_learning"


def calibrated(user, mark_mm: float, *, material="maple", kind="diode", mode="floyd-steinberg", **fields):
    return CalibrationProfile.objects.create(
        owner=user,
        material=material,
        machine="diode-10w" if kind == "diode" else "co2-50w",
        machine_label="Diode 10 W",
        machine_kind=kind,
        mode=mode,
        line_interval_mm=0.1,
        mark_diameter_mm=mark_mm,
        tone=[[0.25, 0.3], [0.5, 0.6], [0.75, 0.85], [1.0, 1.0]],
        power_pct=70,
        speed_mm_min=3000,
        **fields,
    )


def makers(marks, *, consenting=True):
    users = []
    for mark in marks:
        user = make_user()
        calibrated(user, mark)
        if consenting:
            consent_grant(user=user, scope=LEARNING, source="privacy_page")
        users.append(user)
    return users


def test_E10_fewer_than_five_consenting_accounts_show_nothing():
    makers([0.15, 0.16, 0.17, 0.18])
    makers([0.2, 0.2, 0.2], consenting=False)  # not asked: never counted
    assert GUIDANCE_MIN_ACCOUNTS == 5
    assert shared_guidance(material="maple") == []


def test_E10_five_accounts_make_a_robust_median_one_vote_each():
    users = makers([0.14, 0.15, 0.16, 0.17, 0.90])  # one maker's odd card does not move the median
    # A second profile of the same account (another interval) averages into that account's one vote.
    CalibrationProfile.objects.filter(owner=users[-1]).update(line_interval_mm=0.08)
    calibrated(users[-1], 0.80)
    (guidance,) = shared_guidance(material="maple")
    assert (guidance.machine_kind, guidance.mode, guidance.accounts) == ("diode", "floyd-steinberg", 5)
    assert guidance.mark_diameter_mm == pytest.approx(0.16)
    assert guidance.power_pct == 70 and guidance.speed_mm_min == 3000
    assert dict(guidance.tone)[0.5] == pytest.approx(0.6)
    # Another material, kind or mode is another pool.
    assert shared_guidance(material="birch-plywood") == []
    assert shared_guidance(material="maple", machine_kind="co2") == []


def test_E10_a_withdrawal_removes_the_contribution_at_the_next_read():
    users = makers([0.14, 0.15, 0.16, 0.17, 0.18, 0.30])
    assert shared_guidance(material="maple")[0].accounts == 6
    consent_withdraw(user=users[-1], scope=LEARNING, source="privacy_page")
    (guidance,) = shared_guidance(material="maple")
    assert guidance.accounts == 5 and guidance.mark_diameter_mm == pytest.approx(0.16)
    consent_withdraw(user=users[0], scope=LEARNING, source="privacy_page")
    assert shared_guidance(material="maple") == []


def test_E10_closed_or_restricted_accounts_and_started_from_guidance_profiles_are_not_votes():
    users = makers([0.14, 0.15, 0.16, 0.17, 0.18])
    users[0].restricted = True
    users[0].save(update_fields=["restricted"])
    assert shared_guidance(material="maple") == []
    users[0].restricted = False
    users[0].save(update_fields=["restricted"])
    newcomer = make_user()
    consent_grant(user=newcomer, scope=LEARNING, source="privacy_page")
    calibrated(newcomer, 0.5, source=CalibrationProfile.Source.SHARED)
    assert shared_guidance(material="maple")[0].accounts == 5


def test_E11_a_new_maker_starts_from_the_guidance_without_giving_any_consent():
    makers([0.14, 0.15, 0.16, 0.17, 0.18])
    (guidance,) = shared_guidance(material="maple")
    newcomer = make_user()  # consents to nothing
    profile = guidance_adopt(
        owner=newcomer, guidance=guidance, machine="diode-10w", machine_label="Diode 10 W", line_interval_mm=0.1
    )
    assert profile.source == CalibrationProfile.Source.SHARED and profile.mark_diameter_mm == pytest.approx(0.16)
    clean = settings_validate(
        {
            "material": "maple",
            "machine": "diode-10w",
            "mode": "floyd-steinberg",
            "width_mm": 50,
            "line_interval_mm": 0.1,
        },
        owner=newcomer,
    )
    assert clean.calibration.label == "Started from other makers' measurements"
    # Their own card later replaces it; adopting again never overwrites a profile of theirs.
    profile.mark_diameter_mm = 0.21
    profile.source = CalibrationProfile.Source.CARD
    profile.save()
    again = guidance_adopt(
        owner=newcomer, guidance=guidance, machine="diode-10w", machine_label="Diode 10 W", line_interval_mm=0.1
    )
    assert again.pk == profile.pk and again.mark_diameter_mm == pytest.approx(0.21)
