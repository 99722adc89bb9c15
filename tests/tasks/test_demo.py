"""The demo's tasks and flags for review keep the rules the API holds a client to."""

from tac_api.demo import load_demo_data
from tests.support.api import Api


def test_demo_tasks_and_flags_keep_the_rules(api: Api) -> None:
    async def load() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            await load_demo_data(session, mothers=60, seed=11)

    api.client.portal.call(load)  # type: ignore[union-attr]
    # Every register row owing a follow-up made its task: due and done as the row says.
    unmatched = api.sql(
        "SELECT count(*) FROM group_attendance a WHERE a.follow_up_due_on IS NOT NULL AND NOT "
        "EXISTS (SELECT 1 FROM task t WHERE t.made_by_record = 'group_follow_up' "
        "AND t.resource_id = a.id AND t.due_on = a.follow_up_due_on "
        "AND (t.done_on = a.follow_up_done_on OR (t.done_on IS NULL "
        "AND a.follow_up_done_on IS NULL)))"
    )
    assert unmatched[0][0] == 0
    assert api.sql("SELECT count(*) FROM task WHERE made_by_record IS NULL")[0][0] > 0
    # Owners are staff of the prison she is held in who have not left.
    strays = api.sql(
        "SELECT count(*) FROM task t JOIN staff_member s ON s.id = t.owner_id "
        "JOIN mother m ON m.id = t.mother_id WHERE s.prison_code <> m.prison_code "
        "OR s.left_on IS NOT NULL"
    )
    assert strays[0][0] == 0
    # Flags on her record or her hearings, some cleared, each with who raised it.
    flags = api.sql("SELECT resource_type, cleared_at, cleared_by_name FROM review_flag")
    assert flags and {kind for kind, *_ in flags} <= {"mother", "court_hearing"}
    assert all((cleared is None) == (name is None) for _, cleared, name in flags)
    # And the API reads them.
    listed = api.get("admin", "/v1/flags", params={"limit": 200}).json()["items"]
    assert len(listed) == len(flags)
    assert api.get("admin", "/v1/tasks", params={"done": "false"}).status_code == 200
