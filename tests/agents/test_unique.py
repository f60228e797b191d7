"""``agents.unique``: a name another row of the company has, checked and raced."""

import pytest
from django.core.exceptions import ValidationError

from agents.centers.models import ContactCenter
from agents.unique import refuse_taken, taken_as
from tests.agents.factories_centers import ContactCenterFactory

pytestmark = pytest.mark.django_db


def test_a_name_another_row_has_is_refused_by_its_field_but_not_the_rows_own(company):
    # given a center named Support
    center = ContactCenterFactory(company=company, name="Support")
    rows = ContactCenter.objects.filter(company=company)
    # when another row would take the name, then the field says so
    with pytest.raises(ValidationError) as refused:
        refuse_taken(rows, field="name", value="Support", message="Taken.")
    assert refused.value.message_dict == {"name": ["Taken."]}
    # and the row itself keeps its name
    refuse_taken(rows, field="name", value="Support", message="Taken.", instance=center)


def test_a_unique_constraint_hit_meanwhile_is_the_same_message_and_the_transaction_goes_on(
    company,
):
    # given a center named Support, saved by someone else a moment ago
    ContactCenterFactory(company=company, name="Support")
    # when a second one is saved under the same name
    with pytest.raises(ValidationError) as refused, taken_as(field="name", message="Taken."):
        ContactCenter.objects.create(company=company, name="Support")
    # then it is the field's error, and the transaction can still be used
    assert refused.value.message_dict == {"name": ["Taken."]}
    assert ContactCenter.objects.filter(company=company).count() == 1
