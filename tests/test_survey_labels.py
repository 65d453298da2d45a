"""Helpdesk survey results on the CRM's 0-10 scale: every label a helpdesk exports, and
numbers on either scale. An unknown label is reported, never a reason to lose a ticket."""

from __future__ import annotations

import pytest

from support_bridge.forms import ticket_from_row
from support_bridge.payloads import PayloadError, UnknownSurveyLabel, satisfaction_from


@pytest.mark.parametrize(
    "label, score",
    [
        ("Awesome", 10),  # Freshdesk three-point
        ("Neutral", 5),
        ("Not Good", 0),
        ("Extremely satisfied", 10),  # Freshdesk five-point
        ("Satisfied", 8),
        ("not  satisfied", 3),
        ("Extremely dissatisfied", 0),
        ("good", 10),  # Zendesk
        ("BAD", 0),
        ("offered", None),
        ("", None),
    ],
)
def test_helpdesk_survey_labels_map_to_the_0_to_10_scale(label, score):
    assert satisfaction_from(label) == score


@pytest.mark.parametrize(
    "value, score", [("7", 7), (7, 7), ("4/5", 8), ("4 out of 5", 8), ("1/5", 0), ("5/5", 10), ("9/10", 9)]
)
def test_numbers_are_read_on_their_scale(value, score):
    assert satisfaction_from(value) == score


def test_bare_numbers_may_be_read_on_a_one_to_five_scale(settings):
    settings.SURVEY_NUMERIC_SCALE = 5
    assert satisfaction_from("4") == 8
    assert satisfaction_from(3) == 5


def test_a_steward_may_add_a_label_in_settings(settings):
    settings.SURVEY_LABEL_SCORES = {**settings.SURVEY_LABEL_SCORES, "meh": 4}
    assert satisfaction_from("Meh") == 4


def test_an_unknown_label_is_reported_by_its_text():
    with pytest.raises(UnknownSurveyLabel) as raised:
        satisfaction_from("Meh")
    assert raised.value.label == "Meh"


def test_a_number_off_the_scale_is_refused():
    with pytest.raises(PayloadError):
        satisfaction_from("11")


def test_an_unknown_label_costs_the_ticket_only_its_rating():
    ticket = ticket_from_row(
        {
            "external_id": "9",
            "subject": "Slow",
            "status": "Closed",
            "opened_at": "2026-09-01 10:00:00",
            "satisfaction": "Meh",
        },
        source="freshdesk",
        provenance="export row 2",
    )
    assert ticket.satisfaction is None
    assert ticket.survey_label == "Meh"
