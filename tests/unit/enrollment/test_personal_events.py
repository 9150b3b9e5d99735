"""Enrollment's events as personal data (issue 19, docs/privacy.md): which fields are sealed with
whose key, and ``TraineeEnrolled`` v2, whose clear ``certificate_count`` other services decide
with once the certificates themselves may read as erased."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from services.enrollment.domain.events import TraineeEnrolled, registry
from services.enrollment.domain.vocabulary import Category, Education
from shared.erasure import PersonalDataErased
from shared.events import SYSTEM_ACTOR, Envelope
from shared.memstore import InMemoryEventStore
from shared.personal import ERASED, MemoryKeyStore, PersonalData, is_token, personal_map

V1 = {
    "trainee_id": "t-1",
    "name": "王伟",
    "category": "branch_commissioned",
    "branch_id": "dl-north",
    "education": "high_school",
    "experience_years": "2",
    "certificates": ["电工证", "焊工证"],
    "product_series": ["X1"],
    "enrolled_on": "2026-03-02",
}


def envelope(data: dict[str, object], schema_version: int) -> Envelope:
    at = datetime(2026, 3, 2, tzinfo=UTC)
    return Envelope(
        uuid.uuid4(),
        "trainee-t-1",
        1,
        1,
        "TraineeEnrolled",
        schema_version,
        at,
        at,
        data,
        SYSTEM_ACTOR,
    )


def test_the_names_certificates_and_reasons_are_personal_and_decisions_are_not():
    marked = {name: spec.fields for name, spec in personal_map(registry).items() if spec.fields}
    assert marked == {
        "TraineeEnrolled": (("name", "trainee_id"), ("certificates", "trainee_id")),
        "TraineeWithdrawn": (("reason", "trainee_id"),),
        "StaffRegistered": (("name", "staff_id"),),
    }
    assert "PersonalDataErased" in registry and registry.types["PersonalDataErased"] is (
        PersonalDataErased
    )


def test_a_v1_enrolment_reads_as_v2_with_its_certificates_counted():
    decoded = registry.decode(envelope(V1, 1))
    assert isinstance(decoded, TraineeEnrolled)
    assert (decoded.certificate_count, decoded.certificates) == (2, ["电工证", "焊工证"])
    none = registry.decode(envelope({**V1, "certificates": []}, 1))
    assert isinstance(none, TraineeEnrolled) and none.certificate_count == 0
    assert "certificate_count" not in V1  # the stored data is left as it was


def test_a_v2_enrolment_is_read_as_stored():
    decoded = registry.decode(envelope({**V1, "certificate_count": 2}, 2))
    assert isinstance(decoded, TraineeEnrolled) and decoded.certificate_count == 2
    assert TraineeEnrolled.schema_version == 2


async def test_the_count_stays_readable_after_the_trainee_is_erased():
    store = InMemoryEventStore(personal=PersonalData(MemoryKeyStore(), personal_map(registry)))
    event = TraineeEnrolled(
        trainee_id="t-1",
        name="王伟",
        category=Category.BRANCH_COMMISSIONED,
        branch_id="dl-north",
        education=Education.HIGH_SCHOOL,
        experience_years=Decimal(2),
        certificates=["电工证", "焊工证"],
        certificate_count=2,
        product_series=["X1"],
        enrolled_on=date(2026, 3, 2),
    )
    await store.append("trainee-t-1", [registry.encode(event)], 0)
    [stored] = store._log
    assert is_token(stored.data["name"]) and is_token(stored.data["certificates"])
    assert (stored.data["certificate_count"], stored.data["education"]) == (2, "high_school")
    assert store.personal is not None
    await store.personal.erase("t-1", "asked")
    [read] = await store.read_all()
    decoded = registry.decode(read)
    assert isinstance(decoded, TraineeEnrolled)
    assert (decoded.name, decoded.certificates, decoded.certificate_count) == (
        ERASED,
        [ERASED],
        2,
    )
