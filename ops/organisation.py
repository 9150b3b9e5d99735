"""The organisation the demo, the tests and the benchmarks work in, and its registration through
the enrollment API as the organisation's administrator (docs/organisation.md).

Every branch id the services accept is one enrollment's registry holds, so whoever enrols
trainees registers their branches first (and the demo its trainers and examiners). A branch or
member of staff registered before (an earlier run, another seed, an administrator) answers 409:
it is already there, which is all the caller needs.
"""

from __future__ import annotations

from collections.abc import Iterable

from ops import scenario as sc
from ops.client import Api, JsonDict, Who

ADMIN = Who("admin-org", "admin")

# The five branches of the demo and of most tests: R-2's three kinds, with their names.
STANDARD_BRANCHES: tuple[JsonDict, ...] = (
    {"branch_id": "hq", "kind": "hq", "name_zh": "总部", "name_en": "Head office"},
    {
        "branch_id": "bo-east",
        "kind": "branch_office",
        "name_zh": "华东办事处",
        "name_en": "East branch office",
    },
    {
        "branch_id": "bo-west",
        "kind": "branch_office",
        "name_zh": "西部办事处",
        "name_en": "West branch office",
    },
    {"branch_id": "dl-north", "kind": "dealer", "name_zh": "北方经销商", "name_en": "North dealer"},
    {"branch_id": "dl-south", "kind": "dealer", "name_zh": "南方经销商", "name_en": "South dealer"},
)


def demo_staff() -> list[JsonDict]:
    """The demo's trainers and examiners (``ex-<department>``), all of the head office."""
    trainers = [
        {
            "staff_id": t.trainer_id,
            "name": t.name,
            "department": t.department,
            "roles": ["trainer"],
            "branch_id": "hq",
        }
        for t in sc.TRAINERS.values()
    ]
    examiners = [
        {
            "staff_id": f"ex-{department}",
            "name": name,
            "department": department,
            "roles": ["examiner"],
            "branch_id": "hq",
        }
        for department, name in sc.EXAMINERS.items()
    ]
    return trainers + examiners


async def register_organisation(
    api: Api, branches: Iterable[JsonDict], staff: Iterable[JsonDict] = ()
) -> None:
    """``branches`` then ``staff`` registered (each ``POST /branches`` or ``POST /staff`` body),
    those already registered left as they are."""
    for body in branches:
        key = f"organisation:branch:{body['branch_id']}"
        await api.post("enrollment", "/branches", body, ADMIN, key, exists_ok=True)
    for body in staff:
        key = f"organisation:staff:{body['staff_id']}"
        await api.post("enrollment", "/staff", body, ADMIN, key, exists_ok=True)
