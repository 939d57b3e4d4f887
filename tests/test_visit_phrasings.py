"""Real phrasings of one-message visit logs (tests/helpers/visit_phrasings.py) read as meant."""

from __future__ import annotations

import pytest

from models.visits.message_rules import parse_visit_text
from tests.helpers.visit_phrasings import PHRASINGS, ROSTER, TODAY, Phrase


def test_the_table_holds_at_least_150_phrasings_each_once() -> None:
    texts = [p.text for p in PHRASINGS]
    assert len(texts) >= 150
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize("phrase", PHRASINGS, ids=[p.text for p in PHRASINGS])
def test_a_teachers_phrasing_is_read_as_meant(phrase: Phrase) -> None:
    parsed = parse_visit_text(phrase.text, today=TODAY, names=ROSTER)
    read = {
        "form": parsed.form,
        "day": parsed.visit_date,
        "students": parsed.student_names,
        "met": parsed.met,
        "class": parsed.class_name,
        "category": parsed.category,
    }
    expected = {
        "form": phrase.form,
        "day": phrase.day,
        "students": phrase.students,
        "met": phrase.met,
        "class": phrase.class_name,
        "category": phrase.category,
    }
    if phrase.notes is not None:
        read["notes"], expected["notes"] = parsed.notes, phrase.notes
    assert read == expected
