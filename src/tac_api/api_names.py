"""How the contract names its operations and groups them, so that a client generated from
`openapi/openapi.json` reads like the API: `tac.getMother(...)` in a `MothersApi`, not
`get_mother_v1_mothers__mother_id__get`.

An operation's id is its route function's name in lowerCamelCase: name the function as a verb and
what it acts on (`list_court_hearings`, `record_hearing_outcome`). Each router carries one of the
tags below; their order is the order of `/docs`. tests/contracts/test_openapi_names.py holds both to
these rules."""

from fastapi.routing import APIRoute

TAGS: list[dict[str, str]] = [
    {"name": "Health", "description": "Whether the process is up and its database ready."},
    {
        "name": "Monitoring",
        "description": "Figures for Prometheus: requests, latency, the database pool, refusals, "
        "webhook deliveries and how far behind the change feed and published events are.",
    },
    {
        "name": "Reference data",
        "description": "Prisons, local authorities and the code lists records use.",
    },
    {
        "name": "Mothers",
        "description": "Mothers in custody: her record and where she has been held.",
    },
    {
        "name": "Children",
        "description": "Her children and expected babies, their history and family.",
    },
    {
        "name": "Practitioners",
        "description": "Solicitors, social workers and others, and who works with which family.",
    },
    {"name": "Release plans", "description": "Her plan for release, and the plans falling due."},
    {
        "name": "Communications",
        "description": "What was relayed between whom, and life story contributions.",
    },
    {
        "name": "Parenting assessments",
        "description": "Assessments of her parenting, who asked for them and their outcome.",
    },
    {
        "name": "Evidence",
        "description": "Evidence of rehabilitation, and the bundle for a court or authority.",
    },
    {
        "name": "Referrals",
        "description": "Referral to engagement: the decision, her first contact and engagement, "
        "her support closed with a reason, and the funnel in figures.",
    },
    {
        "name": "Reviews and pregnancies",
        "description": "Her reviews at 3, 6 and 12 months and between, when they fall due, and "
        "her pregnancies and where each baby went.",
    },
    {"name": "Meetings", "description": "Meetings about her children, and whether she took part."},
    {"name": "Contact visits", "description": "Visits with her children, through their lifecycle."},
    {
        "name": "Court",
        "description": "Court hearings (notice, outcome, amendments) and care proceedings with "
        "their 26-week date.",
    },
    {
        "name": "Support plans",
        "description": "Her support plan over the eight areas, co-produced: what she chose and "
        "wrote, when she agreed it, and every version.",
    },
    {
        "name": "Consent",
        "description": "Her consent to share her support plan or reviews with one of her "
        "children's local authorities, and its withdrawal.",
    },
    {
        "name": "Staff and caseloads",
        "description": "The service's own staff per prison, each woman's allocated worker with "
        "its history, and caseloads against the guide.",
    },
    {
        "name": "Groups",
        "description": "Group sessions and their registers: her check-in and check-out, and "
        "the one-to-one follow-up owed when she leaves feeling worse than she came.",
    },
    {
        "name": "Worklist",
        "description": "The social worker's day: what needs action now, from every kind of record.",
    },
    {"name": "Tasks", "description": "Tasks on her case: what to do, by whom, by when."},
    {
        "name": "Flags for review",
        "description": "Any record of her case flagged for review: why, who raised and cleared it.",
    },
    {
        "name": "Transfers",
        "description": "What a sending prison keeps of a case it transferred to another prison.",
    },
    {"name": "Reports", "description": "The governor's report and the programme's report."},
    {"name": "Chronology", "description": "Every dated event of her case, oldest first."},
    {"name": "Audit", "description": "Who did what with whose records, and when."},
    {
        "name": "Subject access",
        "description": "Everything the service holds about a mother, for her subject access "
        "request.",
    },
    {
        "name": "Organisations",
        "description": "Services in the community a woman can be referred on to at release "
        "(Pause, Step Together, Believe and the like).",
    },
    {
        "name": "Unit costs",
        "description": "What one recorded outcome is estimated to save, set by an administrator "
        "from a date: the programme report's costs avoided.",
    },
    {
        "name": "Link requests",
        "description": "Children a local authority pushed for a mother the prison side has yet to "
        "confirm: confirmed or declined here.",
    },
    {
        "name": "Sync",
        "description": "For a local authority's system: pushing its records, the change feed, its "
        "link requests and its webhooks.",
    },
]


def operation_id(route: APIRoute) -> str:
    """`list_court_hearings` -> `listCourtHearings`."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)
