import pytest

from evalhub.accounts.roles import is_researcher

pytestmark = pytest.mark.django_db


def test_the_login_page_logs_a_researcher_in(client, alice):
    assert client.get("/accounts/login/").status_code == 200
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "alice-password-1"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_roles_are_groups(alice, bob):
    assert is_researcher(alice) and not is_researcher(bob)
