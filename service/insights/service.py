"""Consortium insights: supply versus demand per skill, and each member's contribution.

Only aggregates leave this module. Graduate counts between 1 and ``insights_min_group - 1`` are
suppressed (shown as null), because a count that small narrows down who the graduates are; so is a
count whose part from other schools than the caller's is that small, so a school cannot unlock a
small group by adding graduates of its own. A shortage computed from a suppressed count is suppressed
with it, and sorting never uses a suppressed value.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy.orm import Session
from starlette.datastructures import State

from service import changes, industries, regions
from service.demands import repository as demands_repo
from service.embeddings.encoder import Encoder
from service.errors import Unprocessable
from service.gaps import service as gaps_service
from service.gaps.analysis import SkillLine
from service.insights import repository as repo
from service.insights.schemas import MemberInsight, MemberSort, SkillInsight, SkillSort
from service.matching.engine import engine_for
from service.text import normalize_phrase

SCHOOL = "school"


def encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        prefix, _, value = raw.partition(":")
        offset = int(value)
        if prefix != "o" or offset < 0:
            raise ValueError(raw)
        return offset
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Unprocessable("The cursor is not valid.") from exc


def page(items: Sequence[Any], limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """One page of an already sorted list, with an opaque offset cursor for the next one."""
    start = decode_offset(cursor)
    chunk = list(items[start : start + limit])
    more = start + limit < len(items)
    return chunk, encode_offset(start + limit) if more else None


def member_rows(session: Session) -> list[MemberInsight]:
    """Every organisation's contribution, from demands, training orders and graduates."""
    demands = repo.demand_counts(session)
    orders = repo.orders(session)
    accepted_ids = repo.accepted_order_ids(session)
    delivered = repo.delivered_counts(session)
    placed = repo.placed_counts(session)

    stats: dict[str, dict[str, int]] = {}

    def bump(org_id: str, **counts: int) -> None:
        row = stats.setdefault(org_id, {})
        for key, value in counts.items():
            row[key] = row.get(key, 0) + value

    for order_id, enterprise_id, school_id, headcount, status in orders:
        was_accepted = order_id in accepted_ids or status in ("accepted", "in_training", "delivered")
        n_delivered = delivered.get(order_id, 0)
        common = {
            "orders_accepted": int(was_accepted),
            "orders_delivered": int(status == "delivered"),
            "orders_cancelled": int(status == "cancelled"),
            "orders_rejected": int(status == "rejected"),
            "ordered_headcount": headcount,
            "delivered_headcount": n_delivered,
        }
        bump(enterprise_id, orders_placed=1, received_graduates=n_delivered, **common)
        if school_id != enterprise_id:
            bump(school_id, orders_received=1, **common)

    rows: list[MemberInsight] = []
    for org in repo.organizations(session):
        s = stats.get(org.id, {})
        posted, n_open, open_headcount = demands.get(org.id, (0, 0, 0))
        ordered = s.get("ordered_headcount", 0)
        delivered_hc = s.get("delivered_headcount", 0)
        graduates_placed = placed.get(org.id, 0) if org.kind == SCHOOL else s.get("received_graduates", 0)
        rows.append(
            MemberInsight(
                organization_id=org.id,
                name=org.name,
                kind=org.kind,
                region=org.region,
                industry=org.industry,
                demands_posted=posted,
                open_demands=n_open,
                open_headcount=open_headcount,
                orders_placed=s.get("orders_placed", 0),
                orders_received=s.get("orders_received", 0),
                orders_accepted=s.get("orders_accepted", 0),
                orders_delivered=s.get("orders_delivered", 0),
                orders_cancelled=s.get("orders_cancelled", 0),
                orders_rejected=s.get("orders_rejected", 0),
                ordered_headcount=ordered,
                delivered_headcount=delivered_hc,
                graduates_placed=graduates_placed,
                fulfilment_rate=round(delivered_hc / ordered, 4) if ordered else None,
            )
        )
    return rows


def sort_members(rows: list[MemberInsight], sort: MemberSort) -> list[MemberInsight]:
    if sort == MemberSort.name:
        return sorted(rows, key=lambda r: (r.name.casefold(), r.organization_id))
    if sort == MemberSort.fulfilment_rate:
        return sorted(
            rows,
            key=lambda r: (r.fulfilment_rate is None, -(r.fulfilment_rate or 0.0), r.name, r.organization_id),
        )
    field = sort.value
    return sorted(rows, key=lambda r: (-getattr(r, field), r.name.casefold(), r.organization_id))


# --- supply versus demand per skill -----------------------------------------------------------------

WORDING_BLOCK = 128
MEMO_SIZE = 32
_memo_lock = threading.Lock()

# (wordings, phrases) -> the (wording, phrase) pairs where the phrase is evidence of the wording.
Covers = Callable[[list[str], list[str]], tuple[np.ndarray, np.ndarray]]


