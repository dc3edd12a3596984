from django.core.management.base import BaseCommand

from incidents.demo import load_demo


class Command(BaseCommand):
    help = "Load (or refresh) the Cần Thơ demo city: geography, departments, categories, rules, reports, accounts."

    def handle(self, *args, **options):
        summary = load_demo()
        for line in summary.lines:
            self.stdout.write(line)
        self.stdout.write("\nDemo accounts (sign in at /console/; the IOC operator also at /admin/):")
        for username, password, what in summary.accounts:
            self.stdout.write(f"  {username:<12} {password}   {what}")
        self.stdout.write(f"\nOpen311 API key: {summary.api_key}")
