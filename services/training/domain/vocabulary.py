"""The training service's words for plans, stages and the departments that train (R-5, R-8)."""

from __future__ import annotations

from enum import StrEnum

from shared.departments import Department as Department  # the one that teaches a stage


class Topic(StrEnum):
    """What a stage teaches; the first four are mandatory in every plan (R-8a; which ones is
    policy data: services/training/policy/plan_content.json)."""

    COMPANY_PROCESSES = "company_processes"
    DEPARTMENT_RESPONSIBILITIES = "department_responsibilities"
    TRAVEL_POLICY = "travel_policy"
    APPRAISAL_RULES = "appraisal_rules"
    PRODUCT = "product"
    OTHER = "other"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    COMPLETED = "completed"


class StageStatus(StrEnum):
    OPEN = "open"
    SIGNED_OFF = "signed_off"
    REOPENED = "reopened"
