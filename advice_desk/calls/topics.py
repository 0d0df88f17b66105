"""Call topics: what the intake form offers, and the supervisor's editor (add, rename,
reorder, retire and restore).

Codes are stable keys: made once from the label (``financial.kinship-allowance``) and never
changed, so old calls and old reports keep pointing at the right topic whatever it is called
now. Topics are never deleted; a retired topic stays on old calls and in reports, and is not
offered for new calls. There are two levels only: top-level topics and their subtopics.

Every change checks the actor's role first and writes a ``taxonomy-changed`` audit event in the
same transaction. The audit detail names the change and the topic's labels, never a person.
"""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session, col, select

from advice_desk.calls.topic_views import TopicChoice, TopicRow
from advice_desk.people import audit
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, require
from advice_desk.store.engine import Store
from advice_desk.store.models import Topic
from advice_desk.validation import FieldError, ValidationError

AUDIT_ACTION = "taxonomy-changed"
CODE_MAX = 80  # Topic.code's column length
LABEL_MAX = 200  # Topic.label's column length
SLUG_MAX = 36  # a readable code, with room for a parent's code in front
APOSTROPHES = "'`\u2019"
# Latin letters that Unicode does not decompose to an ASCII letter and an accent.
_LATIN = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d",
                        "ð": "d", "þ": "th", "ı": "i"})


def topics_in_order(store: Store, include_retired: bool = True) -> dict[str, Topic]:
    """All topics by code, in display order (parents before their subtopics)."""
    with store.read() as session:
        statement = select(Topic).order_by(col(Topic.position))
        if not include_retired:
            statement = statement.where(col(Topic.retired).is_(False))
        topics = session.exec(statement).all()
    ordered: dict[str, Topic] = {}
    for parent in (t for t in topics if t.parent_code is None):
        ordered[parent.code] = parent
        ordered.update((t.code, t) for t in topics if t.parent_code == parent.code)
    return ordered


def topic_labels(store: Store) -> dict[str, str]:
    """The label of every topic by its code, retired ones included (old calls name them)."""
    return {code: topic.label for code, topic in topics_in_order(store).items()}


def slug(label: str) -> str:
    """Lower-case ASCII words joined by hyphens: ``Guardian's Allowance`` → ``guardians-allowance``.

    A label with no Latin letters or digits at all gives ``topic``.
    """
    kept = []
    for char in unicodedata.normalize("NFKD", label.lower().translate(_LATIN)):
        if char.isascii() and char.isalnum():
            kept.append(char)
        elif char in APOSTROPHES or unicodedata.category(char)[0] in "LMN":
            continue  # accents, and letters or digits with no ASCII form, are dropped
        else:
            kept.append("-")  # spaces, punctuation and symbols separate words
    words = re.sub(r"-+", "-", "".join(kept)).strip("-")
    return words[:SLUG_MAX].rstrip("-") or "topic"


# --- the editor ----------------------------------------------------------------------------

