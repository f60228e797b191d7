"""``agents.phone.normalise_phone``'s short path for North American spellings gives exactly
what phonenumbers' general reading gives (the webhook and list imports rely on it)."""

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.phone import SHORT_PATH, normalise_phone, read_with_phonenumbers


def test_the_short_path_is_on_with_the_installed_metadata():
    assert SHORT_PATH


def test_the_short_phone_path_gives_the_same_answers_as_the_general_one():
    samples = ["+1 212 555 0123", "(212) 555-0123", "212.555.0123", "+1-800-555-0199",
               "(123) 456-7890", "+1 (555) 012-3456", "911 555 1234", "+12025550100"]  # fmt: skip
    for raw in samples:
        for region in ("US", "CA", "GB", "FR"):
            assert _either(normalise_phone, raw, region) == _either(
                read_with_phonenumbers, raw, region
            ), (raw, region)


@given(
    digits=st.text("0123456789", min_size=10, max_size=10),
    shape=st.sampled_from(
        ["+1{a}{b}{c}", "+1 ({a}) {b}-{c}", "({a}) {b}-{c}", "{a}.{b}.{c}", "{a} {b} {c}"]
    ),
    region=st.sampled_from(["US", "CA", "GB"]),
)
@settings(max_examples=300, deadline=None)
def test_short_phone_path_property(digits, shape, region):
    raw = shape.format(a=digits[:3], b=digits[3:6], c=digits[6:])
    assert _either(normalise_phone, raw, region) == _either(read_with_phonenumbers, raw, region)


def test_digits_of_other_scripts_are_read_by_phonenumbers_into_ascii():
    # given a number typed with fullwidth or Arabic-Indic digits (\d matches them in Python)
    for raw in ["+1 212 555 ０１２３", "(212) 555-01٢٣", "+1 ２１２ 555 0123"]:
        # then the short path leaves it to phonenumbers: E.164 in ASCII, the same contact
        assert normalise_phone(raw) == read_with_phonenumbers(raw) == "+12125550123"


@given(
    digits=st.text("0123456789０１２３４５６７８９٠١٢٣٤٥٦٧٨٩", min_size=10, max_size=10),
    region=st.sampled_from(["US", "CA"]),
)
@settings(max_examples=200, deadline=None)
def test_the_short_path_agrees_whatever_the_digits(digits, region):
    raw = f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}"
    got = _either(normalise_phone, raw, region)
    assert got == _either(read_with_phonenumbers, raw, region)
    if isinstance(got, str):
        assert got.isascii()


def _either(function, raw, region):
    try:
        return function(raw, region=region)
    except ValidationError as error:
        return ("refused", error.messages)
