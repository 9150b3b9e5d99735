"""The demo's scenario: who is trained, by whom, how the exams go, and what that must produce.

Pure and deterministic: ``build(seed, trainees, anchor)`` draws everything from
``random.Random(seed)`` in an order that does not depend on ``anchor`` (the exam day, which only
places the drawn schedules on the calendar), so the same seed always describes the same people,
scores and outcomes, and a re-run of the demo sends byte-identical requests.

The expected outcomes (grades, fines, fees, payslips) are derived here from the rules of
``docs/rules.md`` on their own, not by calling the services' code: the demo then checks the
services against an independent reading of the regulation.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

BRANCHES = ("hq", "bo-east", "bo-west", "dl-north", "dl-south")
BRANCH_WEIGHTS = {"hq": 30, "bo-east": 20, "bo-west": 20, "dl-north": 15, "dl-south": 15}
DEALERS = ("dl-north", "dl-south")

SERIES = ("X1", "X2", "K3", "M5")
SERIES_NAMES = {
    "X1": "X1 数控折弯机 CNC press brake",
    "X2": "X2 激光切割机 laser cutter",
    "K3": "K3 液压剪板机 hydraulic shear",
    "M5": "M5 焊接机器人 welding robot",
}
DEPARTMENTS = ("technical", "process_engineering", "quality", "after_sales", "production")
WRITTEN_EXAMINERS = ("hr", "after_sales")  # graded by after-sales and HR


@dataclass(frozen=True)
class Trainer:
    trainer_id: str
    name: str
    department: str


TRAINERS = {
    t.trainer_id: t
    for t in (
        Trainer("tr-liu-fang", "刘芳", "hr"),
        Trainer("tr-chen-gang", "陈刚", "after_sales"),
        Trainer("tr-wang-lei", "王磊", "technical"),
        Trainer("tr-zhao-min", "赵敏", "process_engineering"),
        Trainer("tr-sun-hao", "孙浩", "technical"),
        Trainer("tr-zhou-jie", "周杰", "production"),
        Trainer("tr-wu-qiang", "吴强", "process_engineering"),
        Trainer("tr-zheng-hui", "郑辉", "production"),
    )
}
# Who examines for each department (R-6 placement and R-15 written: hr; R-16 practical: the
# five DEPARTMENTS): ``ex-<department>``, as ops.rounds.examiner names them.
EXAMINERS = {
    "hr": "何静",
    "after_sales": "许强",
    "technical": "邓超",
    "process_engineering": "曹敏",
    "quality": "彭丽",
    "production": "曾伟",
}
SERIES_TRAINERS = {
    "X1": ("tr-wang-lei", "tr-zhao-min"),
    "X2": ("tr-sun-hao", "tr-zhao-min"),
    "K3": ("tr-zhou-jie", "tr-wu-qiang"),
    "M5": ("tr-zheng-hui", "tr-wang-lei"),
}
# R-8a: the four topics every plan covers, taught by HR and after-sales in two orientation days.
MANDATORY = (
    ("company_processes", "公司流程 company process flows", "tr-liu-fang"),
    ("department_responsibilities", "部门职责 department responsibilities", "tr-liu-fang"),
    ("travel_policy", "差旅制度 travel policy", "tr-chen-gang"),
    ("appraisal_rules", "售后考核办法 after-sales appraisal rules", "tr-chen-gang"),
)
# R-24 for a training content: after the series sessions, the failed sit a session on the
# after-sales appraisal rules (an R-8a topic) and fail again; the trainer of the stage teaching it
# is held responsible for them and keeps training them (they sit no later session in the demo).
CONTENT = "appraisal_rules"
MOST_RESITTERS = 3
# what a product stage teaches at each plan level.
PLAN_CONTENT = {
    "basic": (
        "识读电路图 reading circuit diagrams",
        "电气元件 electrical parts",
        "电动工具 power tools",
        "拆装 assembly and disassembly",
        "调试 commissioning",
        "工作原理 working principle",
        "结构 structure",
    ),
    "intermediate": (
        "电路原理 circuit principles",
        "机械结构 mechanical structure",
        "维护保养 maintenance",
        "控制程序安装调试 control-program install and commissioning",
        "故障分析与维修 fault analysis and repair",
    ),
    "advanced": (
        "电气原理 electrical principles",
        "控制程序修改 control-program modification",
        "故障分析 fault analysis",
        "零部件维修 parts repair",
    ),
}

# R-7a: the content items of each level, as the codes a stage lists in ``covers`` (restated from
# the regulation: the scenario is an oracle independent of the services' policy data).
CONTENT_ITEMS = {
    "basic": (
        "circuit_diagrams",
        "electrical_components",
        "power_tools",
        "assembly",
        "commissioning",
        "working_principle",
        "product_structure",
    ),
    "intermediate": (
        "circuit_principles",
        "mechanical_structure",
        "working_principle",
        "product_structure",
        "assembly",
        "maintenance",
        "program_install",
        "fault_analysis",
        "fault_repair",
    ),
    "advanced": (
        "electrical_principles",
        "product_structure",
        "program_install",
        "program_modification",
        "fault_analysis",
        "fault_repair",
        "parts_repair",
    ),
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董"
    "袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊白孟"
)
_GIVEN = """
    伟 芳 娜 敏 静 强 磊 军 洋 勇 艳 杰 涛 明 超 华 平 刚 鹏 辉 鑫 宇 浩 凯 晨 健 斌 龙 峰
    建国 建华 志强 志明 海涛 海波 晓东 晓明 文杰 俊杰 子豪 浩然 宇航 春雷 国庆 红梅
    丽娟 玉兰 秀英 桂芳 雪梅 晓燕 立新 永强 振华 德明 金龙 双喜 长江 卫东
