"""Your devices (issue 20.1): Ring this device saves under the strict CSP, with or without
JavaScript (the browser side: tests/browser/test_centers.py); the upgrade step's numbers
read as people write them (20.11)."""

import pytest

from agents.centers.models import AgentLine, Device, License
from tests.agents.factories_centers import ContactCenterFactory, DeviceFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


def test_the_devices_page_saves_ring_this_device_without_inline_code(login, agent):
    # given an agent with a ringing device
    DeviceFactory(agent=agent, kind=Device.Kind.MOBILE)
    # when they open their devices page
    page = login(agent).get("/centers/my-devices/").content.decode()
    html = page[page.index('id="devices"') : page.index("</table>")]
    # then no inline handler or style (the CSP blocks them), a static script saves on change,
    # and a Save button is there for browsers without JavaScript (not hidden in <noscript>)
    assert "onchange" not in html and "<noscript><button" not in html
    assert "style=" not in html and "<style" not in html
    assert "js/center_devices.js" in page
    assert "data-ring-save" in html


def test_the_save_button_saves_an_unticked_box_as_not_ringing(login, agent):
    # given a ringing device
    device = DeviceFactory(agent=agent, kind=Device.Kind.MOBILE, label="Work mobile")
    client = login(agent)
    # when the form is sent with the box unticked (an unticked box sends nothing)
    done = client.post("/centers/my-devices/", {"device": device.pk, "save_ring": "1"}, follow=True)
    # then it no longer rings, and says so
    device.refresh_from_db()
    assert not device.ring
    assert "Work mobile does not ring now" in done.content.decode()
    # and ticked again, it rings
    client.post("/centers/my-devices/", {"device": device.pk, "ring": "on", "save_ring": "1"})
    device.refresh_from_db()
    assert device.ring


def test_the_upgrade_step_shows_the_users_numbers_readably(login, company_admin, company, agent):
    # given an Ai Voice user with a direct number stored in E.164
    center = ContactCenterFactory(company=company, name="Support")
    AgentLine.objects.create(agent=agent, license=License.AI_VOICE)
    PhoneNumberFactory(company=company, agent=agent, number="+12025550191")
    # when the admin opens the upgrade step
    page = login(company_admin).get(f"/centers/{center.pk}/upgrade/{agent.pk}/").content.decode()
    # then the number reads as a person writes it, not as stored
    assert "+1 202-555-0191" in page
    assert "+12025550191" not in page


def test_your_line_shows_direct_numbers_as_people_write_them(login, company, agent):
    # given an agent with a direct number
    PhoneNumberFactory(company=company, agent=agent, number="+12025550191")
    # when they open their devices page
    page = login(agent).get("/centers/my-devices/").content.decode()
    # then the number reads as people write it, not as E.164
    assert "+1 202-555-0191" in page
    assert "+12025550191" not in page
