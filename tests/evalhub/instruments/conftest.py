from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401
