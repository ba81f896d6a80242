"""Walking several subtrees in one request, against a scripted agent: interleaving, truncation, ends."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from exporters.core.probe import Deadline, ProbeFailed
from exporters.network.ber import END_OF_MIB_VIEW, GETBULK, GETNEXT, INTEGER, Oid, VarBind
from exporters.network.session import NO_SUCH_NAME, TOO_BIG, SnmpErrorStatus, walk_many

A, B = (1, 3, 6, 1, 9, 1), (1, 3, 6, 1, 9, 2)
MIB = sorted([(*A, i) for i in range(1, 8)] + [(*B, i) for i in range(1, 3)] + [(1, 3, 6, 1, 9, 3, 1)])


class ScriptedAgent:
    """Answers GETNEXT/GETBULK from a sorted MIB, truncating bulk answers to `limit` bindings."""

    def __init__(self, version: int, limit: int = 1000, too_big_above: int = 1000) -> None:
        self.version = version
        self.limit = limit
        self.too_big_above = too_big_above
        self.requests: list[tuple[int, int, int]] = []

    def _next(self, oid: Oid) -> VarBind:
        later = [o for o in MIB if o > oid]
        return (later[0], INTEGER, later[0][-1]) if later else (oid, END_OF_MIB_VIEW, None)

    def request(self, pdu_type: int, oids: Sequence[Oid], reps: int, deadline: Deadline) -> list[VarBind]:
        self.requests.append((pdu_type, len(oids), reps))
        if pdu_type == GETNEXT:
            for k, oid in enumerate(oids):
                if self._next(oid)[1] == END_OF_MIB_VIEW:
                    raise SnmpErrorStatus(NO_SUCH_NAME, k + 1)
            return [self._next(o) for o in oids]
        assert pdu_type == GETBULK
        if reps > self.too_big_above:
            raise SnmpErrorStatus(TOO_BIG, 0)
        out: list[VarBind] = []
        row = list(oids)
        for _ in range(reps):
            step = [self._next(o) for o in row]
            out += step
            row = [vb[0] for vb in step]
        return out[: self.limit]

    def close(self) -> None:
        pass


def _expected(root: Oid) -> list[Oid]:
    return [o for o in MIB if o[: len(root)] == root]


@pytest.mark.parametrize("limit", [1000, 3, 1])
def test_two_subtrees_of_different_length_walk_together(limit: int) -> None:
    agent = ScriptedAgent(version=1, limit=limit)
    a, b = walk_many(agent, [A, B], 3, Deadline.after(5))
    assert [vb[0] for vb in a] == _expected(A)
    assert [vb[0] for vb in b] == _expected(B)
    if limit == 1000:
        assert agent.requests == [(GETBULK, 2, 3), (GETBULK, 1, 3), (GETBULK, 1, 3)]


def test_snmpv1_getnext_drops_a_subtree_at_the_end_of_the_mib() -> None:
    agent = ScriptedAgent(version=0)
    a, last = walk_many(agent, [A, (1, 3, 6, 1, 9, 3)], 0, Deadline.after(5))
    assert [vb[0] for vb in a] == _expected(A)
    assert [vb[0] for vb in last] == [(1, 3, 6, 1, 9, 3, 1)]


def test_too_big_halves_the_repetitions() -> None:
    agent = ScriptedAgent(version=1, too_big_above=5)
    (a,) = walk_many(agent, [A], 20, Deadline.after(5))
    assert [vb[0] for vb in a] == _expected(A)
    assert [r[2] for r in agent.requests][:3] == [20, 10, 5]


def test_oids_that_do_not_increase_fail_the_walk() -> None:
    class Looping(ScriptedAgent):
        def request(self, pdu_type: int, oids: Sequence[Oid], reps: int, deadline: Deadline) -> list[VarBind]:
            return [((*A, 1), INTEGER, 1)]

    with pytest.raises(ProbeFailed, match="not increasing"):
        walk_many(Looping(version=1), [A], 5, Deadline.after(5))
