"""A member's profile: what an edit may contain, and how complete a profile is. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import rules
from .errors import FieldChecks, InvalidInput
from .policy import Policy

FIELDS = ("name", "headline", "about", "location", "experience", "education", "skills")


@dataclass(frozen=True)
class Position:
    title: str
    organization: str


@dataclass(frozen=True)
class Education:
    school: str
    degree: str | None = None


@dataclass(frozen=True)
class ProfileUpdate:
    """None leaves a field unchanged; an empty string or list clears it; `cleared` names fields set to null."""

    name: str | None = None
    headline: str | None = None
    about: str | None = None
    location: str | None = None
    experience: list[Position] | None = None
    education: list[Education] | None = None
    skills: list[str] | None = None
    cleared: frozenset[str] = field(default_factory=frozenset)


def clean(update: ProfileUpdate, policy: Policy) -> dict[str, Any]:
    """Validated, trimmed values of the fields the update names. Every bad field is refused, together."""
    p = policy
    checks = FieldChecks()
    values: dict[str, Any] = {}
    if update.name is not None or "name" in update.cleared:
        values["name"] = checks(partial(rules.require_text, update.name, ["name"], p.name_max_length))
    for name, limit in (("headline", p.headline_max_length), ("about", p.about_max_length),
                        ("location", p.location_max_length)):
        value = getattr(update, name)
        if value is not None or name in update.cleared:
            values[name] = checks(partial(rules.require_text, value, [name], limit, required=False))

    def text(value: str | None, *path: str, required: bool = True) -> str | None:
        return checks(partial(rules.require_text, value, list(path), p.profile_item_max_length, required=required))

    for name in ("experience", "education", "skills"):
        items = getattr(update, name)
        if items is None:
            if name in update.cleared:
                values[name] = []
            continue
        if len(items) > p.profile_list_max_items:
            checks.refusals.append(InvalidInput(f"At most {p.profile_list_max_items} {name} entries.", [name]))
            continue
        if name == "experience":
            values[name] = [{"title": text(e.title, name, str(i), "title"),
                             "organization": text(e.organization, name, str(i), "organization")}
                            for i, e in enumerate(items)]
        elif name == "education":
            values[name] = [{"school": text(e.school, name, str(i), "school"),
                             "degree": text(e.degree, name, str(i), "degree", required=False)}
                            for i, e in enumerate(items)]
        else:
            skills: list[str] = []
            for i, skill in enumerate(items):
                kept = text(skill, name, str(i))
                if kept is not None and kept.casefold() not in {s.casefold() for s in skills}:
                    skills.append(kept)
            values[name] = skills
    checks.done()
    return values


def completion(headline: str | None, about: str | None, location: str | None, experience: Sequence[Any],
               education: Sequence[Any], skills: Sequence[Any], policy: Policy) -> int:
    """0 to 100, in steps of one sixth, rounded down."""
    return rules.profile_completion(headline, about, location, len(experience), len(education), len(skills), policy)
