"""Send a template to every number of a CSV file, resumably, with progress and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...exceptions import MessageValidationError, MessagingTierExceeded
from ...models import Bot, Campaign
from ...services import campaigns


class Command(BaseCommand):
    help = (
        "Validate every row of a CSV (number, template parameters), report the rejected ones with their line, "
        "then send the template to the rest; re-run with --campaign to resume without sending any row twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv", help="The CSV file; its first line names the columns.")
        parser.add_argument("--bot", type=int, help="The sending bot's id (for a new campaign).")
        parser.add_argument("--template", help="The template's name (for a new campaign).")
        parser.add_argument("--language", default="en", help="The template's language code (default: en).")
        parser.add_argument(
            "--number-column", default="number", help="The column holding the phone number (default: number)."
        )
        parser.add_argument(
            "--param-column",
            action="append",
            default=[],
            dest="param_columns",
            help="A column whose value is the next body parameter; repeat it, in the template's order.",
        )
        parser.add_argument("--name", default="", help="A name for the new campaign (default: the file's name).")
        parser.add_argument("--campaign", type=int, help="Resume this campaign (its bot, template and columns).")
        parser.add_argument(
            "--validate-only", action="store_true", help="Validate and store the rows, send nothing (yet)."
        )
        parser.add_argument(
            "--progress",
            choices=["auto", "bar", "lines", "none"],
            default="auto",
            help="A progress bar on a terminal, plain lines otherwise (auto), or force one; none prints no progress.",
        )
        parser.add_argument(
            "--progress-every", type=int, default=1000, help="Rows between two plain progress lines (default: 1000)."
        )
        parser.add_argument(
            "--show-rejected", type=int, default=20, help="How many rejected rows to list by line (default: 20)."
        )
        parser.add_argument(
            "--over-tier",
            choices=["refuse", "defer"],
            default="refuse",
            help="When the numbers left to send exceed the bot's messaging tier: refuse before sending any "
            "(default), or send what fits now and schedule the rest for when the rolling 24 hours allow.",
        )
        parser.add_argument("--encoding", default="utf-8-sig", help="The file's text encoding (default: utf-8-sig).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["csv"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        campaign = self._campaign(path, options)
        self.stdout.write(f"Campaign {campaign.pk} (resume with --campaign {campaign.pk})")
        mode = options["progress"]
        if mode == "auto":
            mode = "bar" if self.stdout.isatty() else "lines"
        reporter = _BarProgress() if mode == "bar" else _LineProgress(self, options["progress_every"], mode == "none")
        try:
            with path.open(encoding=options["encoding"], newline="") as stream:
                summary = campaigns.run_campaign(
                    campaign,
                    stream,
                    send=not options["validate_only"],
                    progress=reporter.update,
                    over_tier=options["over_tier"],
                )
        except (MessageValidationError, UnicodeDecodeError) as err:
            raise CommandError(str(err)) from err
        except MessagingTierExceeded as err:
            reporter.close()
            self._print_summary(campaigns.summarize(campaign), options["show_rejected"])
            raise CommandError(
                f"Nothing sent: {err.requested:,} numbers to send, the bot's messaging tier has "
                f"{max(err.tier - err.used, 0):,} of {err.tier:,} unique users left in the rolling 24 hours "
                f"({err.used:,} used). Resume with --campaign {campaign.pk} when it has room, "
                "or pass --over-tier defer to send what fits now and schedule the rest."
            ) from err
        finally:
            reporter.close()
        self._print_summary(summary, options["show_rejected"])

    def _campaign(self, path: Path, options: dict[str, Any]) -> Campaign:
        if options["campaign"] is not None:
            campaign = Campaign.objects.select_related("bot").filter(pk=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"--campaign {options['campaign']}: no such campaign")
            return campaign
        if options["bot"] is None or not options["template"]:
            raise CommandError("a new campaign needs --bot and --template (or --campaign ID to resume one)")
        bot = Bot.objects.filter(pk=options["bot"]).first()
        if bot is None:
            raise CommandError(f"--bot {options['bot']}: no such bot")
        try:
            return campaigns.create_campaign(
                bot,
                template_name=options["template"],
                language=options["language"],
                number_column=options["number_column"],
                param_columns=options["param_columns"],
                name=options["name"] or path.name,
            )
        except MessageValidationError as err:
            raise CommandError(str(err)) from err

    def _print_summary(self, summary: campaigns.CampaignSummary, show: int) -> None:
        write = self.stdout.write
        write(
            f"Campaign {summary.campaign_id}: {summary.lines_read} lines read, {summary.accepted} accepted, "
            f"{summary.rejected} rejected, {summary.sent} sent, {summary.failed} failed, {summary.unknown} unknown, "
            f"{summary.pending} pending"
        )
        for reason, count in summary.rejected_reasons:
            write(f"  rejected {count}: {reason}")
        for item in summary.rejections[:show]:
            write(f"  line {item.line}: {item.raw_number!r}: {item.reason}")
        more = summary.rejected - min(show, len(summary.rejections))
        if more > 0 and show:
            write(f"  ... and {more} more rejected rows (the admin and the API list them all)")


class _LineProgress:
    """Plain lines for logs and pipes: one every ``every`` rows, and the last one."""

    def __init__(self, command: BaseCommand, every: int, quiet: bool) -> None:
        self.command = command
        self.every = max(1, every)
        self.quiet = quiet
        self.last: dict[str, int] = {}

    def update(self, phase: str, done: int, total: int | None) -> None:
        if self.quiet or (done - self.last.get(phase, 0) < self.every and done != total):
            return
        self.last[phase] = done
        verb = "validated" if phase == "import" else "sent"
        of = f"/{total} ({100 * done // total if total else 100}%)" if total is not None else ""
        self.command.stdout.write(f"{verb} {done}{of} rows")
        self.command.stdout.flush()

    def close(self) -> None:
        pass


class _BarProgress:
    """A rich progress bar per phase, on the terminal."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
        )
        self.tasks: dict[str, Any] = {}
        self.progress.start()

    def update(self, phase: str, done: int, total: int | None) -> None:
        if phase not in self.tasks:
            label = "validating" if phase == "import" else "sending"
            self.tasks[phase] = self.progress.add_task(label, total=total)
        self.progress.update(self.tasks[phase], completed=done, total=total)

    def close(self) -> None:
        self.progress.stop()
