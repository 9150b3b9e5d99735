"""The departments of R-5 (docs/rules.md), where the staff who train and examine work: enrollment
registers staff in them, training's plan stages name the one that teaches, assessment's policy
names those that score the practical exam (R-16). Events carry the values from one service to
another, so every service knows the same list."""

from __future__ import annotations

from enum import StrEnum


class Department(StrEnum):
    """R-5 departments: where the staff who train and examine work."""

    TECHNICAL = "technical"  # 技术部
    PROCESS_ENGINEERING = "process_engineering"  # 工艺工程部
    SYSTEM = "system"  # 体系部 (quality system)
    AFTER_SALES = "after_sales"  # 售后部
    HR = "hr"  # 人力资源部
    PRODUCTION = "production"  # 生产部
    QUALITY = "quality"  # 品管
