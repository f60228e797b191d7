"""The Contact admin (desk/admin/contacts.py): deleting a contact with its history, the company
a contact belongs to, and a save the service refuses."""

import pytest
from django.core.exceptions import ValidationError

import desk.admin.contacts
from contacts.models import Contact
from contacts.services import contact_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_a_company_admin_can_delete_a_contact_with_its_history(login, company_admin, company):
    contact = contact_create(company=company, actor=None, phone="+12025550142")
    response = login(company_admin).post(
        f"/admin/contacts/contact/{contact.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Contact.objects.exists()


def test_a_superuser_cannot_move_a_contact_to_another_company(admin_client, company, other_company):
    contact = ContactFactory(company=company, phone="+12025550142", name="Stay")
    admin_client.post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {"company": other_company.pk, "name": "Stay", "phone": "+12025550142"},
    )
    contact.refresh_from_db()
    assert contact.company == company


def test_a_save_refused_by_the_service_is_a_message_not_a_500(
    login, company_admin, company, monkeypatch
):
    def refuse(**kwargs):
        raise ValidationError({"phone": ["This number was just taken by Racer."]})

    monkeypatch.setattr(desk.admin.contacts, "contact_save_routed", refuse)
    response = login(company_admin).post(
        "/admin/contacts/contact/add/", {"name": "Late", "phone": "+12025550142"}, follow=True
    )
    assert response.status_code == 200
    assert "just taken by Racer" in response.content.decode()
    assert not Contact.objects.exists()
