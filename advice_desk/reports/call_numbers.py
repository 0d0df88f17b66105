"""The calls of the extract's period as numbers: what the file is made from, read once.

The store is read once (:func:`advice_desk.reports.passes.numbers`, a statement a month that
gives one text of numbers, and :func:`advice_desk.reports.passes.code_pairs` for the topic
and outcome sets); each call is kept as a few numbers, never as a row: its id, its
key (the quasi values, one number), its topic and outcome sets (bits) and its contact (a
number into the distinct contacts, each held once). That is about 40 bytes a call (a million
calls: some 40 MB), and the search, the repeat callers and the writing all work on these
arrays. The file is written from the numbers in the order the export's secret decides, which
no database sort has to make.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from advice_desk.reports import extract, passes
from advice_desk.reports.extract import Cancelled, stop_if
from advice_desk.reports.lattice import numbered

Ints = npt.NDArray[np.int64]


class Dense(dict[object, int]):
    """Each distinct value its number, in the order first met (a miss numbers the value)."""

    def __missing__(self, value: object) -> int:
        number = self[value] = len(self)
        return number


@dataclass
class Sets:
    """Per call a set of codes (``numbers[i]``, into ``texts``: each a sorted ``;``-joined text
    of the set's codes, or of their top-level codes)."""

    numbers: Ints
    texts: list[str]


@dataclass
class Rows:
    """What each line of the file is made of, per call (index ``i`` of every array): its class
    at the chosen node (into ``before`` and ``after``, the cells before its topics and after
    its repeat flag), its topic set, outcome set and repeat flag."""

    classes: Ints
    before: list[str]
    after: list[str]
    topics: Sets
    outcomes: Sets
    repeats: npt.NDArray[np.int8]


Details = list[tuple[str | None, str | None]]  # the distinct (phone, email) pairs read


def read_numbers(texts: Iterable[tuple[str, list[str]]], width: int,
                 cancelled: Cancelled) -> tuple[Ints, list[Ints], Ints, Details]:
    """The ids and ``width`` numbers of each call, from the texts of
    :func:`advice_desk.reports.passes.numbers` (parsed by numpy, a month at a time), and
    each call's contact (if read) as a number into the distinct pairs read."""
    columns: list[list[Ints]] = [[] for _ in range(width + 2)]
    details = Dense()
    for text, contacts in texts:
        stop_if(cancelled)
        table = np.fromstring(text, dtype=np.int64, sep=",").reshape(-1, width + 1)
        for i in range(width + 1):
            columns[i].append(table[:, i].copy())  # the month's text and table go at once
        columns[-1].append(np.array([details[c] for c in contacts], dtype=np.int64))
    ids, *values, contact = (_joined(column) for column in columns)
    return ids, values, contact, [passes.contact_pair(str(text)) for text in details]


def bits_by_call(ids: Ints, texts: Iterable[str], cancelled: Cancelled) -> Ints:
    """Per call of ``ids``, the bits of its pairs (the texts of
    :func:`advice_desk.reports.passes.code_pairs`) or'ed together: a call with two topics
    under one top-level topic has its bit once. Pairs of other calls are dropped."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    made = np.zeros(len(ids), dtype=np.int64)
    for text in texts:
        stop_if(cancelled)
        pairs = np.fromstring(text, dtype=np.int64, sep=",").reshape(-1, 2)
        at = np.minimum(np.searchsorted(sorted_ids, pairs[:, 0]), max(len(ids) - 1, 0))
        ours = sorted_ids[at] == pairs[:, 0] if len(ids) else np.zeros(len(pairs), bool)
        np.bitwise_or.at(made, at[ours], pairs[ours, 1])
    result = np.empty_like(made)
    result[order] = made
    return result


def bit_sets(bits: Ints, names: list[str]) -> Sets:
    """Sets of codes held as bits (bit ``n`` for ``names[n]``) as numbers of their texts."""
    masks, numbers, _ = numbered(bits)
    texts = [";".join(name for n, name in enumerate(names) if mask >> n & 1)
             for mask in masks.tolist()]
    return Sets(numbers, texts)


def in_order(ids: Ints, read_ids: Ints, *read: Ints) -> list[Ints]:
    """``read`` (arrays in the order of ``read_ids``) in the order of ``ids``: two reads of
    one snapshot hold the same calls, in whatever order each gave them."""
    if np.array_equal(ids, read_ids):
        return list(read)
    here, there = np.argsort(ids, kind="stable"), np.argsort(read_ids, kind="stable")
    if len(ids) != len(read_ids) or not np.array_equal(ids[here], read_ids[there]):
        raise RuntimeError("two reads of one snapshot met different calls")
    made = []
    for values in read:
        ordered = np.empty_like(values)
        ordered[here] = values[there]
        made.append(ordered)
    return made


def _joined(parts: list[Ints]) -> Ints:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


REPEATED, NOT_REPEATED, NO_CONTACT = 0, 1, 2  # a repeat flag; the cells are in this order


def repeat_flags(contacts: Ints, details: Details, secret: bytes) -> npt.NDArray[np.int8]:
    """Per call whether its caller called more than once in the period: contacts compared by
    keyed hash (:func:`advice_desk.reports.extract.caller_key`: the same number in two formats
    is one caller), counted over every call read; each distinct contact hashed once. A call
    with no contact detail that names anyone is ``NO_CONTACT``."""
    calls = np.bincount(contacts, minlength=len(details)).tolist()
    keys = [extract.caller_key(phone, email, secret) for phone, email in details]
    per_key: dict[str, int] = {}
    for key, n in zip(keys, calls, strict=True):
        if key is not None:
            per_key[key] = per_key.get(key, 0) + n
    flag = np.array([NO_CONTACT if key is None else REPEATED if per_key[key] > 1
                     else NOT_REPEATED for key in keys], dtype=np.int8)
    return flag[contacts] if len(flag) else np.zeros(0, dtype=np.int8)


_PRIME = 4_294_967_291  # the largest prime below 2**32


def keyed_order(ids: Ints, secret: bytes) -> Ints:
    """The order of the rows in ``calls.csv``: a row's place says nothing of when its call was
    (in the order of the ids or days, a row's neighbours would give away the day, and with it
    the weekday and month the file generalises). Sorted by (a·id + b) mod p, one-to-one over
    the ids, with a and b drawn from the export's secret."""
    digest = hmac.new(secret, b"calls.csv row order", hashlib.sha256).digest()
    a = 1 + int.from_bytes(digest[:4]) % (_PRIME - 1)
    b = int.from_bytes(digest[4:8]) % _PRIME
    place = (ids.astype(np.uint64) % np.uint64(_PRIME) * np.uint64(a) + np.uint64(b)) \
        % np.uint64(_PRIME)
    return np.argsort(place, kind="stable").astype(np.int64)
