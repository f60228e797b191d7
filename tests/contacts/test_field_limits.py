"""One definition of a contact's field limits on every path, each too-long value a message."""

from html import unescape

import pytest

from contacts.models import Contact
from routing.inbound import inbound_receive

pytestmark = pytest.mark.django_db

LONG_EMAIL = "x" * 250 + "@example.com"  # 262 characters, a valid shape


@pytest.mark.parametrize("url", ["/lead-center/contacts/new/", "/admin/contacts/contact/add/"])
def test_an_email_over_254_characters_is_a_message_on_every_form(
    login, company_admin, company, url
):
    # when a person saves a contact with a 262-character email (PostgreSQL used to 500)
    response = login(company_admin).post(url, {"name": "Long", "email": LONG_EMAIL})

    # then the form says so and nothing is stored
    assert response.status_code == 200
    assert "At most 254 characters (this has 262)." in unescape(response.content.decode())
    assert not Contact.objects.filter(name="Long").exists()


def test_a_5000_digit_phone_in_the_admin_says_what_is_wrong_with_it(login, company_admin):
    # when a person types a 5,000-digit phone number in the admin
    response = login(company_admin).post(
        "/admin/contacts/contact/add/", {"name": "Digits", "phone": "1" * 5000}
    )

    # then they read that it is too long, not that the contact has no phone
    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert "A phone number has at most 40 characters (this has 5000)" in page
    assert "Give the contact a phone number or an email address." not in page


def test_the_webhook_reads_the_same_limits(company):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="At most 254 characters"):
        inbound_receive(company=company, channel="text", phone="+12025550142", email=LONG_EMAIL)
