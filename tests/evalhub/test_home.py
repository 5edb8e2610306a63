import pytest

pytestmark = pytest.mark.django_db


def test_researchers_land_on_the_dashboards(client, alice):
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/studies/"


def test_raters_cannot_see_the_study_list(client, bob):
    client.force_login(bob)
    assert client.get("/").status_code == 403
