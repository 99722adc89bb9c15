"""The demo's group sessions keep the rules the API holds a client to."""

from datetime import date
from itertools import pairwise

from tac_api.demo import load_demo_data
from tac_api.groups.service import follow_up_due
from tests.support.api import Api
from tests.support.bodies import TODAY


def test_demo_groups_keep_the_rules(api: Api) -> None:
    async def load() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            await load_demo_data(session, mothers=60, seed=11)

    api.client.portal.call(load)  # type: ignore[union-attr]
    sessions = api.sql("SELECT id, prison_code, held_on FROM group_session ORDER BY held_on")
    # Fortnightly in each prison over the last year, none in the future.
    assert {row[1] for row in sessions} == {"EWI", "SDI"}
    assert 40 <= len(sessions) <= 52
    days = [date.fromisoformat(str(row[2])) for row in sessions if row[1] == "EWI"]
    assert {(b - a).days for a, b in pairwise(days)} == {14}
    assert max(days) <= TODAY
    # Facilitated by the prison's own staff who had not left by then.
    strays = api.sql(
        "SELECT count(*) FROM group_facilitator f "
        "JOIN group_session s ON s.id = f.group_session_id "
        "JOIN staff_member m ON m.id = f.staff_member_id WHERE m.prison_code <> s.prison_code "
        "OR m.left_on < s.held_on"
    )
    assert strays[0][0] == 0
    unfacilitated = api.sql(
        "SELECT count(*) FROM group_session s WHERE NOT EXISTS "
        "(SELECT 1 FROM group_facilitator f WHERE f.group_session_id = s.id)"
    )
    assert unfacilitated[0][0] == 0
    # Registers of women held there, each once; a follow-up owed exactly when she checked out
    # lower, some done (in that week, by staff of that prison) and some still owed.
    rows = api.sql(
        "SELECT a.check_in, a.check_out, a.follow_up_due_on, a.follow_up_done_on, s.held_on, "
        "m.reception_date FROM group_attendance a "
        "JOIN group_session s ON s.id = a.group_session_id JOIN mother m ON m.id = a.mother_id"
    )
    assert len(rows) > 100
    done = owed = 0
    for check_in, check_out, due_on, done_on, held_on, received in rows:
        held = date.fromisoformat(str(held_on))
        assert date.fromisoformat(str(received)) <= held
        assert 1 <= check_in <= 5 and 1 <= check_out <= 5
        if check_out < check_in:
            assert date.fromisoformat(str(due_on)) == follow_up_due(held)
            if done_on is None:
                owed += 1
            else:
                done += 1
                assert held <= date.fromisoformat(str(done_on)) <= min(TODAY, follow_up_due(held))
        else:
            assert due_on is None and done_on is None
    assert done > 5 and owed > 0
    overdue = api.sql(
        "SELECT count(*) FROM group_attendance WHERE follow_up_done_on IS NULL "
        "AND follow_up_due_on < :today",
        today=TODAY,
    )
    assert overdue[0][0] > 0
