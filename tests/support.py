"""What several test files share: an actor with every right (the command line's) and a clock
for reads where the time does not matter (a supervisor may open any call of any age)."""

from datetime import datetime

from advice_desk.clock import UK, FixedClock
from advice_desk.people.permissions import command_line_actor

PASSWORD = "correct horse battery"
SUPERVISOR = command_line_actor()
ANY_TIME = FixedClock(datetime(2026, 11, 23, 10, 15, tzinfo=UK))