"""
GIVEN = tuple(_GIVEN.split())
EDUCATION = (
    ("junior_high", 8),
    ("high_school", 22),
    ("vocational_secondary", 32),
    ("junior_college", 25),
    ("bachelor", 12),
    ("postgraduate", 1),
)
EDUCATION_RANK = {
    "junior_high": 0,
    "high_school": 1,
    "vocational_secondary": 1,
    "junior_college": 2,
    "bachelor": 3,
    "postgraduate": 4,
}
CERTIFICATES = (
    "低压电工作业证 low-voltage electrician licence",
    "焊工证 welder certificate",
    "钳工证 fitter certificate",
    "叉车证 forklift licence",
)
METHODS = (
    "讲授+实操 lecture and hands-on",
    "现场跟修 on-site repair shadowing",
    "拆装练习 assembly practice",
    "故障模拟 fault simulation",
)
PERFORMANCE = (
    "认真 attentive",
    "积极提问 asks good questions",
    "动手能力强 good hands-on skills",
    "需加强 needs more practice",
)
EFFECT = ("掌握 understood", "基本掌握 mostly understood", "需复训 needs revision")
DISSENT = (
    "实际只培训了半天 only half a day was actually trained",
    "记录内容与实际不符 the record differs from what was taught",
)
DISAGREE = (
    "评估偏低，实操练习不足 assessment too low; too little hands-on practice",
    "培训内容未覆盖故障维修 fault repair was not covered",
)

# R-20 bands, highest first; R-21 eligibility (policy decisions of docs/rules.md).
BANDS = (
    (Decimal(97), "engineer", "senior"),
    (Decimal(94), "engineer", "intermediate"),
    (Decimal(90), "engineer", "junior"),
    (Decimal(87), "technician", "senior"),
    (Decimal(84), "technician", "intermediate"),
    (Decimal(80), "technician", "junior"),
)
PASS_MARK = Decimal(80)
FINE_TIERS = (
    (Decimal("0.5"), Decimal(200)),
    (Decimal("0.4"), Decimal(150)),
    (Decimal("0.3"), Decimal(50)),
)
BRANCH_FEE = Decimal(200)  # R-19, per distinct training day


@dataclass(frozen=True)
class Stage:
    no: int
    topic: str
    content: str
    trainer_id: str
    product_series: str | None
    hours: str  # per day
    covers: tuple[str, ...] = ()  # R-7a content codes


@dataclass(frozen=True)
class TrainingDay:
    stage: int
    on: date
    agree: bool
    content: str
    method: str
    performance: str
    effect: str
    hours: str


@dataclass(frozen=True)
class SignOff:
    stage: int
    agree: bool
    assessment: str
    comment: str | None


@dataclass(frozen=True)
class SendBack:
    from_stage: int
    to_stage: int
    reason: str


TrainingStep = TrainingDay | SignOff | SendBack


@dataclass(frozen=True)
class Grade:
    passed: bool
    position: str | None
    level: str | None
    score: Decimal | None


@dataclass(frozen=True)
class Trainee:
    trainee_id: str
    name: str
    branch_id: str
    category: str
    education: str
    experience_years: Decimal
    certificates: tuple[str, ...]
    enrolled_series: tuple[str, ...]
    enrolled_on: date
    placement_written: Decimal
    placement_practical: Decimal | None
    stages: tuple[Stage, ...]
    steps: tuple[TrainingStep, ...]
    main_series: str
    written_examiner: str  # department
    written: Decimal
    practical: tuple[Decimal, ...]  # in DEPARTMENTS order
    grade: Grade = field(default=Grade(False, None, None, None))
    disposition: str | None = None
    pay_inputs: dict[str, str] = field(default_factory=dict)  # travel, rating, piece_rate

    @property
    def plan_level(self) -> str:
        return placement(self.placement_written, self.placement_practical)[1]

    @property
    def drafter(self) -> str:
        return (
            "production_manager"
            if self.category == "production_reserve"
            else ("after_sales_manager")
        )

    @property
    def mastered(self) -> tuple[str, ...]:
        trained = {s.product_series for s in self.stages if s.product_series}
        return tuple(sorted(set(self.enrolled_series) | trained))

    @property
    def main_trainer(self) -> str:
        return next(s.trainer_id for s in self.stages if s.product_series == self.main_series)

    @property
    def main_stage(self) -> int:
        return next(s.no for s in self.stages if s.product_series == self.main_series)

    @property
    def remedial_stages(self) -> tuple[Stage, ...]:
        """R-18a: after continue_training, one retraining stage per product stage, by the same
        trainer, numbered after the completed ones (no series: the completed stages keep what
        they mastered, R-14)."""
        product = [s for s in self.stages if s.product_series]
        return tuple(
            Stage(
                len(self.stages) + i + 1,
                "product",
                f"复训 retraining: {s.content.split(': ')[-1]}",
                s.trainer_id,
                None,
                "8",
            )
            for i, s in enumerate(product)
        )

    def planned(self, no: int) -> tuple[date, date]:
        days = [s.on for s in self.steps if isinstance(s, TrainingDay) and s.stage == no]
        return min(days), max(days)


@dataclass(frozen=True)
class Dispute:
    trainee_id: str
    by: Literal["trainee", "branch_clerk"]
    reason: str
    outcome: Literal["corrected", "upheld"]
    written: Decimal | None = None
    before: Grade | None = None


@dataclass(frozen=True)
class Fine:
    trainer_id: str
    session_id: str
    product_series: str | None  # None for the session on a training content
    trainees: int
    failed: int
    amount: Decimal
    content: str | None = None
    failed_ids: tuple[str, ...] = ()  # whom the fined trainer keeps training


@dataclass(frozen=True)
class Concern:
    """R-12b: a trainer notes that a trainee cannot keep up; the manager handles it."""

    trainee_id: str
    stage_no: int
    trainer_id: str
    text: str
    verified: bool
    handling: str


@dataclass(frozen=True)
class Scenario:
    seed: int
    prefix: str
    anchor: date  # the exam day; every training day lies before it
    trainees: tuple[Trainee, ...]
    disputes: tuple[Dispute, ...]
    fined_group: tuple[str, str]  # (series, trainer) whose failures earn a fine

    def session_id(self, series: str) -> str:
        return f"{self.prefix}-{series}"

    @property
    def sessions(self) -> list[str]:
        return sorted({t.main_series for t in self.trainees})

    def of_branch(self, branch_id: str) -> list[Trainee]:
        return [t for t in self.trainees if t.branch_id == branch_id]

    def trainee(self, trainee_id: str) -> Trainee:
        return next(t for t in self.trainees if t.trainee_id == trainee_id)

    @property
    def failed(self) -> list[Trainee]:
        return [t for t in self.trainees if not t.grade.passed]

    def concerns(self) -> dict[str, Concern]:
        """R-12b, by trainee: in each branch, the first branch-commissioned trainee who fails
        (else the first one) worried the trainer of its main stage, so the branch is told."""
        chosen: dict[str, Concern] = {}
        for branch_id in sorted({t.branch_id for t in self.trainees}):
            commissioned = [
                t for t in self.of_branch(branch_id) if t.category == "branch_commissioned"
            ]
            failing = [t for t in commissioned if not t.grade.passed]
            t = next(iter(failing or commissioned), None)
            if t is None:
                continue
            chosen[t.trainee_id] = Concern(
                t.trainee_id,
                t.main_stage,
                t.main_trainer,
                f"跟不上{t.main_series}系列的故障分析"
                f" cannot keep up with {t.main_series} fault finding",
                verified=not t.grade.passed,
                handling="延长实操一周并每日复习 one more week of practice, reviewed daily",
            )
        return chosen

    def expected_board(self) -> dict[tuple[str, str, str], list[str]]:
        """branch x position x level -> trainee ids, after the dispute corrections."""
        board: dict[tuple[str, str, str], list[str]] = {}
        for t in self.trainees:
            if t.grade.position is not None and t.grade.level is not None:
                board.setdefault((t.branch_id, t.grade.position, t.grade.level), []).append(
                    t.trainee_id
                )
        return {k: sorted(v) for k, v in sorted(board.items())}

    def expected_fines(self) -> list[Fine]:
        """R-24 per session x trainer of the session's series; then the content session's."""
        groups: dict[tuple[str, str], list[Trainee]] = {}
        for t in self.trainees:
            groups.setdefault((t.main_series, t.main_trainer), []).append(t)
        fines = []
        for (series, trainer), members in sorted(groups.items()):
            failed = sorted_ids([t for t in members if not t.grade.passed])
            amount = fine_for(len(members), len(failed))
            if amount:
                session = self.session_id(series)
                fines.append(
                    Fine(
                        trainer,
                        session,
                        series,
                        len(members),
                        len(failed),
                        amount,
                        None,
                        tuple(failed),
                    )
                )
        return fines + self.content_fines()

    @property
    def content_session_id(self) -> str:
        return f"{self.prefix}-{CONTENT}"

    @property
    def resitters(self) -> list[Trainee]:
        """Who sits the content session, with the scores they failed with: the failed sent to
        reserve or the workshop (their pay and fees do not depend on a later failure), or any
        failed when there are none of those; at most MOST_RESITTERS."""
        disposed = [t for t in self.failed if t.disposition in ("reserve", "workshop")]
        return sorted(disposed or self.failed, key=lambda t: t.trainee_id)[:MOST_RESITTERS]

    def content_fines(self) -> list[Fine]:
        """R-24 for the content session: its trainers are those of the stages teaching CONTENT;
        every re-sitter fails again."""
        trainers: dict[str, list[Trainee]] = {}
        for t in self.resitters:
            for trainer in {s.trainer_id for s in t.stages if s.topic == CONTENT}:
                trainers.setdefault(trainer, []).append(t)
        fines = []
        for trainer, members in sorted(trainers.items()):
            amount = fine_for(len(members), len(members))
            failed = tuple(sorted_ids(members))
            session = self.content_session_id
            fines.append(
                Fine(trainer, session, None, len(members), len(members), amount, CONTENT, failed)
            )
        return fines

    def expected_retraining(self) -> dict[tuple[str, str], list[str]]:
        """R-24: (trainer, session) -> the failed a fined trainer keeps training; none of them
        passes a later sitting in the demo."""
        return {(f.trainer_id, f.session_id): list(f.failed_ids) for f in self.expected_fines()}

    def expected_fees(self) -> dict[str, Decimal]:
        """R-19: one training day after ``continue_training`` for a commissioned trainee."""
        return {
            t.trainee_id: BRANCH_FEE
            for t in self.trainees
            if t.disposition == "continue_training" and t.category == "branch_commissioned"
        }

    def paid(self) -> list[Trainee]:
        """R-31: the company pays HQ staff only; each ends with a rate (a grade or reserve)."""
        return [t for t in self.trainees if t.category != "branch_commissioned"]

    def payslips(self) -> list[str]:
        """Who gets a payslip: HQ staff with a graded position (R-30: reserve has no lines)."""
        return sorted(t.trainee_id for t in self.paid() if t.grade.position is not None)


# --- the rules, read independently of the services ------------------------------------------


def placement(written: Decimal, practical: Decimal | None) -> tuple[str, str]:
    """R-6: (starting position, plan level)."""
    average = written if practical is None else (written + practical) / 2
    if average >= 90:
        return "engineer", "advanced"
    if average >= 80:
        return "technician", "intermediate"
    return "reserve", "basic"


def eligible(
    position: str, education: str, experience: Decimal, certificates: int, series: int
) -> bool:
    """R-21 with the policy decisions of docs/rules.md."""
    rank = EDUCATION_RANK[education]
    if position == "engineer":
        return rank >= 1 and experience >= 3 and series >= 3
    by_education = rank >= 1 or (certificates >= 1 and experience >= 1)
    return by_education and series >= 2


def grade(t: Trainee, written: Decimal | None = None) -> Grade:
    """R-15 to R-21 on the trainee's scores (``written`` replaces the written score)."""
    w = t.written if written is None else written
    mean = sum(t.practical, Decimal(0)) / len(t.practical)
    if w < PASS_MARK or mean < PASS_MARK:
        return Grade(False, None, None, None)
    score = (w + mean) / 2
    band = next(((p, lv) for floor, p, lv in BANDS if score >= floor), None)
    if band is None:
        return Grade(True, None, None, score)
    facts = (t.education, t.experience_years, len(set(t.certificates)), len(t.mastered))
    position, level = band
    if position == "engineer" and not eligible("engineer", *facts):
        position, level = "technician", "senior"
    if not eligible(position, *facts):
        return Grade(True, None, None, score)
    return Grade(True, position, level, score)


