"""Login throttling (django-axes): an (account, address) pair is locked after
AXES_FAILURE_LIMIT wrong passwords, says so, and opens again after the cool-off or when an
admin unlocks it; another address is not locked out."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db.models import F
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

HERE, THERE = "203.0.113.5", "198.51.100.7"


def login(password: str, address: str = HERE, username: str = "alice"):
    client = Client(REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return client, response


def lock_alice(address: str = HERE) -> list[int]:
    return [login("wrong-password", address)[1].status_code for _ in range(10)]


def test_ten_wrong_passwords_lock_the_pair_until_the_cool_off_ends(alice):
    # A cool-off far longer than ten logins take on a busy machine; the test moves the clock.
    with override_settings(AXES_COOLOFF_TIME=timedelta(minutes=5)):
        # Nine wrong passwords get the form back; the tenth locks.
        assert lock_alice() == [200] * 9 + [429]
        client, refused = login("alice-password-1")
        assert refused.status_code == 429
        page = refused.content.decode()
        assert "Too many failed logins for this account from your address (10 in a row)" in page
        assert "even with the right password" in page
        assert "_auth_user_id" not in client.session

        # Another address is not locked out.
        client, elsewhere = login("alice-password-1", THERE)
        assert elsewhere.status_code == 302 and client.session["_auth_user_id"] == str(alice.pk)

        # The cool-off passes: the attempts move back past it rather than the test sleeping.
        AccessAttempt.objects.filter(username="alice", ip_address=HERE).update(
            attempt_time=F("attempt_time") - timedelta(minutes=5, seconds=1)
        )
        client, after = login("alice-password-1")
        assert after.status_code == 302 and client.session["_auth_user_id"] == str(alice.pk)


def test_the_lock_out_message_names_the_configured_cool_off(alice):
    with override_settings(AXES_COOLOFF_TIME=timedelta(minutes=15)):
        lock_alice()
        page = login("alice-password-1")[1].content.decode()
        assert "locked for 15 minutes after the last try" in page
        assert "ask an administrator to unlock it" in page


def test_an_admin_unlocks_a_locked_researcher(alice, admin_client):
    lock_alice()
    assert login("alice-password-1")[1].status_code == 429
    # What the admin's "Access attempts" page does: delete the pair's attempts.
    attempt = AccessAttempt.objects.get(username="alice", ip_address=HERE)
    admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert login("alice-password-1")[1].status_code == 302


def test_the_reset_command_unlocks_too(alice):
    lock_alice()
    call_command("axes_reset_username", "alice")
    assert login("alice-password-1")[1].status_code == 302


def test_another_account_from_the_same_address_is_not_locked(alice, bob):
    lock_alice()
    assert login("bob-password-1", username="bob")[1].status_code == 302


def test_the_limit_is_a_setting(alice):
    with override_settings(AXES_FAILURE_LIMIT=3):
        assert [login("nope")[1].status_code for _ in range(3)] == [200, 200, 429]


@override_settings(PROXY_COUNT=1)
def test_behind_a_proxy_the_client_is_the_address_the_proxy_appended(alice):
    # The client writes its own X-Forwarded-For entry; only the proxy's last one counts.
    def via_proxy(spoofed: str):
        client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{spoofed}, {HERE}")
        return client.post("/accounts/login/", {"username": "alice", "password": "wrong"})

    assert [via_proxy(f"192.0.2.{n}").status_code for n in range(10)] == [200] * 9 + [429]
    assert AccessAttempt.objects.get(username="alice").ip_address == HERE
