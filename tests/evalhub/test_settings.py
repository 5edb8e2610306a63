import os
import secrets
import subprocess
import sys

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "evalhub.example.org",
    "BEHIND_PROXY": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}
# Settings the environment may hold that would change what production means here (the
# browser tests' DJANGO_ALLOW_ASYNC_UNSAFE is the test harness's, never a deployment's).
UNSET = {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "BEHIND_PROXY", "SECURE_SSL_REDIRECT",
         "SECURE_COOKIES", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_HSTS_PRELOAD", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # fmt: skip


def run_check(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_starts_with_a_secret_key():
    result = run_check(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


def test_the_deploy_checks_pass_under_production_settings():
    result = run_check("--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_production_defaults_pass_the_deploy_checks_too():
    defaults = {k: PRODUCTION[k] for k in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    result = run_check("--deploy", "--fail-level", "WARNING", **defaults)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_checks_see_the_https_settings_from_the_environment():
    result = run_check(
        "--deploy", "--fail-level", "WARNING",
        **{**PRODUCTION, "SECURE_SSL_REDIRECT": "0", "SECURE_HSTS_SECONDS": "0",
           "SECURE_COOKIES": "0"},
    )  # fmt: skip
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr + result.stdout, check
