import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from evalhub.demo.live import demo_live_load
from evalhub.demo.pipeline import demo_pipeline_start
from evalhub.demo.processes import Supervisor, demo_processes, judge_process, worker_lines
from evalhub.demo.services import DEMO_RESEARCHER, DEMO_STUDY, demo_load, demo_team
from evalhub.studies.models import Study
from generation.demo import demo_engine_env, demo_generation_start


class Command(BaseCommand):
    help = "Set up the demo (migrate, demo data) and serve it with the Celery workers."

    def handle(self, *args, **options) -> None:
        port = int(os.environ.get("PORT", "8000"))
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        data = demo_load()
        base = f"http://127.0.0.1:{port}"
        demo_engine_env()
        generation = demo_generation_start(prompt_set=data.prompt_set, base_url=base)
        # The demo judge's own port: 8011 unless the web server took it.
        judge_port = int(
            os.environ.get("EVALHUB_DEMO_JUDGE_PORT") or (8012 if port == 8011 else 8011)
        )
        pipeline = demo_pipeline_start(
            judge_base_url=f"http://127.0.0.1:{judge_port}/v1", base_url=base
        )
        live_port = int(os.environ.get("EVALHUB_DEMO_LIVE_PORT") or port + 20)
        live = f"http://127.0.0.1:{live_port}"
        chat, arena = demo_live_load(vllm_base_url=f"http://127.0.0.1:{judge_port}/v1")
        # The public links name studies by their crowd codes, never their slugs.
        codes = dict(
            Study.objects.filter(team=demo_team(), slug__in=[chat, arena]).values_list(
                "slug", "crowd_code"
            )
        )
        crowd = data.study.crowd_code
        user, password = DEMO_RESEARCHER
        judge = judge_process(judge_port, str(settings.VAR_DIR / "tiny-model"))
        processes = demo_processes(port, judge, live_port)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "EvalHub demo is starting. Open:",
                    f"  rater link    {base}/s/{crowd}/?PROLIFIC_PID=demo-participant-1"
                    "&STUDY_ID=demo&SESSION_ID=demo-session-1",
                    "                (a Prolific link; another PROLIFIC_PID is another rater)",
                    f"  author rating {base}/rate/{crowd}/   (log in first)",
                    f"  workspace     {base}/studies/   (log in as {user} / {password})",
                    f"  study page    {base}/studies/{DEMO_STUDY}/   (monitor, judge, exports)",
                    f"  new study     {base}/studies/new/   (from the demo prompt set)",
                    f"  dashboards    {base}/dashboards/studies/{DEMO_STUDY}/",
                    f"  live chat     {live}/live/{codes[chat]}/?PROLIFIC_PID=demo-live-1",
                    f"  live battle   {live}/live/{codes[arena]}/?PROLIFIC_PID=demo-live-1",
                    "                (streamed from the tiny model: its answers are gibberish)",
                    f"  live results  {base}/dashboards/studies/{chat}/ and .../{arena}/",
                    f"  training      {base}/training/",
                    f"  API docs      {base}/api/docs/",
                    f"  admin         {base}/admin/",
                    f"  health        {base}/healthz",
                    *worker_lines(processes),
                    f"  logs          {settings.VAR_DIR / 'logs'}/",
                    *generation.lines,
                    *pipeline.lines,
                    "Press Ctrl-C to stop everything.",
                    "",
                ]
            )
        )
        supervisor = Supervisor(processes)
        supervisor.start()
        raise SystemExit(supervisor.wait())