def fine_for(trainees: int, failed: int) -> Decimal:
    rate = Decimal(failed) / Decimal(trainees)
    return next((fine for floor, fine in FINE_TIERS if rate >= floor), Decimal(0))


# --- drawing the scenario ---------------------------------------------------------------------


def _score(value: float) -> Decimal:
    return Decimal(str(round(min(100.0, max(0.0, value)), 1)))


def _apportion(total: int) -> dict[str, int]:
    """Trainees per branch by weight (largest remainder), at least one each."""
    weights = sum(BRANCH_WEIGHTS.values())
    counts = {b: max(1, total * w // weights) for b, w in BRANCH_WEIGHTS.items()}
    order = sorted(BRANCHES, key=lambda b: -(total * BRANCH_WEIGHTS[b] % weights))
    i = 0
    while sum(counts.values()) < total:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts.values()) > total:  # tiny totals: the minimum of one overshot
        biggest = max(BRANCHES, key=lambda b: counts[b])
        counts[biggest] -= 1
    return counts


def _working_days_before(anchor: date, count: int, gap: int) -> list[date]:
    """``count`` working days, ascending, ending ``gap`` working days before ``anchor``."""
    days: list[date] = []
    current = anchor
    skipped = 0
    while len(days) < count:
        current -= timedelta(days=1)
        if current.weekday() >= 5:
            continue
        if skipped < gap:
            skipped += 1
            continue
        days.append(current)
    return days[::-1]


@dataclass
class _Draft:
    """One trainee while its schedule is drawn (slots become dates once the anchor is known)."""

    trainee_id: str
    name: str
    branch_id: str
    category: str
    education: str
    experience: Decimal
    certificates: tuple[str, ...]
    enrolled_series: tuple[str, ...]
    training_series: tuple[str, ...]
    trainers: tuple[str, ...]  # per training series
    ability: float
    placement_written: Decimal
    placement_practical: Decimal | None
    day_counts: tuple[int, ...]  # per product stage
    contents: tuple[str, ...]  # per product stage
    day_notes: list[tuple[str, str, str]]  # method, performance, effect per day drawn
    dissent_days: set[int]  # indexes into the day sequence
    disputed_stages: set[int]
    send_back: bool
    gap: int
    enrol_lead: int
    written_examiner: str
    written: Decimal = Decimal(0)
    practical: tuple[Decimal, ...] = ()
    pay: dict[str, str] = field(default_factory=dict)


def build(seed: int, trainees: int, anchor: date) -> Scenario:
    """The whole scenario for ``seed`` with ``trainees`` trainees (at least 5: one per branch)."""
    if trainees < 5:
        raise ValueError("the demo needs at least 5 trainees: one per branch")
    rng = random.Random(seed)
    prefix = f"d{seed}n{trainees}"  # another seed or size is another scenario, never a clash
    drafts: list[_Draft] = []
    for branch, count in _apportion(trainees).items():
        production = count // 3 if branch == "hq" and count >= 2 else 0
        for k in range(count):
            category = (
                "branch_commissioned"
                if branch != "hq"
                else ("production_reserve" if k >= count - production else "hq_full_time")
            )
            drafts.append(_draw(rng, f"{prefix}-{branch}-{k + 1:03d}", branch, category))
    _draw_exams(rng, drafts)
    fined = _decide_failures(rng, drafts)
    _ensure_variety(rng, drafts)
    people = [_schedule(d, anchor) for d in drafts]
    people = [replace(t, grade=grade(t)) for t in people]
    people = [replace(t, disposition=_disposition(t)) for t in people]
    disputes, people = _disputes(people)
    return Scenario(seed, prefix, anchor, tuple(people), tuple(disputes), fined)


def _draw(rng: random.Random, trainee_id: str, branch: str, category: str) -> _Draft:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    education = rng.choices([e for e, _ in EDUCATION], [w for _, w in EDUCATION])[0]
    experience = Decimal(rng.choice(range(0, 25))) / 2  # 0 to 12 years, by half years
    if category == "branch_commissioned":
        experience += 1  # dealers send staff who already service machines
    certificates: tuple[str, ...] = ()
    if education == "junior_high" and rng.random() < 0.75:
        experience = max(experience, Decimal(1))
        certificates = (rng.choice(CERTIFICATES),)
    elif rng.random() < 0.3:
        certificates = tuple(rng.sample(CERTIFICATES, rng.choice((1, 1, 2))))
    known = rng.choice((0, 1, 1, 2)) if experience >= 3 else rng.choice((0, 0, 1))
    enrolled_series = tuple(sorted(rng.sample(SERIES, known)))
    open_series = [s for s in SERIES if s not in enrolled_series]
    wanted = 2 if len(enrolled_series) == 0 and rng.random() < 0.8 else rng.choice((1, 1, 2))
    training_series = tuple(rng.sample(open_series, min(wanted, len(open_series))))
    trainers = tuple(rng.choice(SERIES_TRAINERS[s]) for s in training_series)
    ability = min(98.5, max(72.0, rng.gauss(87.0, 4.2)))
    placement_written = _score(ability - 5 + rng.gauss(0, 4))
    placement_practical = _score(ability - 3 + rng.gauss(0, 4)) if experience >= 2 else None
    level = placement(placement_written, placement_practical)[1]
    day_counts = tuple(rng.choice((2, 2, 3)) for _ in training_series)
    contents = tuple(
        f"{SERIES_NAMES[s]}: " + "、".join(rng.sample(PLAN_CONTENT[level], 2))
        for s in training_series
    )
    total_days = 2 + sum(day_counts) + 1  # orientation, product days, a remedial day if sent back
    day_notes = [
        (rng.choice(METHODS), rng.choice(PERFORMANCE), rng.choice(EFFECT))
        for _ in range(4 + sum(day_counts) + 1)
    ]
    dissent_days = {i for i in range(len(day_notes)) if rng.random() < 0.03}
    disputed_stages = {no for no in range(1, 5 + len(training_series)) if rng.random() < 0.025}
    return _Draft(
        trainee_id=trainee_id,
        name=name,
        branch_id=branch,
        category=category,
        education=education,
        experience=experience,
        certificates=certificates,
        enrolled_series=enrolled_series,
        training_series=training_series,
        trainers=trainers,
        ability=ability,
        placement_written=placement_written,
        placement_practical=placement_practical,
        day_counts=day_counts,
        contents=contents,
        day_notes=day_notes,
        dissent_days=dissent_days,
        disputed_stages=disputed_stages,
        send_back=rng.random() < 0.05,
        gap=rng.choice(range(0, 8)) + total_days % 2,
        enrol_lead=rng.choice(range(3, 12)),
        written_examiner=rng.choice(WRITTEN_EXAMINERS),
    )


def _draw_exams(rng: random.Random, drafts: Iterable[_Draft]) -> None:
    for d in drafts:
        d.written = _score(d.ability + rng.gauss(1.0, 3.0))
        d.practical = tuple(_score(d.ability + rng.gauss(1.0, 2.5)) for _ in DEPARTMENTS)
        hq = d.category == "hq_full_time"
        d.pay = {
            "travel": str(rng.choice(range(0, 9 if hq else 5))),
            "rating": rng.choice(("100", "95", "92.5", "90", "85", "80")),
            "piece_rate": f"{rng.choice(range(5600, 9600)) / 2:.2f}",
        }


def _passes(d: _Draft) -> bool:
    mean = sum(d.practical, Decimal(0)) / len(d.practical)
    return d.written >= PASS_MARK and mean >= PASS_MARK


def _make_pass(rng: random.Random, d: _Draft) -> None:
    d.written = max(d.written, _score(rng.uniform(80.5, 88.0)))
    while not _passes(d):
        d.practical = tuple(max(p, _score(rng.uniform(79.0, 88.0))) for p in d.practical)


def _make_fail(rng: random.Random, d: _Draft) -> None:
    if rng.random() < 0.6:  # the written exam fails
        d.written = _score(rng.uniform(66.0, 79.5))
    else:  # the practical mean fails
        d.practical = tuple(_score(rng.uniform(68.0, 82.0)) for _ in DEPARTMENTS)
        if _passes(d):
            d.practical = tuple(min(p, Decimal("78.5")) for p in d.practical)


def _decide_failures(rng: random.Random, drafts: list[_Draft]) -> tuple[str, str]:
    """R-24 groups (series x trainer): one trainer fails >= 40 % of its trainees (a fine); every
    other group stays under 30 % (no fine). Returns the fined group."""
    groups: dict[tuple[str, str], list[_Draft]] = {}
    for d in drafts:
        groups.setdefault((d.training_series[0], d.trainers[0]), []).append(d)

    def dealers(members: list[_Draft]) -> int:
        return sum(1 for m in members if m.branch_id in DEALERS)

    fined = max(sorted(groups), key=lambda g: (dealers(groups[g]) > 0, len(groups[g])))
    for key, members in sorted(groups.items()):
        if key == fined:
            to_fail = max(1, math.ceil(Decimal("0.4") * len(members)))
            first = [m for m in members if m.branch_id in DEALERS][: min(2, to_fail)]
            rest = [m for m in members if m not in first]
            failing = first + rng.sample(rest, max(0, to_fail - len(first)))
            for m in members:
                (_make_fail if m in failing else _make_pass)(rng, m)
            continue
        allowed = math.ceil(Decimal("0.3") * len(members)) - 1
        failing = [m for m in members if not _passes(m)]
        keep = set(map(id, rng.sample(failing, min(allowed, len(failing)))))
        for m in failing:
            if id(m) not in keep:
                _make_pass(rng, m)
    return fined


def _ensure_variety(rng: random.Random, drafts: list[_Draft]) -> None:
    """At least one dissenting day, one disputed sign-off and one send-back, however small."""
    if not any(d.dissent_days for d in drafts):
        rng.choice(drafts).dissent_days.add(1)
    if not any(d.disputed_stages for d in drafts):
        rng.choice(drafts).disputed_stages.add(2)
    if not any(d.send_back for d in drafts):
        rng.choice(drafts).send_back = True


def _schedule(d: _Draft, anchor: date) -> Trainee:
    """The plan table and the training steps in the order they happen, dated."""
    stages = [
        Stage(i + 1, topic, content, trainer, None, "4")
        for i, (topic, content, trainer) in enumerate(MANDATORY)
    ]
    covers = CONTENT_ITEMS[placement(d.placement_written, d.placement_practical)[1]]
    for i, series in enumerate(d.training_series):  # each teaches the level's items (R-7a)
        stages.append(Stage(5 + i, "product", d.contents[i], d.trainers[i], series, "8", covers))
    # Slots: 0 = orientation stages 1-2, 1 = stages 3-4, then the product days in order.
    slots_needed = 2 + sum(d.day_counts) + (1 if d.send_back else 0)
    dates = _working_days_before(anchor, slots_needed, d.gap)
    notes = iter(enumerate(d.day_notes))
    slot = iter(range(slots_needed))
    steps: list[TrainingStep] = []

    def day(stage: Stage, on_slot: int) -> TrainingDay:
        index, (method, performance, effect) = next(notes)
        content = stage.content if stage.product_series is None else stage.content.split(": ")[-1]
        return TrainingDay(
            stage.no,
            dates[on_slot],
            index not in d.dissent_days,
            content,
            method,
            performance,
            effect,
            stage.hours,
        )

    def sign(stage: Stage) -> SignOff:
        disputed = stage.no in d.disputed_stages
        comment = DISAGREE[stage.no % 2] if disputed else None
        assessment = f"{TRAINERS[stage.trainer_id].name}: 达到培训目标 goal reached"
        return SignOff(stage.no, not disputed, assessment, comment)

    orientation = [next(slot), next(slot)]
    for stage in stages[:4]:
        steps.append(day(stage, orientation[(stage.no - 1) // 2]))
        steps.append(sign(stage))
    product = stages[4:]
    back_from = product[-1].no if d.send_back else None
    back_to = (back_from - 1 if len(product) > 1 else 1) if back_from else None
    for stage, count in zip(product, d.day_counts, strict=True):
        for n in range(count):
            steps.append(day(stage, next(slot)))
            if stage.no == back_from and back_to is not None and n == 0:
                earlier = stages[back_to - 1]
                reason = (
                    f"{stage.product_series} 调试中发现第{back_to}阶段目标未达到"
                    f" stage {back_to} ({earlier.content.split(': ')[-1]}) goal not reached"
                )
                steps.append(SendBack(stage.no, back_to, reason))
                steps.append(day(earlier, next(slot)))
                steps.append(sign(earlier))
        steps.append(sign(stage))
    return Trainee(
        trainee_id=d.trainee_id,
        name=d.name,
        branch_id=d.branch_id,
        category=d.category,
        education=d.education,
        experience_years=d.experience,
        certificates=d.certificates,
        enrolled_series=d.enrolled_series,
        enrolled_on=dates[0] - timedelta(days=d.enrol_lead),
        placement_written=d.placement_written,
        placement_practical=d.placement_practical,
        stages=tuple(stages),
        steps=tuple(steps),
        main_series=d.training_series[0],
        written_examiner=d.written_examiner,
        written=d.written,
        practical=d.practical,
        pay_inputs=d.pay,
    )


def _disposition(t: Trainee) -> str | None:
    """R-18: dealers insist on more training (R-19 fee); the others go to reserve or workshop."""
    if t.grade.passed:
        return None
    if t.branch_id in DEALERS:
        return "continue_training"
    return "workshop" if t.category == "production_reserve" else "reserve"


def _disputes(people: list[Trainee]) -> tuple[list[Dispute], list[Trainee]]:
    """R-23: one HQ engineer's written exam was mis-marked (corrected, a level up where the
    score allows); one branch office disputes a grade that is upheld."""
    disputes: list[Dispute] = []
    graded = [t for t in people if t.grade.position is not None]
    preferred = [t for t in graded if t.category == "hq_full_time"] or graded
    choice: tuple[Trainee, Decimal, Grade] | None = None
    for t in preferred:
        for delta in (Decimal(2), Decimal(3), Decimal(4), Decimal(5)):
            written = min(Decimal(100), t.written + delta)
            better = grade(t, written)
            if (better.position, better.level) != (t.grade.position, t.grade.level):
                choice = (t, written, better)
                break
        if choice:
            break
    if choice is None and preferred:
        t = preferred[0]
        written = min(Decimal(100), t.written + Decimal(2))
        choice = (t, written, grade(t, written))
    if choice is not None:
        t, written, better = choice
        reason = "笔试第7题漏计分 question 7 of the written exam was not counted"
        disputes.append(Dispute(t.trainee_id, "trainee", reason, "corrected", written, t.grade))
        people = [replace(p, grade=better) if p is t else p for p in people]
    offices = [
        t
        for t in people
        if t.branch_id.startswith("bo-")
        and t.grade.position is not None
        and all(d.trainee_id != t.trainee_id for d in disputes)
    ]
    if offices:
        reason = "办事处认为实操评分偏低 the office finds the practical marks too low"
        disputes.append(Dispute(offices[0].trainee_id, "branch_clerk", reason, "upheld"))
    return disputes, people


def describe(scenario: Scenario) -> dict[str, object]:
    """Counts that say what the scenario holds (for the summary and the tests)."""
    steps = [s for t in scenario.trainees for s in t.steps]
    return {
        "trainees": len(scenario.trainees),
        "by_branch": dict(Counter(t.branch_id for t in scenario.trainees)),
        "by_category": dict(Counter(t.category for t in scenario.trainees)),
        "trainers": len({s.trainer_id for t in scenario.trainees for s in t.stages}),
        "training_days": sum(1 for s in steps if isinstance(s, TrainingDay)),
        "dissenting_days": sum(1 for s in steps if isinstance(s, TrainingDay) and not s.agree),
        "disputed_sign_offs": sum(1 for s in steps if isinstance(s, SignOff) and not s.agree),
        "send_backs": sum(1 for s in steps if isinstance(s, SendBack)),
        "sessions": len(scenario.sessions),
        "failed": len(scenario.failed),
        "dispositions": dict(Counter(t.disposition for t in scenario.failed)),
    }


def sorted_ids(trainees: Sequence[Trainee]) -> list[str]:
    return sorted(t.trainee_id for t in trainees)
