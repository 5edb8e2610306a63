from django.core.management.base import BaseCommand

from evalhub.demo.services import demo_load


class Command(BaseCommand):
    help = "Load the demo prompt set, outputs, the study lima-demo and a researcher login."

    def handle(self, *args, **options) -> None:
        data = demo_load()
        verb = "Loaded" if data.created else "Already loaded:"
        self.stdout.write(self.style.SUCCESS(f"{verb} study {data.study.slug}."))