class Topics(Manager):
    """The topics for the intake form, and the supervisor's editor of them.

    Every change checks the actor's role first and is audited in the same transaction.
    """

    def choices(self) -> list[TopicChoice]:
        """Every topic, parents before their subtopics, retired ones included (old calls)."""
        ordered = topics_in_order(self.store)
        choices = []
        for topic in ordered.values():
            parent = ordered.get(topic.parent_code) if topic.parent_code else None
            choices.append(TopicChoice(topic.code, topic.label,
                                       parent.label if parent else None, topic.retired))
        return choices

    def rows(self) -> list[TopicRow]:
        """Every topic, retired ones included: parents by position, each followed by its
        subtopics by position."""
        return [TopicRow(t.code, t.label, t.parent_code, t.position, t.retired)
                for t in topics_in_order(self.store).values()]

    def add(self, label: str, parent_code: str | None) -> str:
        """Add a topic (a subtopic under ``parent_code``) as the last of its siblings; returns
        its new code. Raises :class:`ValidationError` on ``label`` or ``parent``."""
        require(self.actor, Action.TAXONOMY)
        label = _checked_label(label)
        with self.store.write() as session:
            prefix = ""
            if parent_code is not None:
                prefix = _parent_for_new(session, parent_code).code + "."
            code = _unique_code(session, prefix, slug(label))
            siblings = _siblings(session, parent_code)
            position = max((s.position for s in siblings), default=-1) + 1
            session.add(Topic(code=code, parent_code=parent_code, label=label,
                              position=position))
            detail = {"change": "added", "label": label}
            if parent_code is not None:
                detail["parent"] = parent_code
            self._audit(session, code, detail)
            return code

    def rename(self, code: str, label: str) -> None:
        """Give a topic a new label; its code stays as it is."""
        require(self.actor, Action.TAXONOMY)
        label = _checked_label(label)
        with self.store.write() as session:
            topic = _topic(session, code)
            if topic.label == label:
                return
            previous, topic.label = topic.label, label
            session.add(topic)
            self._audit(session, code,
                        {"change": "renamed", "label": label, "previous label": previous})

    def move(self, code: str, offset: int) -> None:
        """Move a topic ``offset`` places among its siblings (-1 up, +1 down), numbering their
        positions 0..n-1 again; nothing happens at either end."""
        require(self.actor, Action.TAXONOMY)
        with self.store.write() as session:
            topic = _topic(session, code)
            siblings = _siblings(session, topic.parent_code)
            index = next(i for i, s in enumerate(siblings) if s.code == code)
            target = max(0, min(len(siblings) - 1, index + offset))
            if target == index:
                return
            siblings.insert(target, siblings.pop(index))
            for position, sibling in enumerate(siblings):
                if sibling.position != position:
                    sibling.position = position
                    session.add(sibling)
            self._audit(session, code,
                        {"change": "moved", "position": target, "previous position": index})

    def retire(self, code: str) -> None:
        """Retire a topic; a top-level topic with all its subtopics."""
        self._set_retired(code, True)

    def restore(self, code: str) -> None:
        """Offer a retired topic again. A top-level topic is restored alone: subtopics retired
        with it stay retired until restored one by one. A subtopic cannot be restored while
        its parent is retired."""
        self._set_retired(code, False)

    def _set_retired(self, code: str, retired: bool) -> None:
        require(self.actor, Action.TAXONOMY)
        with self.store.write() as session:
            topic = _topic(session, code)
            cascaded: list[str] = []
            if retired and topic.parent_code is None:
                for child in _siblings(session, code):
                    if not child.retired:
                        child.retired = True
                        session.add(child)
                        cascaded.append(child.code)
            if not retired and topic.parent_code is not None:
                parent = session.get(Topic, topic.parent_code)
                if parent is not None and parent.retired:
                    raise _error("code", f"{topic.label} is under {parent.label}, which is "
                                         f"retired: restore {parent.label} first")
            if topic.retired == retired and not cascaded:
                return
            topic.retired = retired
            session.add(topic)
            detail: dict[str, str | list[str]] = {
                "change": "retired" if retired else "restored"}
            if cascaded:
                detail["subtopics"] = cascaded
            self._audit(session, code, detail)

    def _audit(self, session: Session, code: str, detail: audit.AuditDetail) -> None:
        audit.record(session, self.clock, self.actor, AUDIT_ACTION, subject=f"topic {code}",
                     detail=detail)


# --- helpers -------------------------------------------------------------------------------

def _error(field: str, message: str) -> ValidationError:
    return ValidationError([FieldError(field, message)])


def _checked_label(label: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise _error("label", "give the topic a label")
    if len(label) > LABEL_MAX:
        raise _error("label", f"keep the label to {LABEL_MAX} characters")
    return label


def _parent_for_new(session: Session, parent_code: str) -> Topic:
    """The topic a new subtopic goes under: it must exist, be top-level and be offered."""
    parent = session.get(Topic, parent_code)
    if parent is None:
        raise _error("parent", f"there is no topic {parent_code!r}")
    if parent.parent_code is not None:
        raise _error("parent", f"{parent.label} is itself a subtopic: topics have "
                               "two levels only")
    if parent.retired:
        raise _error("parent", f"{parent.label} is retired: restore it first")
    return parent


def _topic(session: Session, code: str) -> Topic:
    topic = session.get(Topic, code)
    if topic is None:
        raise _error("code", f"there is no topic {code!r}")
    return topic


def _siblings(session: Session, parent_code: str | None) -> list[Topic]:
    """The topics under ``parent_code`` (the top level for None), in their order."""
    parent = (col(Topic.parent_code).is_(None) if parent_code is None
              else col(Topic.parent_code) == parent_code)
    statement = select(Topic).where(parent).order_by(col(Topic.position), col(Topic.code))
    return list(session.exec(statement))


def _unique_code(session: Session, prefix: str, base: str) -> str:
    """``prefix + base``, or with -2, -3, ... when taken (retired topics keep their codes)."""
    number = 1
    while True:
        suffix = "" if number == 1 else f"-{number}"
        stem = base[:CODE_MAX - len(prefix) - len(suffix)].rstrip("-") or "topic"
        code = prefix + stem + suffix
        if session.get(Topic, code) is None:
            return code
        number += 1
