"""The survey's stratified draw and the opinion-week rotation (models/surveys/sampling.py)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest

from models.families.households import (
    Child,
    Household,
    household_of_guardian,
    households_from,
    within,
)
from models.surveys.errors import SurveyRefused
from models.surveys.sampling import draw_sample, quota, rotate_opinion_week

MINIMUM = 30


def school(sizes: dict[int, int], *, siblings: Sequence[tuple[int, int]] = ()) -> list[Household]:
    """Households: `sizes[class_id]` single-child families per class, guardian ids from 1 up;
    then one family per (class a, class b) pair with a child in each (guardian ids from 1000)."""
    links: list[tuple[int, int, int]] = []
    student = 0
    guardian = 0
    for class_id, size in sorted(sizes.items()):
        for _ in range(size):
            student += 1
            guardian += 1
            links.append((student, class_id, guardian))
    for index, (a, b) in enumerate(siblings):
        for class_id in (a, b):
            student += 1
            links.append((student, class_id, 1000 + index))
    return households_from(links)


def drawn_keys(households: list[Household], classes: list[int], share: int, seed: int) -> list[int]:
    draw = draw_sample(households, classes, share=share, seed=seed, minimum=MINIMUM)
    return [pick.household.key for pick in draw.picks]


def test_siblings_sharing_a_guardian_are_one_household_with_both_guardians() -> None:
    # Student 1 (class 10) has guardians 5 and 6; student 2 (class 20) shares guardian 6.
    found = households_from([(1, 10, 5), (1, 10, 6), (2, 20, 6), (3, 20, 7)])
    assert found == [
        Household((5, 6), (Child(1, 10), Child(2, 20))),
        Household((7,), (Child(3, 20),)),
    ]
    assert found[0].key == found[0].guardian_id == 5
    assert found[0].class_ids() == {10, 20}


@pytest.mark.parametrize("seed", range(20))
def test_each_guardians_household_key_is_the_one_its_household_has(seed: int) -> None:
    # The semester rule counts families without building them: the same keys, the same count,
    # in tangled districts of siblings and guardians shared across them.
    rng = random.Random(seed)
    links = [
        (rng.randrange(300), rng.randrange(10), rng.randrange(1, 400))
        for _ in range(rng.randrange(1, 600))
    ]
    classes = {student: class_id for student, class_id, _ in links}
    links = [(student, classes[student], guardian) for student, _, guardian in links]
    keys = household_of_guardian((student, guardian) for student, _, guardian in links)
    found = households_from(links)
    assert keys == {g: h.key for h in found for g in h.guardian_ids}
    assert len(set(keys.values())) == len(found)


def test_within_keeps_only_the_audiences_children() -> None:
    found = households_from([(1, 10, 5), (2, 20, 5), (3, 30, 7)])
    assert within(found, {20}) == [Household((5,), (Child(2, 20),))]


@pytest.mark.parametrize(
    ("share", "households", "expected"),
    [(30, 6, 2), (30, 10, 3), (30, 11, 4), (30, 0, 0), (100, 7, 7), (31, 1, 1), (50, 5, 3)],
)
def test_a_quota_is_the_share_rounded_up(share: int, households: int, expected: int) -> None:
    assert quota(share, households) == expected == math.ceil(share * households / 100)


@pytest.mark.parametrize(
    ("sizes", "share"),
    [
        ({1: 6, 2: 6, 3: 6}, 30),
        ({1: 45, 2: 44, 3: 1}, 30),
        ({1: 10, 2: 11, 3: 9, 4: 3}, 35),
        ({1: 40, 2: 40}, 50),
        ({1: 7}, 99),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 20261116])
def test_every_class_gets_at_least_its_share_rounded_up(
    sizes: dict[int, int], share: int, seed: int
) -> None:
    households = school(sizes, siblings=[(1, 2)] if 2 in sizes else [])
    classes = sorted(sizes)
    draw = draw_sample(households, classes, share=share, seed=seed, minimum=MINIMUM)
    for class_id in classes:
        tally = draw.per_class[class_id]
        members = [h for h in households if class_id in h.class_ids()]
        assert tally.households == len(members)
        assert tally.drawn >= math.ceil(share * len(members) / 100)
        drawn_here = [p for p in draw.picks if class_id in p.household.class_ids()]
        assert tally.drawn == len(drawn_here)


def test_the_same_seed_draws_the_same_families_and_another_seed_others() -> None:
    households = school({1: 30, 2: 30, 3: 30})
    first = drawn_keys(households, [1, 2, 3], 30, seed=7)
    assert drawn_keys(list(reversed(households)), [3, 1, 2], 30, seed=7) == first
    assert drawn_keys(households, [1, 2, 3], 30, seed=8) != first


def test_a_family_with_children_in_two_classes_is_drawn_once_and_counts_for_both() -> None:
    # Two classes of one single-child family each plus one family with a child in each: at
    # 100 % every family is asked, the two-class family once, and both classes count it.
    households = school({1: 1, 2: 1}, siblings=[(1, 2)])
    draw = draw_sample(households, [1, 2], share=100, seed=3, minimum=MINIMUM)
    keys = [pick.household.key for pick in draw.picks]
    assert sorted(keys) == [1, 2, 1000]
    assert {c: (t.drawn, t.households) for c, t in draw.per_class.items()} == {
        1: (2, 2),
        2: (2, 2),
    }


@pytest.mark.parametrize("seed", range(40))
def test_a_family_drawn_through_one_class_is_never_drawn_again_through_another(seed: int) -> None:
    households = school({1: 3, 2: 3}, siblings=[(1, 2), (1, 2), (1, 2)])
    keys = drawn_keys(households, [1, 2], 50, seed=seed)
    assert len(keys) == len(set(keys))


def test_a_family_drawn_through_a_sibling_spares_the_second_class_a_draw() -> None:
    # Class 1 has only the two-class family; class 2 has it and nine more. At 30 % class 1
    # must ask that family (1 of 1); class 2 needs ceil(30 % × 10) = 3 and already has it, so
    # only two more are drawn there.
    households = school({2: 9}, siblings=[(1, 2)])
    draw = draw_sample(households, [1, 2], share=30, seed=5, minimum=MINIMUM)
    assert draw.picks[0].household.key == 1000
    assert draw.picks[0].through.class_id == 1
    assert len(draw.picks) == 3
    assert draw.per_class[2].drawn == 3
    assert all(p.through.class_id == 2 for p in draw.picks[1:])


def test_a_hundred_percent_asks_every_family() -> None:
    households = school({1: 5, 2: 8}, siblings=[(1, 2)])
    keys = drawn_keys(households, [1, 2], 100, seed=11)
    assert sorted(keys) == sorted(h.key for h in households)


def test_an_empty_class_in_the_audience_is_reported_as_none_of_none() -> None:
    households = school({1: 4})
    draw = draw_sample(households, [1, 9], share=30, seed=1, minimum=MINIMUM)
    assert draw.per_class[9].drawn == draw.per_class[9].households == 0
    assert draw.per_class[1].drawn == 2


def test_the_draw_ignores_children_outside_the_audience() -> None:
    households = school({1: 4, 2: 4}, siblings=[(1, 2)])
    draw = draw_sample(households, [2], share=100, seed=1, minimum=MINIMUM)
    assert {p.through.class_id for p in draw.picks} == {2}
    assert list(draw.per_class) == [2]


@pytest.mark.parametrize(
    ("share", "classes", "message"),
    [
        (29, [1], "抽样比例不能低于 30%。"),
        (0, [1], "抽样比例不能低于 30%。"),
        (101, [1], "抽样比例不能超过 100%。"),
        (30, [], "所选范围内没有可以询问的家庭。"),
        (30, [9], "所选范围内没有可以询问的家庭。"),
    ],
)
def test_a_share_out_of_range_or_an_empty_audience_is_refused(
    share: int, classes: list[int], message: str
) -> None:
    with pytest.raises(SurveyRefused) as refused:
        draw_sample(school({1: 4}), classes, share=share, seed=1, minimum=MINIMUM)
    assert str(refused.value) == message


def test_a_school_with_a_higher_minimum_refuses_a_share_under_it() -> None:
    with pytest.raises(SurveyRefused) as refused:
        draw_sample(school({1: 4}), [1], share=40, seed=1, minimum=50)
    assert refused.value.message == "抽样比例不能低于 {minimum}%。"
    assert refused.value.params == {"minimum": 50}


@pytest.mark.parametrize("families", [1, 4, 17, 40, 101])
@pytest.mark.parametrize("seed", [0, 42])
def test_four_opinion_weeks_at_the_default_share_ask_every_family_exactly_once(
    families: int, seed: int
) -> None:
    households = school({1: families // 2, 2: families - families // 2})
    asked: list[int] = []
    for week in range(4):
        picked = rotate_opinion_week(households, set(asked), 25, seed=seed + week)
        assert len(picked) <= quota(25, families)
        asked.extend(h.key for h in picked)
    assert sorted(asked) == sorted(h.key for h in households)


def test_an_opinion_week_picks_a_quarter_of_the_families_not_asked_yet() -> None:
    households = school({1: 20})
    picked = rotate_opinion_week(households, {1, 2, 3}, 25, seed=9)
    assert len(picked) == 5
    assert not {h.key for h in picked} & {1, 2, 3}
    assert rotate_opinion_week(households, {1, 2, 3}, 25, seed=9) == picked
    assert rotate_opinion_week(households, {1, 2, 3}, 25, seed=10) != picked


def test_an_opinion_week_after_every_family_was_asked_asks_no_one() -> None:
    households = school({1: 8})
    assert rotate_opinion_week(households, {h.key for h in households}, 25, seed=1) == []


def test_an_opinion_week_with_fewer_families_left_than_its_share_asks_them_all() -> None:
    households = school({1: 8})
    picked = rotate_opinion_week(households, {1, 2, 3, 4, 5, 6, 7}, 25, seed=1)
    assert [h.key for h in picked] == [8]


@pytest.mark.parametrize("share", [0, 101])
def test_an_opinion_week_share_out_of_range_is_refused(share: int) -> None:
    with pytest.raises(SurveyRefused):
        rotate_opinion_week(school({1: 4}), set(), share, seed=1)
