"""How answers print figures: exactly as the bulletin printed them, with their period and source.

Only wording lives here; every figure, name and source comes from the store's facts.
"""
from __future__ import annotations

from typing import Iterable

from rasa_sdk.executor import CollectingDispatcher

from knowledge.models import Fact, period_label

# Why a figure is flagged, said to an agent who may quote it.
FLAG_NOTES = {
    "duplicate_row": "简报中该行重复出现，引用前请核对",
    "out_of_scale": "该数与同类数据相差悬殊，可能是简报录入错误，引用前请核对",
    "total_mismatch": "简报中分项相加与该合计不符，引用前请核对",
}


def when(fact: Fact) -> str:
    """2023年 for a figure of the period; 截至2023年底 for a running total at its end."""
    label = period_label(fact.period)
    return f"截至{label}底" if fact.scope == "cumulative" else label


def amount(fact: Fact) -> str:
    """The value as printed, with its unit unless the value already carries it."""
    if fact.unit and not fact.value.endswith(fact.unit):
        return f"{fact.value}{fact.unit}"
    return fact.value


def figure_line(fact: Fact, *, subject: bool = True) -> str:
    head = f"{fact.subject.name}" if subject else ""
    line = f"{head}{when(fact)}{fact.measure}：{amount(fact)}"
    if fact.flag in FLAG_NOTES:
        line += f"（注意：{FLAG_NOTES[fact.flag]}）"
    return line


def sources(facts: Iterable[Fact]) -> str:
    """来源：《…》2024年第1期（表或段落）; several sources joined."""
    seen: list[str] = []
    for fact in facts:
        cite = fact.bulletin.citation
        if fact.section:
            cite += f"“{fact.section}”"
        if cite not in seen:
            seen.append(cite)
    return "来源：" + "；".join(seen) if seen else ""


def compact(facts: list[Fact], limit: int = 12) -> str:
    """Several figures of one subject and period in one line: a、b、c."""
    # A number reads on from its measure (门急诊人次12万); a text needs a colon (地址：…).
    parts = [f"{f.measure}{amount(f)}" if f.number is not None else f"{f.measure}：{amount(f)}"
             for f in facts[:limit]]
    more = f"等{len(facts)}项" if len(facts) > limit else ""
    return "、".join(parts) + more


def grouped(facts: list[Fact], limit: int = 12) -> str:
    """Figures of one subject grouped by when they hold: 截至2023年底：a、b；2023年：c."""
    groups: dict[str, list[Fact]] = {}
    for fact in facts:
        groups.setdefault(when(fact), []).append(fact)
    return "；".join(f"{label}：{compact(group, limit)}" for label, group in groups.items())


def ask_which(dispatcher: CollectingDispatcher, said: str, candidates: list[str], entity: str = "hospital") -> None:
    """An ambiguous name: ask which one, the candidates as buttons."""
    dispatcher.utter_message(
        text=f"“{said}”有{len(candidates)}家：{'、'.join(candidates)}。请问是哪一家？",
        buttons=[{"title": c, "payload": f'/inform{{"{entity}": "{c}"}}'} for c in candidates],
    )
