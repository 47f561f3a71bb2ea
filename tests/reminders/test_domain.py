"""Reminder rules without I/O: schedules across DST, the firing plan, the ladder, the words."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidInput
from domain.intents import Intent
from domain.recurrence import check_schedule, earlier_rule
from domain.reminders import (
    DayRecord,
    DueReminder,
    EscalationPolicy,
    EscalationStep,
    FiringRules,
    Occurrence,
    OccurrenceStatus,
    Reminder,
    ReminderStatus,
    StepAction,
    dose_followup,
    due_text,
    family_text,
    list_reply,
    matching,
    occurrence_id,
    plan_firing,
    reprompt_text,
    set_reply,
    stable_id,
    took_today_sentence,
    took_today_subject,
)
from domain.skills.reminders import followup_skill

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=STOCKHOLM)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("first", "change", "before", "after"),
    [
        (_local(2026, 3, 26, 8), datetime(2026, 3, 29, tzinfo=UTC), "+0100", "+0200"),
        (_local(2026, 10, 22, 8), datetime(2026, 10, 25, tzinfo=UTC), "+0200", "+0100"),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_daily_08_00_reminder_stays_at_08_00_local_across_dst(
    first: datetime, change: datetime, before: str, after: str
) -> None:
    schedule = check_schedule(first, "FREQ=DAILY;BYHOUR=8;BYMINUTE=0", "Europe/Stockholm", 60)
    days = schedule.between(first, first + timedelta(days=6))
    local = [d.astimezone(STOCKHOLM) for d in days]
    assert [d.strftime("%H:%M") for d in local] == ["08:00"] * 6
    assert [d.strftime("%z") for d in local] == [before] * 3 + [after] * 3
    assert days[3] - days[2] == timedelta(hours=23 if before == "+0100" else 25)
    assert all(d.tzinfo is UTC for d in days)  # compared as instants, never by wall clock
    # the scheduler's own step, one occurrence at a time, agrees
    assert schedule.next_after(days[2]) == days[3] and days[2] < change < days[3]


def test_a_wall_time_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    schedule = check_schedule(_local(2026, 3, 28, 2, 30), "FREQ=DAILY", "Europe/Stockholm", 60)
    days = [
        d.astimezone(STOCKHOLM).strftime("%d %H:%M")
        for d in schedule.between(_local(2026, 3, 28), _local(2026, 3, 31))
    ]
    assert days == ["28 02:30", "29 03:30", "30 02:30"]


def test_sub_daily_rules_never_repeat_or_go_back_in_time_across_dst() -> None:
    for first in (_local(2026, 3, 29, 0, 30), _local(2026, 10, 25, 0, 30)):
        schedule = check_schedule(first, "FREQ=MINUTELY;INTERVAL=20", "Europe/Stockholm", 60)
        found = schedule.between(first, first + timedelta(hours=5))
        assert found == sorted(set(found))
        assert all(b - a <= timedelta(minutes=80) for a, b in itertools.pairwise(found))


def test_next_after_matches_a_plain_expansion_from_the_start() -> None:
    """next_after moves DTSTART forward by whole periods to stay fast; the answers must not change."""
    from domain.recurrence import _compiled

    rng = random.Random(7)
    rules = [
        "FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0",
        "FREQ=DAILY;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=1,4",
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=1,4,5,8,9,12",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;BYHOUR=9",
        "FREQ=HOURLY;INTERVAL=5;BYDAY=MO,WE",
        "FREQ=MINUTELY;INTERVAL=7;BYHOUR=1,2,3",
        "FREQ=DAILY;INTERVAL=3;UNTIL=20261201T000000Z",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=DAILY;COUNT=50",
    ]
    for rule in rules:
        schedule = check_schedule(_local(2026, 1, 3, 7, 21), rule, "Europe/Stockholm", 60)
        plain = _compiled(rule, schedule.local_start, schedule.timezone)
        for _ in range(20):
            after = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 330 * 86400))
            expected = next(
                (i for n in plain if (i := n.replace(tzinfo=STOCKHOLM).astimezone(UTC)) > after), None
            )
            assert schedule.next_after(after) == expected, (rule, after)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (None, "tomorrow at 08:00"),
        ("FREQ=DAILY;BYHOUR=8;BYMINUTE=0", "every day at 08:00"),
        ("FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0", "every day at 08:00 and 20:00"),
        ("FREQ=DAILY;INTERVAL=2", "every 2 days at 08:00"),
        ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0", "every Monday at 10:00"),
        ("FREQ=WEEKLY;BYDAY=TH,MO", "every Monday and Thursday at 08:00"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday at 08:00"),
        ("FREQ=WEEKLY;INTERVAL=2", "every other week on Friday at 08:00"),
        ("FREQ=HOURLY;INTERVAL=2", "every 2 hours"),
        ("FREQ=HOURLY", "every hour"),
        ("FREQ=MONTHLY;BYMONTHDAY=3", "on the 3rd of every month at 08:00"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "on the last day of every month at 08:00"),
        ("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3", "every year on 3 March at 08:00"),
        ("FREQ=MONTHLY;BYDAY=1MO", "on a repeating schedule"),
        ("FREQ=DAILY;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=1,4", "every day at 08:00 and 18:30"),
        (
            "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=1,4,5,8",
            "every Monday and Thursday at 08:00 and 18:30",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=3;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=2",
            "on the 3rd of every month at 08:30",
        ),
        ("FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=1,6", "on a repeating schedule"),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "on a repeating schedule"),
        # a rule that ends never reads as "every day": one day's times read as that day
        ("FREQ=DAILY;COUNT=2;BYHOUR=8,19;BYMINUTE=0", "tomorrow at 08:00 and 19:00"),
        ("FREQ=DAILY;COUNT=3;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=1,2,4", "tomorrow at 08:00, 08:30 and 18:30"),
        ("FREQ=DAILY;COUNT=1", "tomorrow at 08:00"),
        ("FREQ=DAILY;COUNT=5;BYHOUR=8;BYMINUTE=0", "every day at 08:00, 5 times"),
        ("FREQ=WEEKLY;COUNT=2;BYDAY=MO", "every Monday at 08:00, twice"),
    ],
)
def test_schedules_in_plain_words(rule: str | None, words: str) -> None:
    schedule = check_schedule(_local(2026, 3, 27, 8), rule, "Europe/Stockholm", 60)
    assert schedule.describe(_local(2026, 3, 26, 12)) == words


def test_a_rule_that_ends_is_said_so_in_swedish_too() -> None:
    one_day = check_schedule(
        _local(2026, 3, 27, 8), "FREQ=DAILY;COUNT=2;BYHOUR=8,19;BYMINUTE=0", "Europe/Stockholm", 60
    )
    five = check_schedule(_local(2026, 3, 27, 8), "FREQ=DAILY;COUNT=5", "Europe/Stockholm", 60)
    assert one_day.describe(_local(2026, 3, 26, 12)).sv == "i morgon kl. 08:00 och 19:00"
    assert five.describe(_local(2026, 3, 26, 12)).sv == "varje dag kl. 08:00, 5 gånger"


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",  # never happens: dateutil would search to the year 9999
        "FREQ=DAILY;BYMONTH=4,6;BYMONTHDAY=31",
        "FREQ=SECONDLY",  # more often than the minimum interval
        "FREQ=MINUTELY;BYSECOND=0,30",
        "FREQ=DAILY;COUNT=2;UNTIL=20270101T000000Z",
        "FREQ=DAILY;DTSTART=20200101T000000",
        "FREQ=DAILY;BYSETPOS=2",  # a day holds one time: never happens
        "FREQ=DAILY;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=0",
        "FREQ=WEEKLY;BYDAY=2MO",
        "FREQ=DAILY\nRRULE:FREQ=WEEKLY",
        "FREQ=FORTNIGHTLY",
        "BYHOUR=8",
        "FREQ=DAILY;BYHOUR=25",
        "FREQ=DAILY;UNTIL=tomorrow",
        "nonsense",
    ],
)
def test_rules_reminders_cannot_follow_are_refused(rule: str) -> None:
    with pytest.raises(InvalidInput):
        check_schedule(_local(2026, 3, 27, 8), rule, "Europe/Stockholm", 60)


def test_a_rule_is_normalized_and_a_utc_until_is_read_on_the_local_clock() -> None:
    schedule = check_schedule(
        _local(2026, 3, 27, 8), "rrule:freq=daily;until=20260329T070000Z", "Europe/Stockholm", 60
    )
    assert schedule.rule == "FREQ=DAILY;UNTIL=20260329T070000Z"
    assert len(schedule.between(_local(2026, 3, 27), _local(2026, 4, 5))) == 3  # 29th 08:00 is 06:00Z


# ------------------------------------------------------------------------------------- firing


def _reminder(first: datetime, rule: str | None, *, next_due: datetime | None = None) -> Reminder:
    schedule = check_schedule(first, rule, "Europe/Stockholm", 1)
    return Reminder(
        id=uuid.UUID(int=1),
        user_id=uuid.UUID(int=2),
        conversation_id=uuid.UUID(int=3),
        what="take my heart pills",
        medicine="heart pills",
        dose="2 tablets",
        schedule=schedule,
        status=ReminderStatus.ACTIVE,
        next_due_at=next_due or schedule.first_at,
        escalate=True,
    )


RULES = FiringRules(catch_up=timedelta(minutes=30), backlog=100)


def test_a_due_occurrence_fires_with_its_task_and_ladder_and_the_next_is_computed() -> None:
    reminder = _reminder(_local(2026, 3, 28, 8), "FREQ=DAILY")
    plan = plan_firing(DueReminder(reminder, EscalationPolicy()), _local(2026, 3, 28, 8, 0, 1), RULES)
    [occ] = plan.occurrences
    assert (
        occ.fire and occ.task is not None and occ.task.reply == "Time to take your heart pills (2 tablets)."
    )
    assert occ.steps == EscalationPolicy().steps
    assert plan.next_due_at == _local(2026, 3, 29, 8)  # 23 hours later: the clocks changed
    assert occ.miss_cap == plan.next_due_at
    again = plan_firing(DueReminder(reminder, EscalationPolicy()), _local(2026, 3, 28, 8, 0, 2), RULES)
    assert again.occurrences[0].id == occ.id and again.occurrences[0].task.id == occ.task.id  # type: ignore[union-attr]


def test_after_downtime_only_the_latest_due_within_the_window_fires() -> None:
    reminder = _reminder(_local(2026, 3, 20, 8), "FREQ=DAILY")
    plan = plan_firing(DueReminder(reminder, EscalationPolicy()), _local(2026, 3, 25, 8, 20), RULES)
    assert [(o.due_at.astimezone(STOCKHOLM).day, o.fire) for o in plan.occurrences] == [
        (20, False),
        (21, False),
        (22, False),
        (23, False),
        (24, False),
        (25, True),
    ]
    assert all(o.task is None and not o.steps for o in plan.occurrences[:-1])
    stale = plan_firing(DueReminder(reminder, EscalationPolicy()), _local(2026, 3, 25, 9), RULES)
    assert not any(o.fire for o in stale.occurrences)


def test_a_long_backlog_is_recorded_over_several_passes_and_nothing_fires_until_caught_up() -> None:
    reminder = _reminder(_local(2026, 3, 20, 8), "FREQ=MINUTELY")
    now = _local(2026, 3, 20, 11)
    plan = plan_firing(DueReminder(reminder, EscalationPolicy()), now, RULES)
    assert len(plan.occurrences) == 100 and not any(o.fire for o in plan.occurrences)
    assert plan.next_due_at == _local(2026, 3, 20, 9, 40)
    rest = plan_firing(
        DueReminder(
            _reminder(_local(2026, 3, 20, 8), "FREQ=MINUTELY", next_due=plan.next_due_at), EscalationPolicy()
        ),
        now,
        RULES,
    )
    assert len(rest.occurrences) == 81 and [o.fire for o in rest.occurrences].count(True) == 1


def test_a_one_off_finishes_after_firing() -> None:
    plan = plan_firing(
        DueReminder(_reminder(_local(2026, 3, 28, 8), None), EscalationPolicy()),
        _local(2026, 3, 28, 8, 1),
        RULES,
    )
    assert [o.fire for o in plan.occurrences] == [True] and plan.next_due_at is None


def test_ids_are_deterministic_and_sort_by_time() -> None:
    a = occurrence_id(uuid.UUID(int=1), _local(2026, 3, 28, 8))
    assert a == occurrence_id(uuid.UUID(int=1), _local(2026, 3, 28, 8).astimezone(UTC))
    assert a != occurrence_id(uuid.UUID(int=9), _local(2026, 3, 28, 8))
    assert a < occurrence_id(uuid.UUID(int=1), _local(2026, 3, 28, 8, 0, 1))
    assert stable_id(_local(2026, 3, 28, 8), "x").version == 7


@pytest.mark.parametrize(
    "policy",
    [
        EscalationPolicy((EscalationStep(600, StepAction.REPROMPT), EscalationStep(600, StepAction.FAMILY))),
        EscalationPolicy((EscalationStep(1800, StepAction.FAMILY), EscalationStep(600, StepAction.REPROMPT))),
        EscalationPolicy((EscalationStep(0, StepAction.REPROMPT),)),
        EscalationPolicy((EscalationStep(600, StepAction.FAMILY),), missed_after_seconds=600),
        EscalationPolicy(tuple(EscalationStep(60 * (i + 1), StepAction.REPROMPT) for i in range(6))),
    ],
)
def test_ladders_that_cannot_work_are_refused(policy: EscalationPolicy) -> None:
    with pytest.raises(InvalidInput):
        policy.check()


def test_the_default_ladder_reprompts_at_10_and_tells_the_family_at_30_minutes() -> None:
    policy = EscalationPolicy().check()
    assert [(s.after_seconds, s.action) for s in policy.steps] == [(600, "reprompt"), (1800, "family")]
    assert policy.late_after_seconds == 1800
    assert EscalationPolicy((), 7200).late_after_seconds == 1800


# ------------------------------------------------------------------------------------ the words


def test_what_the_person_and_the_family_read() -> None:
    reminder = _reminder(_local(2026, 3, 28, 8), "FREQ=DAILY;BYHOUR=8;BYMINUTE=0")
    now = _local(2026, 3, 27, 12)
    assert (
        set_reply(reminder, now) == "I'll remind you to take your heart pills (2 tablets) every day at 08:00."
    )
    assert due_text(reminder) == "Time to take your heart pills (2 tablets)."
    assert reprompt_text(reminder, _local(2026, 3, 28, 8)) == (
        "Just checking: did you take your heart pills (2 tablets)? It was due at 08:00."
    )
    assert family_text(reminder, _local(2026, 3, 28, 8), "Greta") == (
        "Greta has not confirmed taking heart pills (2 tablets), due at 08:00."
    )
    appointment = Reminder(**_fields(reminder, what="the dentist at noon", medicine=None, dose=None))  # type: ignore[arg-type]
    assert due_text(appointment) == "Reminder: the dentist at noon."
    assert list_reply([reminder, appointment], now) == (
        "You have 2 reminders: take your heart pills (2 tablets) every day at 08:00; "
        "and the dentist at noon every day at 08:00."
    )
    assert list_reply([], now) == "You have no reminders."


def _fields(reminder: Reminder, **changes: object) -> dict[str, object]:
    from dataclasses import fields

    return {f.name: changes.get(f.name, getattr(reminder, f.name)) for f in fields(reminder)}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I took it", "ack"),
        ("I've taken my pills.", "ack"),
        ("yes, I took them", "ack"),
        ("done", "ack"),
        ("did I take my heart pill today?", "took_today"),
        ("Have I taken my medicine yet?", "took_today"),
        ("remind me to take my pills at 8", None),
        ("I took the bus to town", None),
        ("done?", None),
        ("hello", None),
    ],
)
def test_dose_follow_ups_are_recognised(text: str, kind: str | None) -> None:
    assert dose_followup(text) == kind


def test_did_i_take_it_finds_the_reminder_meant() -> None:
    heart = _reminder(_local(2026, 3, 28, 8), "FREQ=DAILY")
    vitamins = Reminder(
        **_fields(heart, id=uuid.UUID(int=5), what="take my vitamins", medicine="vitamin D", dose=None)
    )  # type: ignore[arg-type]
    call = Reminder(**_fields(heart, id=uuid.UUID(int=6), what="call mum", medicine=None, dose=None))  # type: ignore[arg-type]
    assert took_today_subject("did I take my heart pill today?") == "heart pill"
    assert matching([heart, vitamins, call], "heart pill") == [heart]
    assert matching([heart, vitamins, call], "vitamins") == [vitamins]
    assert matching([heart, vitamins, call], "pills") == [heart, vitamins]
    assert matching([heart, vitamins, call], "aspirin") == []


def test_the_answer_to_did_i_take_it_guards_against_a_double_dose() -> None:
    reminder = _reminder(_local(2026, 3, 28, 8), "FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0")

    def occ(hour: int, status: OccurrenceStatus, acked: datetime | None = None) -> Occurrence:
        return Occurrence(
            uuid.uuid4(), reminder.id, reminder.user_id, _local(2026, 3, 28, hour), status, acked_at=acked
        )

    taken = DayRecord(
        reminder, [occ(8, OccurrenceStatus.TAKEN, _local(2026, 3, 28, 8, 5))], [_local(2026, 3, 28, 20)]
    )
    assert took_today_sentence(taken) == (
        "Yes, you took your heart pills today at 08:05. You don't need to take it again now. "
        "The next one is at 20:00."
    )
    missed = DayRecord(reminder, [occ(8, OccurrenceStatus.MISSED)])
    assert took_today_sentence(missed) == (
        "I have no record that you took your heart pills today; it was due at 08:00. "
        "If you're not sure, check your pill box before taking more."
    )
    early = DayRecord(reminder, [], [_local(2026, 3, 28, 8)])
    assert took_today_sentence(early) == "Not yet: the next dose of your heart pills is at 08:00 today."


def test_the_conversation_hook_routes_dose_follow_ups_only_when_no_action_was_seen() -> None:
    assert followup_skill("I took it", Intent.NONE) == "reminder_ack"
    assert followup_skill("did I take my heart pill today?", Intent.ASK_QUESTION) == "reminder_took_today"
    assert followup_skill("I took it", Intent.SET_REMINDER) is None
    assert followup_skill("hello", Intent.NONE) is None


@pytest.mark.parametrize(
    ("rule", "before", "at_hour", "earlier"),
    [
        (
            "FREQ=WEEKLY;BYDAY=TU;BYHOUR=9;BYMINUTE=0",
            timedelta(days=1),
            None,
            "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
        ),
        (
            "FREQ=WEEKLY;BYDAY=TU;BYHOUR=9;BYMINUTE=0",
            timedelta(days=1),
            20,
            "FREQ=WEEKLY;BYDAY=MO;BYHOUR=20;BYMINUTE=0",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=0;BYMINUTE=30",
            timedelta(hours=1),
            None,
            "FREQ=WEEKLY;BYDAY=SU,WE;BYHOUR=23;BYMINUTE=30",
        ),  # past midnight: the day before too
        (
            "FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0",
            timedelta(minutes=10),
            None,
            "FREQ=DAILY;BYHOUR=7,19;BYMINUTE=50",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=9;BYMINUTE=0",
            timedelta(days=2),
            None,
            "FREQ=MONTHLY;BYMONTHDAY=13;BYHOUR=9;BYMINUTE=0",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0",
            timedelta(days=1),
            None,
            "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0",
        ),  # the day before the 1st: the month's last
        ("FREQ=WEEKLY;BYDAY=TU", timedelta(days=1), None, "FREQ=WEEKLY;BYDAY=MO"),
        # cannot be said as one rule of the same shape
        (
            "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0",
            timedelta(days=2),
            None,
            "FREQ=MONTHLY;BYMONTHDAY=-2;BYHOUR=9;BYMINUTE=0",
        ),
        ("FREQ=MONTHLY;BYMONTHDAY=-28", timedelta(days=1), None, None),  # not in every month
        ("FREQ=DAILY;BYHOUR=8;BYMINUTE=0,30", timedelta(minutes=10), None, None),
        ("FREQ=DAILY;BYHOUR=0,8;BYMINUTE=30", timedelta(hours=1), None, None),  # lands on two days
        ("FREQ=DAILY;BYHOUR=8,18;BYMINUTE=0,30;BYSETPOS=1,4", timedelta(hours=1), None, None),
        ("FREQ=WEEKLY;BYDAY=TU", timedelta(hours=1), None, None),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", timedelta(days=1), None, "FREQ=MONTHLY;BYMONTHDAY=-2"),
        ("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3", timedelta(days=1), None, None),
    ],
)
def test_a_rule_moved_earlier_keeps_its_shape(
    rule: str, before: timedelta, at_hour: int | None, earlier: str | None
) -> None:
    assert earlier_rule(rule, before, at_hour) == earlier