def engine_covers(session: Session, app_state: State) -> Covers:
    """Evidence pairs from the matching engine's in-memory phrase store: graduate phrases are already
    embedded and analysed there, so a request only scores them (``coverage >= met``, the matching
    engine's MET threshold). Memory: ``WORDING_BLOCK`` x stored phrases floats at a time."""

    engine = engine_for(app_state)
    calibration = engine.calibration
    # coverage >= met exactly when the fused similarity reaches the curve's inverse at met
    met_sim = np.float32(calibration.similarity_at(calibration.met))

    def covers_once(wordings: list[str], phrases: list[str]) -> tuple[np.ndarray, np.ndarray]:
        ids = engine.ensure_phrases(session, phrases)
        column = np.full(len(engine.phrases), -1, dtype=np.int64)  # stored phrase -> our column
        column[ids] = np.arange(len(ids))
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        for start in range(0, len(wordings), WORDING_BLOCK):
            chunk = wordings[start : start + WORDING_BLOCK]
            demand = engine.demand_skills(session, [{"name": w} for w in chunk])
            sim = engine.phrases.similarity(demand, calibration, engine.multilingual)
            r, c = np.nonzero(sim[:, : len(column)] >= met_sim)
            c = column[c]
            keep = c >= 0
            rows.append(r[keep] + start)
            cols.append(c[keep])
        return np.concatenate(rows), np.concatenate(cols)

    def covers(wordings: list[str], phrases: list[str]) -> tuple[np.ndarray, np.ndarray]:
        # An erasure may drop phrases from the store meanwhile (ones no graduate in the index holds
        # yet): then the pairs are computed again, so a count never misses a dropped phrase.
        for _attempt in range(3):
            before = engine.phrases.erasures()
            pairs = covers_once(wordings, phrases)
            if engine.phrases.erasures() == before:
                break
        return pairs

    return covers


@dataclass
class Holdings:
    """Per line: graduates who hold its skill, in all (``total``) and per school (``by_school``)."""

    total: np.ndarray
    by_school: dict[str, np.ndarray]

    def of_others(self, viewer: str | None) -> np.ndarray:
        """Per line, the graduates of every school but ``viewer``."""
        own = self.by_school.get(viewer) if viewer is not None else None
        return self.total if own is None else self.total - own


def graduate_holdings(
    covers: Covers, lines: Sequence[SkillLine], graduates: Iterable[tuple[str, list[Any]]]
) -> Holdings:
    """How many graduates hold each line's skill: some skill of theirs is evidence (``covers``) of
    some wording of the line; ``graduates`` are (school id, skill list) pairs.

    Vectorised and sparse: the distinct graduate phrases are scored once against all the lines'
    wordings; then (graduates x phrases) incidence @ (phrases x lines) evidence gives, per graduate
    and line, how many of their phrases match, and a graduate counts once per line.
    """
    phrase_index: dict[str, int] = {}  # normalised phrase -> column
    seen: dict[str, int] = {}  # the text as typed -> column (most texts repeat: normalise once)
    phrases: list[str] = []
    rows: list[int] = []
    cols: list[int] = []
    n_graduates = 0
    school_row: dict[str, int] = {}
    schools: list[int] = []
    for school_id, skills in graduates:
        schools.append(school_row.setdefault(school_id, len(school_row)))
        for s in skills:
            raw = s.get("name") if isinstance(s, dict) else s
            col = seen.get(raw) if isinstance(raw, str) else None
            if col is None:
                name = str(raw).strip()
                if not name:
                    continue
                key = normalize_phrase(name)
                col = phrase_index.get(key)
                if col is None:
                    col = phrase_index[key] = len(phrases)
                    phrases.append(name)
                if isinstance(raw, str):
                    seen[raw] = col
            rows.append(n_graduates)
            cols.append(col)
        n_graduates += 1
    if not lines or not phrases:
        return Holdings(np.zeros(len(lines), dtype=np.int64), {})
    wordings = list(dict.fromkeys(normalize_phrase(p) for line in lines for p in line.phrases))
    wording_row = {w: i for i, w in enumerate(wordings)}
    member_rows = [wording_row[normalize_phrase(p)] for line in lines for p in line.phrases]
    member_cols = [j for j, line in enumerate(lines) for _ in line.phrases]
    members = sp.csr_matrix(
        (np.ones(len(member_rows), dtype=np.int32), (member_rows, member_cols)),
        shape=(len(wordings), len(lines)),
    )
    w_idx, p_idx = covers(wordings, phrases)
    evidence = sp.csr_matrix(
        (np.ones(len(w_idx), dtype=np.int32), (p_idx, w_idx)), shape=(len(phrases), len(wordings))
    )
    incidence = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n_graduates, len(phrases))
    )
    held = incidence @ (evidence @ members)  # (graduates, lines): matching (phrase, wording) pairs
    holds = sp.csr_matrix((held > 0).astype(np.int32))
    per_school = sp.csr_matrix(
        (np.ones(n_graduates, dtype=np.int32), (schools, np.arange(n_graduates))),
        shape=(len(school_row), n_graduates),
    )
    counts = (per_school @ holds).toarray().astype(np.int64)  # (schools, lines)
    return Holdings(
        counts.sum(axis=0),
        {school: counts[row] for school, row in school_row.items()},
    )


