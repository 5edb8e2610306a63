import pytest

from evalhub.demo.live import LIVE_ARENA, LIVE_CHAT, demo_live_load
from evalhub.demo.processes import demo_processes
from evalhub.live.models import LiveStudy

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_live_conversation_and_a_live_battle_on_its_vllm_serve():
    url = "http://127.0.0.1:8011/v1"
    assert demo_live_load(vllm_base_url=url) == [LIVE_CHAT, LIVE_ARENA]
    assert demo_live_load(vllm_base_url=url) == [LIVE_CHAT, LIVE_ARENA]  # twice: no change
    modes = dict(LiveStudy.objects.values_list("study__slug", "mode"))
    assert modes == {LIVE_CHAT: "conversation", LIVE_ARENA: "battle"}
    for live in LiveStudy.objects.select_related("study"):
        served = {m.model_path for m in [live.study.target_model, *live.study.baselines.all()]}
        assert served == {"tiny", "tiny-b"} and live.study.status == "launched"


def test_the_demo_serves_live_studies_from_asgi():
    (live,) = [p for p in demo_processes(8000, None, 8020) if p.name == "web-live"]
    assert "evalhub.asgi:application" in live.argv and "8020" in live.argv
