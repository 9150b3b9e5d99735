"""The training service's words for plans, stages and the departments that train (R-5, R-8)."""

from __future__ import annotations

from enum import StrEnum


class Department(StrEnum):
    """R-5 departments."""

    TECHNICAL = "technical"  # 技术部
    PROCESS_ENGINEERING = "process_engineering"  # 工艺工程部
    SYSTEM = "system"  # 体系部 (quality system)
    AFTER_SALES = "after_sales"  # 售后部
    HR = "hr"  # 人力资源部
    PRODUCTION = "production"  # 生产部
    QUALITY = "quality"  # 品管


class Topic(StrEnum):
    """What a stage teaches; the first four are mandatory in every plan (R-8a)."""

    COMPANY_PROCESSES = "company_processes"
    DEPARTMENT_RESPONSIBILITIES = "department_responsibilities"
    TRAVEL_POLICY = "travel_policy"
    APPRAISAL_RULES = "appraisal_rules"
    PRODUCT = "product"
    OTHER = "other"


MANDATORY_TOPICS: tuple[Topic, ...] = (
    Topic.COMPANY_PROCESSES,
    Topic.DEPARTMENT_RESPONSIBILITIES,
    Topic.TRAVEL_POLICY,
    Topic.APPRAISAL_RULES,
)


class PlanStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    COMPLETED = "completed"


class StageStatus(StrEnum):
    OPEN = "open"
    SIGNED_OFF = "signed_off"
    REOPENED = "reopened"