def skill_rows(
    session: Session,
    encoder: Encoder,
    *,
    region: str | None,
    industry: str | None,
    min_group: int,
    viewer: str | None = None,
    app_state: Any = None,
) -> list[SkillInsight]:
    """Per grouped demanded skill of the open demands in scope: demand, supply and shortage.

    Supply is every graduate of the consortium not yet placed (the region's demands draw on the whole
    consortium's schools). A count is suppressed when it, or the count without the ``viewer``'s own
    graduates, is between 1 and ``min_group - 1``: a school that adds graduates of its own cannot lift
    a small group of other schools' graduates over the threshold (it knows its own share and would
    subtract it). ``app_state`` gives the
    matching engine (its phrase store; without it the phrases are scored through the phrase cache)
    and a per-process memo of the last results, keyed by the scope and the ``demand`` and
    ``graduate`` change counters, so a repeated call is free until a demand or graduate changes.
    """
    key = (
        f"{encoder.name} {encoder.version}",
        regions.region_key(region)[1],  # "合肥" and "Hefei" are one scope, computed once
        industries.industry_key(industry)[1],  # "制造业" and "manufacturing" too
        changes.current(session, changes.DEMAND),
        changes.current(session, changes.GRADUATE),
    )
    memo: dict[Any, tuple[list[SkillLine], Holdings]] | None = None
    if app_state is not None:
        memo = getattr(app_state, "insights_memo", None)
        if memo is None:
            memo = app_state.insights_memo = {}
    with _memo_lock:
        hit = memo.get(key) if memo is not None else None
    if hit is not None:
        lines, holdings = hit
    else:
        scorer = gaps_service.scorer_for(session, encoder)
        demands = demands_repo.open_demands(session, region=region, industry=industry)
        occurrences = gaps_service.occurrences_of(
            [{"id": d.id, "headcount": d.headcount, "skills": d.skills} for d in demands]
        )
        lines = gaps_service.group_lines(scorer, occurrences, group=True)
        covers = engine_covers(session, app_state) if app_state is not None else scorer_covers(scorer)
        holdings = graduate_holdings(covers, lines, repo.unplaced_graduate_skills(session))
        if memo is not None:
            with _memo_lock:
                while len(memo) >= MEMO_SIZE:
                    memo.pop(next(iter(memo)))
                memo[key] = (lines, holdings)
    rows = []
    others = holdings.of_others(viewer)
    for line, n, n_others in zip(lines, holdings.total, others, strict=True):
        suppressed = 0 < int(n) < min_group or 0 < int(n_others) < min_group
        graduates = None if suppressed else int(n)
        rows.append(
            SkillInsight(
                skill=line.label,
                aliases=line.aliases,
                demands=len(line.demand_ids),
                demanded_headcount=line.headcount,
                weight=line.weight,
                graduates=graduates,
                graduates_suppressed=suppressed,
                shortage=None if graduates is None else line.headcount - graduates,
            )
        )
    return rows


def scorer_covers(scorer: gaps_service.Scorer, block: int = 4096) -> Covers:
    """Evidence pairs through a :class:`~service.gaps.service.Scorer` (the phrase cache), phrases in
    blocks of ``block`` (memory: wordings x block floats)."""

    def covers(wordings: list[str], phrases: list[str]) -> tuple[np.ndarray, np.ndarray]:
        prepared = scorer.prepare(wordings)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        for start in range(0, len(phrases), block):
            _, cov = scorer.scores(prepared, scorer.prepare(phrases[start : start + block]))
            r, c = np.nonzero(cov >= scorer.met)
            rows.append(r)
            cols.append(c + start)
        return np.concatenate(rows), np.concatenate(cols)

    return covers


def sort_skills(rows: list[SkillInsight], sort: SkillSort, min_group: int) -> list[SkillInsight]:
    """Sort by a published figure only. For a suppressed count the shortage key is the most it could
    be (headcount - 1), so the order never depends on the hidden number."""

    def shortage_key(r: SkillInsight) -> int:
        return r.shortage if r.shortage is not None else r.demanded_headcount - 1

    def key(r: SkillInsight) -> tuple[float, float, str]:
        if sort == SkillSort.shortage:
            return (-shortage_key(r), -r.weight, r.skill.casefold())
        if sort == SkillSort.weight:
            return (-r.weight, -r.demanded_headcount, r.skill.casefold())
        return (-r.demanded_headcount, -r.weight, r.skill.casefold())

    return sorted(rows, key=key)
