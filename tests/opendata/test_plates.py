"""Licence plates are scrubbed from public text like phone numbers: what a citizen writes about a
parked car must not publish whose car it is. Dates, ward and house numbers stay."""

import pytest

from incidents.text import scrub_contact_details

PLATES = [
    "51F-123.45",  # car, five digits written 123.45
    "65A-12345",  # car, five digits written plain
    "29-B1 123.45",  # motorbike, province and series split by a hyphen
    "29-B1-123.45",
    "59-X1 2345",  # motorbike, older four-digit number
    "59X1-234.56",
    "51LD-123.45",  # two-letter series
    "51F 123.45",
    "51F12345",  # written without separators
    "51f-123.45",  # typed in lower case
    "29-MĐ1 123.45",
]

NOT_PLATES = [
    "2026-11-25",  # a date
    "ngày 25-12-2026",
    "lúc 14:30",
    "Phường 12, Quận 3",  # ward and district numbers
    "P.5 Q.3",
    "tổ 12, khu vực 3",
    "123/4 Nguyễn Trãi",  # house numbers
    "45A-47 Lê Lợi",
    "hẻm 51/12A",
    "số 12B đường 3/2",
    "căn hộ 12A 1205",  # a flat: a series then a bare space and plain digits is not taken for a plate
    "Lô 5A 1234",
    "QL91B",  # national roads
    "QL1A km 2065",
    "Km12+500",
    "1.000.000 đ",  # an amount
]


@pytest.mark.parametrize("plate", PLATES)
def test_a_licence_plate_is_scrubbed_from_public_text(plate):
    assert scrub_contact_details(f"Xe {plate} đậu trên vỉa hè cả tuần.") == "Xe […] đậu trên vỉa hè cả tuần."


def test_a_plate_at_the_end_of_a_sentence_is_scrubbed_and_the_full_stop_kept():
    assert scrub_contact_details("Xe biển số 51F-123.45.") == "Xe biển số […]."


def test_every_plate_in_a_text_is_scrubbed():
    assert scrub_contact_details("51F-123.45 và 29-B1 123.45 chắn lối") == "[…] và […] chắn lối"


@pytest.mark.parametrize("text", NOT_PLATES)
def test_dates_ward_and_house_numbers_are_not_taken_for_plates(text):
    assert scrub_contact_details(text) == text
