"""One person's data, as a supervisor handles a request about it: find their calls, save them
for the person (subject access), erase their details, or hold them for a legal case."""

from __future__ import annotations

from advice_desk.privacy.erasure import Erasure
from advice_desk.privacy.subject_access import SubjectAccess


class PersonalData(SubjectAccess, Erasure):
    """:class:`SubjectAccess` and :class:`Erasure` bound together: the desk's ``people``."""
