# ruff: noqa: E501 -- SQL with its vocabularies inline reads better than wrapped at 100
"""Seed N mothers' worth of case records on PostgreSQL, fast, for the governor report benchmark.

Set-based SQL only (`INSERT ... SELECT ... FROM generate_series`), on one asyncpg connection and in
one transaction, into a database already migrated and holding the reference data. Nothing goes
through the API: 100,000 mothers is about 3.5 million rows.

The shape, per mother (the figures are means):
- split over EWI (55%) and SDI; `supported_from` uniform over the last six years, 60% closed
  (`closed_on` between `supported_from` and today); one prison stay from a little before
  `supported_from` to `closed_on` (open while she is supported), or two for the 15% transferred
  from the other prison halfway;
- 3 children (1 to 5), 70% in the prison's own area's authorities (the demo's lists), the rest in
  any current authority; legal status and placement type from the reference tables;
- 4 court hearings (half of the past ones with an outcome: attended, and how, or not, and the
  barrier), 3 meetings, 4 contact visits with their status history (requested -> ... -> held /
  cancelled / refused; cancellations and refusals with a reason code), 0.5 parenting assessments,
  4 evidence items with hours, and for 40% a release plan with its 7 pathways and 0 to 4 actions.

Rows go in in the order a live system would have written them (by when support began, when a
hearing or meeting starts, when a visit was scheduled or its status changed...), so a period's
rows sit together on disk as they would after years of use, not scattered over the table.

Every event of hers is dated within her time with the service (`supported_from` to `closed_on`, or
to two months ahead while she is supported), so over six years one quarter holds about 1/24 of
them, a little more for recent quarters.

`seed_report_data(connect, mothers)` grows the database to `mothers` mothers in all: the 10,000
database can be grown to 100,000 in place. Foreign key triggers are off while it loads
(`session_replication_role = replica`, as pg_restore does): every key it writes comes from a row
it wrote or a reference table. Columns from migrations that may not be there yet
(`mother.supported_from`, the visits' reason codes) are filled when they exist.
"""

import time
from dataclasses import dataclass
from datetime import date
from typing import Any, get_args

import asyncpg

from tac_api.visits.schemas import ReasonCode

# The authorities a mother in Eastwood Park or Send is likely to come from (as in tac_api.demo).
AUTHORITIES = {
    "EWI": ["803", "801", "916", "865", "933", "802", "681", "674", "670", "919", "330"],
    "SDI": ["936", "850", "886", "210", "208", "209", "318", "319", "320", "869", "826"],
}
# How long she is supported: exponential, with this mean; over six years about 60% have closed.
MEAN_DAYS = 950
# Events a year while she is supported: about 4 hearings, 3 meetings, 4 visits and 4 pieces of
# evidence each, over the 1.6 years a mother is supported on average by today.
HEARINGS_A_YEAR = 2.5
MEETINGS_A_YEAR = 1.9
VISITS_A_YEAR = 2.5
EVIDENCE_A_YEAR = 2.5
# Who a child lives with.
LIVES_WITH = ["foster_carer", "kinship_carer", "father", "adopters", "residential", "mother"]
# Every child's record has its history from its making (`child_history`, a row written when it
# was made, a few days after her support began); of the children of the women supported in the
# last year, this share changed in it: legal status (half), carer (a fifth) or both, written by
# their authority. The report counts these families from their histories, the rest in the
# database.
CHILDREN_CHANGED_A_YEAR = 0.2
# Every release plan has its history from its making; a plan complete now was completed some
# time after it was made (a change of `complete`), and of the others this share changed in the
# last year (their accommodation).
PLANS_CHANGED_A_YEAR = 0.3
# Codes a visit is called off with; one in eight left out.
REASON_CODES = list(get_args(ReasonCode))


@dataclass
class SeedResult:
    mothers: int  # in the database now
    added: int
    rows: dict[str, int]  # table -> rows in it now
    seconds: float


def _array(values: list[str]) -> str:
    quoted = ("'" + value.replace("'", "''") + "'" for value in values)
    return "ARRAY[" + ", ".join(quoted) + "]::text[]"


def _pick(values: list[str], r: str) -> str:
    """SQL: one of `values`, chosen by the uniform [0, 1) expression `r`."""
    return f"({_array(values)})[1 + floor({r} * {len(values)})::int]"


# The new mothers, with every random choice about them made once (a subquery whose target list
# calls random() is not flattened, so each column below sees the same draw).
_MOTHERS = f"""
CREATE TEMP TABLE seed_mother ON COMMIT DROP AS
SELECT n, id, prison, other_prison, supported_from, closed_on,
       coalesce(closed_on, $2::date + 60) AS window_end,
       coalesce(closed_on, $2::date + 60) - supported_from + 1 AS span,
       least(coalesce(closed_on, $2::date), $2::date) - supported_from + 1 AS past_span,
       arrived_on, transferred,
       arrived_on + floor(r_transfer * (coalesce(closed_on, $2::date) - arrived_on))::int
           AS moved_on,
       $2::date - (19 * 365 + floor(r_age * 26 * 365))::int AS date_of_birth,
       CASE WHEN closed_on IS NOT NULL THEN closed_on - floor(r_release * 20)::int
            ELSE $2::date + floor(r_release * 930)::int - 30 END AS earliest_release_date,
       ethnicities[1 + floor(r_ethnicity * cardinality(ethnicities))::int] AS ethnicity,
       CASE WHEN r_abuse < 0.6 THEN true WHEN r_abuse < 0.85 THEN false END
           AS domestic_abuse_history,
       ARRAY(SELECT gen_random_uuid() FROM generate_series(1, children)) AS child_ids,
       floor(r_hearings * (2 * {HEARINGS_A_YEAR} * (coalesce(closed_on, $2::date + 60) - supported_from + 1) / 365.25 + 1))::int AS hearings,
       floor(r_meetings * (2 * {MEETINGS_A_YEAR} * (coalesce(closed_on, $2::date + 60) - supported_from + 1) / 365.25 + 1))::int AS meetings,
       floor(r_visits * (2 * {VISITS_A_YEAR} * (coalesce(closed_on, $2::date + 60) - supported_from + 1) / 365.25 + 1))::int AS visits,
       (r_assessment < 0.5)::int AS assessments,
       floor(r_evidence * (2 * {EVIDENCE_A_YEAR} * (coalesce(closed_on, $2::date + 60) - supported_from + 1) / 365.25 + 1))::int AS evidence,
       r_plan < 0.4 AS has_plan
FROM (
    SELECT n, gen_random_uuid() AS id,
           CASE WHEN p < 0.55 THEN 'EWI' ELSE 'SDI' END AS prison,
           CASE WHEN p < 0.55 THEN 'SDI' ELSE 'EWI' END AS other_prison,
           supported_from,
           CASE WHEN supported_from + floor(-{MEAN_DAYS} * ln(1 - r_closed))::int <= $2::date
                THEN supported_from + floor(-{MEAN_DAYS} * ln(1 - r_closed))::int
           END AS closed_on,
           supported_from - floor(r_arrived * 60)::int AS arrived_on,
           r_transferred < 0.15 AS transferred,
           r_transfer, r_age, r_release, r_ethnicity, r_abuse, children, r_hearings, r_meetings,
           r_visits, r_assessment, r_evidence, r_plan, ethnicities
    FROM (
        SELECT n, random() AS p,
               $2::date - floor(random() * 6 * 365)::int AS supported_from,
               random() AS r_closed, random() AS r_arrived,
               random() AS r_transferred, random() AS r_transfer, random() AS r_age,
               random() AS r_release, random() AS r_ethnicity, random() AS r_abuse,
               1 + floor(random() * 5)::int AS children, random() AS r_hearings,
               random() AS r_meetings, random() AS r_visits, random() AS r_assessment,
               random() AS r_evidence, random() AS r_plan,
               (SELECT array_agg(code ORDER BY code) FROM ethnicity) AS ethnicities
        FROM generate_series($1::int + 1, $1::int + $3::int) AS n
    ) AS draws
) AS decided
"""

_STAMP = "now(), now(), 1"


def _statements(optional: set[str]) -> list[tuple[str, str]]:
    """(table, statement) in order; $1 is today. `optional`: the optional columns that exist."""
    supported = (
        (", supported_from", ", m.supported_from")
        if "mother.supported_from" in optional
        else ("", "")
    )
    visit_code = (
        (", status_reason_code", ", v.reason_code")
        if "contact_visit.status_reason_code" in optional
        else ("", "")
    )
    change_code = (
        (", reason_code", ", CASE WHEN s.status IN ('cancelled', 'refused') THEN v.reason_code END")
        if "contact_visit_status_change.reason_code" in optional
        else ("", "")
    )
    home = {prison: _array(codes) for prison, codes in AUTHORITIES.items()}
    return [
        (
            "mother",
            f"""
INSERT INTO mother (id, created_at, updated_at, version, prison_number, first_name, last_name,
                    date_of_birth, prison_code, reception_date, earliest_release_date, status,
                    domestic_abuse_history, ethnicity, closed_on{supported[0]})
SELECT m.id, {_STAMP},
       chr(65 + m.n % 26) || lpad(((m.n / 26) % 10000)::text, 4, '0')
           || chr(65 + (m.n / 260000) % 26) || chr(65 + (m.n / 6760000) % 26),
       'Mother', 'Seeded ' || m.n, m.date_of_birth, m.prison, m.arrived_on,
       m.earliest_release_date, CASE WHEN m.closed_on IS NULL THEN 'active' ELSE 'closed' END,
       m.domestic_abuse_history, m.ethnicity, m.closed_on{supported[1]}
FROM seed_mother m ORDER BY m.supported_from
""",
        ),
        (
            "prison_stay",
            f"""
INSERT INTO prison_stay (id, created_at, updated_at, version, mother_id, prison_code, arrived_on,
                         left_on)
SELECT gen_random_uuid(), {_STAMP}, m.id, m.other_prison, m.arrived_on, m.moved_on
FROM seed_mother m WHERE m.transferred
UNION ALL
SELECT gen_random_uuid(), {_STAMP}, m.id, m.prison,
       CASE WHEN m.transferred THEN m.moved_on ELSE m.arrived_on END, m.closed_on
FROM seed_mother m
ORDER BY 7
""",
        ),
        (
            "child",
            f"""
INSERT INTO child (id, created_at, updated_at, version, mother_id, first_name, last_name,
                   date_of_birth, sex, local_authority_code, legal_status, placement_type,
                   lives_with, placement_confidential, social_worker_name, social_worker_email,
                   contact_arrangement, authority_fields)
SELECT c.id, {_STAMP}, c.mother_id, 'Child', 'Seeded',
       $1::date - floor(c.r_age * 17 * 365)::int - 30,
       CASE WHEN c.r_sex < 0.5 THEN 'female' ELSE 'male' END, c.authority,
       legal[1 + floor(c.r_legal * cardinality(legal))::int],
       placements[1 + floor(c.r_placement * cardinality(placements))::int],
       {_pick(LIVES_WITH, "c.r_lives")},
       c.r_confidential < 0.1,
       {_pick(["Gwen Llewellyn", "Tomás Ó Briain", "Margaret D'Arcy", "Hélène Adeyemi", "Owain Pugh"], "c.r_worker")},
       'social.worker@la' || c.authority || '.example.gov.uk',
       {_pick(["direct", "direct", "supervised", "indirect_only", "none"], "c.r_contact")},
       '[]'::json
FROM (
    SELECT child.id, m.id AS mother_id, m.supported_from, random() AS r_age, random() AS r_sex,
           CASE WHEN random() < 0.7
                THEN (CASE m.prison WHEN 'EWI' THEN {home["EWI"]} ELSE {home["SDI"]} END)
                     [1 + floor(random() * {len(AUTHORITIES["EWI"])})::int]
                ELSE la.codes[1 + floor(random() * cardinality(la.codes))::int]
           END AS authority,
           random() AS r_legal, random() AS r_placement, random() AS r_lives,
           random() AS r_confidential, random() AS r_worker, random() AS r_contact
    FROM seed_mother m, unnest(m.child_ids) AS child(id),
         (SELECT array_agg(dfe_number ORDER BY dfe_number) AS codes FROM local_authority
          WHERE valid_to IS NULL) AS la
) AS c,
(SELECT array_agg(code ORDER BY code) AS legal FROM legal_status) AS l,
(SELECT array_agg(code ORDER BY code) AS placements FROM placement_type) AS p
ORDER BY c.supported_from
""",
        ),
        (
            "child_history",
            f"""
CREATE TEMP TABLE seed_child ON COMMIT DROP AS
SELECT d.*,
       CASE WHEN d.changed_at IS NOT NULL AND d.r_kind < 0.8
            THEN (array_remove(l.legal, d.legal_status))[1 + floor(d.r_old * (cardinality(l.legal) - 1))::int]
       END AS old_legal,
       CASE WHEN d.changed_at IS NOT NULL AND d.r_kind >= 0.5
            THEN (array_remove({_array(LIVES_WITH)}, d.lives_with))[1 + floor(d.r_old * {len(LIVES_WITH) - 1})::int]
       END AS old_lives
FROM (
    SELECT w.*,
           CASE WHEN w.r_changed < {CHILDREN_CHANGED_A_YEAR} AND w.change_from < w.change_until
                THEN w.change_from + w.r_when * (w.change_until - w.change_from)
           END AS changed_at
    FROM (
        SELECT c.*, v.made_at,
               greatest(v.made_at + interval '1 day', ($1::date - 365)::timestamptz) AS change_from,
               least(coalesce(m.closed_on, $1::date)::timestamptz + interval '17 hours', now())
                   AS change_until,
               random() AS r_changed, random() AS r_kind, random() AS r_old, random() AS r_when
        FROM seed_mother m JOIN child c ON c.mother_id = m.id,
        LATERAL (
            SELECT (m.supported_from + floor(random() * least(30, m.past_span))::int)::timestamptz
                       + (9 * 60 + floor(random() * 480)) * interval '1 minute' AS made_at
        ) AS v
    ) AS w
) AS d,
(SELECT array_agg(code ORDER BY code) AS legal FROM legal_status) AS l;
INSERT INTO child_history (id, child_id, changed_at, changed_by_client_id, changed_by_name,
                           changed_by_role, source, request_id, local_authority_code,
                           placement_confidential, changes)
SELECT gen_random_uuid(), h.*
FROM (
    SELECT c.id, least(c.made_at, now()) AS changed_at, NULL::uuid, 'Seeded',
           'prison_social_worker', 'prison_side', NULL, c.local_authority_code,
           c.placement_confidential,
           (SELECT json_agg(json_build_object('field', f, 'old', NULL, 'new', v) ORDER BY k)
            FROM (VALUES (1, 'first_name', to_json(c.first_name)),
                         (2, 'last_name', to_json(c.last_name)),
                         (3, 'date_of_birth', to_json(c.date_of_birth)),
                         (4, 'sex', to_json(c.sex)),
                         (5, 'local_authority_code', to_json(c.local_authority_code)),
                         (6, 'legal_status', to_json(coalesce(c.old_legal, c.legal_status))),
                         (7, 'placement_type', to_json(c.placement_type)),
                         (8, 'lives_with', to_json(coalesce(c.old_lives, c.lives_with))),
                         (9, 'placement_confidential', to_json(c.placement_confidential)),
                         (10, 'social_worker.name', to_json(c.social_worker_name)),
                         (11, 'social_worker.email', to_json(c.social_worker_email)),
                         (12, 'contact_arrangement', to_json(c.contact_arrangement))
                 ) AS x(k, f, v)
            WHERE v IS NOT NULL)
    FROM seed_child c
    UNION ALL
    SELECT c.id, c.changed_at, NULL::uuid, 'Seeded', 'la_practitioner', 'local_authority', NULL,
           c.local_authority_code, c.placement_confidential,
           (SELECT json_agg(json_build_object('field', f, 'old', o, 'new', n) ORDER BY k)
            FROM (VALUES (1, 'legal_status', to_json(c.old_legal), to_json(c.legal_status)),
                         (2, 'lives_with', to_json(c.old_lives), to_json(c.lives_with))
                 ) AS x(k, f, o, n)
            WHERE o IS NOT NULL)
    FROM seed_child c WHERE c.changed_at IS NOT NULL
) AS h
ORDER BY h.changed_at
""",
        ),
        (
            "court_hearing",
            f"""
WITH hearing AS (
    INSERT INTO court_hearing (id, created_at, updated_at, version, mother_id, court_name,
                               hearing_type, starts_at, notified_at, attendance_mode,
                               social_worker_attends, outcome_recorded_at, attended,
                               attended_how, barrier, order_made, status)
    SELECT h.id, {_STAMP}, h.mother_id,
           {_pick(["Bristol Civil and Family Justice Centre", "Gloucester Family Court", "Guildford Family Court", "East London Family Court"], "h.r_court")},
           {_pick(["interim_care_order", "case_management", "further_case_management", "fact_finding", "issues_resolution", "final", "placement_order", "s34_contact", "other"], "h.r_type")},
           h.starts_at, h.starts_at - (1 + floor(h.r_notice * 30)::int) * interval '1 day',
           CASE WHEN h.r_mode < 0.9
                THEN {_pick(["in_person_with_escort", "prison_video_link", "remote_platform", "not_attending"], "h.r_mode / 0.9")}
           END,
           h.r_sw < 0.7,
           CASE WHEN (h.has_outcome AND h.starts_at < now()) THEN h.starts_at + interval '1 day' END,
           CASE WHEN (h.has_outcome AND h.starts_at < now()) THEN h.r_attended < 0.75 END,
           CASE WHEN (h.has_outcome AND h.starts_at < now()) AND h.r_attended < 0.75
                THEN {_pick(["in_person_with_escort", "prison_video_link", "remote_platform"], "h.r_attended / 0.75")}
           END,
           CASE WHEN (h.has_outcome AND h.starts_at < now()) AND h.r_attended >= 0.75
                THEN {_pick(["late_notice", "platform_incompatible", "no_video_link_slot", "no_escort_or_transport", "mother_declined", "unwell", "other"], "(h.r_attended - 0.75) / 0.25")}
           END,
           CASE WHEN (h.has_outcome AND h.starts_at < now()) AND h.r_order < 0.6
                THEN {_pick(["care_order", "interim_care_order", "supervision_order", "placement_order", "child_arrangements_order", "special_guardianship_order", "s34_contact_order", "refusal_of_contact", "no_order", "other"], "h.r_order / 0.6")}
           END,
           'scheduled'
    FROM (
        SELECT gen_random_uuid() AS id, m.id AS mother_id,
               (m.supported_from + floor(random() * m.span)::int)::timestamp
                   + (9 * 60 + floor(random() * 14) * 30) * interval '1 minute' AS starts_at,
               random() AS r_court, random() AS r_type, random() AS r_notice,
               random() AS r_mode, random() AS r_sw, random() AS r_attended,
               random() AS r_order, random() < 0.85 AS has_outcome
        FROM seed_mother m, generate_series(1, m.hearings) AS g
    ) AS h
    ORDER BY h.starts_at
    RETURNING id, mother_id
)
INSERT INTO court_hearing_child (court_hearing_id, child_id)
SELECT hearing.id, m.child_ids[1 + floor(random() * cardinality(m.child_ids))::int]
FROM hearing JOIN seed_mother m ON m.id = hearing.mother_id
""",
        ),
        (
            "meeting",
            f"""
WITH meeting AS (
    INSERT INTO meeting (id, created_at, updated_at, version, mother_id, meeting_type, starts_at,
                         notified_at, platform, prison_can_join, invited, attended, barrier,
                         status)
    SELECT d.id, {_STAMP}, d.mother_id,
           {_pick(["child_protection_conference", "core_group", "looked_after_child_review", "pre_proceedings_meeting", "strategy", "professionals_meeting", "other"], "d.r_type")},
           d.starts_at, d.starts_at - (1 + floor(d.r_notice * 21)::int) * interval '1 day',
           d.platform,
           d.platform IN ('cloud_video_platform', 'prison_video_link', 'phone', 'in_person'),
           d.r_invited < 0.85,
           CASE WHEN d.starts_at < now() AND d.r_outcome < 0.8 THEN d.r_attended < 0.7 END,
           CASE WHEN d.starts_at < now() AND d.r_outcome < 0.8 AND d.r_attended >= 0.7
                THEN {_pick(["platform_incompatible", "late_notice", "no_video_link_slot", "mother_declined", "unwell", "not_invited", "other"], "(d.r_attended - 0.7) / 0.3")}
           END,
           'scheduled'
    FROM (
        SELECT gen_random_uuid() AS id, m.id AS mother_id,
               (m.supported_from + floor(random() * m.span)::int)::timestamp
                   + (9 * 60 + floor(random() * 14) * 30) * interval '1 minute' AS starts_at,
               {_pick(["microsoft_teams", "zoom", "cloud_video_platform", "prison_video_link", "phone", "in_person"], "random()")} AS platform,
               random() AS r_type, random() AS r_notice, random() AS r_invited,
               random() AS r_outcome, random() AS r_attended
        FROM seed_mother m, generate_series(1, m.meetings) AS g
    ) AS d
    ORDER BY d.starts_at
    RETURNING id, mother_id
)
INSERT INTO meeting_child (meeting_id, child_id)
SELECT meeting.id, m.child_ids[1 + floor(random() * cardinality(m.child_ids))::int]
FROM meeting JOIN seed_mother m ON m.id = meeting.mother_id
""",
        ),
        (
            "seed_visit",
            f"""
CREATE TEMP TABLE seed_visit ON COMMIT DROP AS
SELECT v.*, string_to_array(v.steps_text, ',') AS steps,
       split_part(v.steps_text, ',', -1) AS status
FROM (
    SELECT d.*,
           -- what is still ahead cannot have been held or refused yet
           CASE WHEN d.scheduled_at >= now()
                THEN {_pick(["requested", "requested,approved", "requested,approved,scheduled", "requested,approved,cancelled"], "d.r_path")}
                ELSE {_pick(["requested,approved,scheduled,held"] * 6 + ["requested,approved,scheduled,cancelled", "requested,approved,scheduled,cancelled", "requested,approved,cancelled", "requested,refused"], "d.r_path")}
           END AS steps_text
    FROM (
        SELECT gen_random_uuid() AS id, m.id AS mother_id,
               m.child_ids[1 + floor(random() * cardinality(m.child_ids))::int] AS child_id,
               (m.supported_from + floor(random() * m.span)::int)::timestamp
                   + (10 + 4 * floor(random() * 2)) * interval '1 hour' AS scheduled_at,
               random() AS r_path, random() AS r_type, random() AS r_outcome,
               CASE WHEN random() < 0.875 THEN {_pick(REASON_CODES, "random()")} END AS reason_code
        FROM seed_mother m, generate_series(1, m.visits) AS g
    ) AS d
) AS v
""",
        ),
        (
            "contact_visit",
            f"""
INSERT INTO contact_visit (id, created_at, updated_at, version, mother_id, visit_type,
                           scheduled_at, status, status_reason, outcome{visit_code[0]})
SELECT v.id, {_STAMP}, v.mother_id,
       {_pick(["in_person_social_visit", "in_person_social_visit", "family_day", "video_call", "phone_call", "letter_or_card"], "v.r_type")},
       CASE WHEN v.status <> 'requested' THEN v.scheduled_at END, v.status,
       CASE v.status WHEN 'cancelled' THEN 'The carer could not get the child to the prison.'
                     WHEN 'refused' THEN 'The child''s social worker advised against it for now.'
       END,
       CASE WHEN v.status = 'held'
            THEN {_pick(["went_ahead_as_planned"] * 5 + ["child_did_not_arrive", "mother_refused", "visit_cut_short"], "v.r_outcome")}
       END{visit_code[1]}
FROM seed_visit v ORDER BY v.scheduled_at
""",
        ),
        (
            "contact_visit_child",
            """
INSERT INTO contact_visit_child (contact_visit_id, child_id, final_contact)
SELECT v.id, v.child_id, false FROM seed_visit v ORDER BY v.scheduled_at
""",
        ),
        (
            "contact_visit_status_change",
            f"""
INSERT INTO contact_visit_status_change (id, created_at, updated_at, version, contact_visit_id,
                                         mother_id, changed_at, from_status, to_status, reason,
                                         changed_by_name, changed_by_role{change_code[0]})
SELECT gen_random_uuid(), {_STAMP}, v.id, v.mother_id,
       CASE WHEN s.status = 'held' THEN v.scheduled_at + interval '2 hours'
            WHEN s.status = 'cancelled'
                THEN v.scheduled_at - (1 + floor(random() * 5)::int) * interval '1 day'
            ELSE v.scheduled_at - (cardinality(v.steps) - s.step + 1) * interval '6 days'
       END,
       CASE WHEN s.step > 1 THEN v.steps[s.step - 1] END, s.status,
       CASE s.status WHEN 'cancelled' THEN 'The carer could not get the child to the prison.'
                     WHEN 'refused' THEN 'The child''s social worker advised against it for now.'
       END,
       'Seeded', 'prison_social_worker'{change_code[1]}
FROM seed_visit v, unnest(v.steps) WITH ORDINALITY AS s(status, step)
ORDER BY 7
""",
        ),
        (
            "parenting_assessment",
            f"""
WITH assessment AS (
    INSERT INTO parenting_assessment (id, created_at, updated_at, version, mother_id,
                                      requested_by, requested_on,
                                      requesting_local_authority_code, assessor_name,
                                      assessor_organisation, model, started_on, completed_on,
                                      outcome)
    SELECT a.id, {_STAMP}, a.mother_id, CASE WHEN a.r_by < 0.7 THEN 'local_authority' ELSE 'court' END,
           a.requested_on,
           (CASE a.prison WHEN 'EWI' THEN {home["EWI"]} ELSE {home["SDI"]} END)
               [1 + floor(a.r_la * {len(AUTHORITIES["EWI"])})::int],
           'Seeded Assessor', 'Independent Social Work Ltd',
           {_pick(["pams", "pams", "parent_assess", "other"], "a.r_model")},
           CASE WHEN a.started_on <= $1::date THEN a.started_on END,
           CASE WHEN a.completed_on <= $1::date AND a.r_done < 0.85 THEN a.completed_on END,
           CASE WHEN a.completed_on <= $1::date AND a.r_done < 0.85
                THEN {_pick(["positive", "positive", "negative", "inconclusive", "withdrawn"], "a.r_outcome")}
           END
    FROM (
        SELECT d.*, d.requested_on + d.start_after AS started_on,
               d.requested_on + d.start_after + d.takes AS completed_on
        FROM (
            SELECT gen_random_uuid() AS id, m.id AS mother_id, m.prison,
                   m.supported_from + floor(random() * m.past_span)::int AS requested_on,
                   7 + floor(random() * 24)::int AS start_after,
                   30 + floor(random() * 61)::int AS takes,
                   random() AS r_by, random() AS r_la, random() AS r_model,
                   random() AS r_done, random() AS r_outcome
            FROM seed_mother m, generate_series(1, m.assessments) AS g
        ) AS d
    ) AS a
    ORDER BY a.requested_on
    RETURNING id, mother_id
)
INSERT INTO parenting_assessment_child (parenting_assessment_id, child_id)
SELECT assessment.id, m.child_ids[1 + floor(random() * cardinality(m.child_ids))::int]
FROM assessment JOIN seed_mother m ON m.id = assessment.mother_id
""",
        ),
        (
            "evidence",
            f"""
INSERT INTO evidence (id, created_at, updated_at, version, mother_id, category, title, provider,
                      started_on, completed_on, hours)
SELECT gen_random_uuid(), {_STAMP}, e.mother_id, e.category, initcap(replace(e.category, '_', ' ')),
       'Seeded Provider', e.started_on,
       CASE WHEN e.r_done < 0.7 AND e.started_on + e.takes <= $1::date
            THEN e.started_on + e.takes END,
       CASE WHEN e.r_hours < 0.8 THEN round((1 + e.r_hours * 50)::numeric, 1) END
FROM (
    SELECT m.id AS mother_id,
           {_pick(["course", "counselling", "therapy", "education", "training", "qualification", "employment", "substance_misuse_programme", "parenting_programme", "behaviour", "other"], "random()")} AS category,
           m.supported_from + floor(random() * m.past_span)::int AS started_on,
           1 + floor(random() * 120)::int AS takes, random() AS r_done, random() AS r_hours
    FROM seed_mother m, generate_series(1, m.evidence) AS g
) AS e
ORDER BY e.started_on
""",
        ),
        (
            "release_plan",
            f"""
CREATE TEMP TABLE seed_plan ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, m.id AS mother_id, m.prison, m.closed_on, m.supported_from,
       m.earliest_release_date, random() AS r_date, random() AS r_la, random() AS r_home,
       random() AS r_ready, floor(random() * 5)::int AS actions
FROM seed_mother m WHERE m.has_plan;
INSERT INTO release_plan (id, created_at, updated_at, version, mother_id, expected_release_date,
                          release_local_authority_code, accommodation_status, probation_name)
SELECT p.id, {_STAMP}, p.mother_id,
       CASE WHEN p.r_date < 0.75 THEN p.earliest_release_date - floor(p.r_date * 40)::int END,
       (CASE p.prison WHEN 'EWI' THEN {home["EWI"]} ELSE {home["SDI"]} END)
           [1 + floor(p.r_la * {len(AUTHORITIES["EWI"])})::int],
       {_pick(["settled", "settled", "approved_premises", "temporary", "no_fixed_abode", "unknown"], "p.r_home")},
       'Seeded Probation Officer'
FROM seed_plan p;
INSERT INTO release_plan_pathway (release_plan_id, pathway, status)
SELECT p.id, pathway,
       CASE WHEN p.r_ready < 0.35 THEN (ARRAY['complete', 'not_needed'])[1 + floor(random() * 2)::int]
            ELSE {_pick(["not_started", "in_progress", "complete", "complete", "not_needed"], "random()")}
       END
FROM seed_plan p,
     unnest(ARRAY['accommodation', 'attitudes_thinking_behaviour', 'children_families_community',
                  'drugs_alcohol', 'education_skills_work', 'finance_id', 'health']) AS pathway;
INSERT INTO release_plan_action (id, release_plan_id, description, owner, due_on, done_on)
SELECT gen_random_uuid(), p.id, 'Seeded action ' || g, 'Seeded Owner', a.due_on,
       CASE WHEN a.r_done < 0.6 AND a.due_on <= $1::date THEN a.due_on - floor(a.r_done * 10)::int END
FROM seed_plan p, generate_series(1, p.actions) AS g
CROSS JOIN LATERAL (
    SELECT coalesce(p.earliest_release_date, $1::date) - floor(random() * 90)::int + g * 0 AS due_on,
           random() AS r_done
) AS a
""",
        ),
        (
            "release_plan_history",
            f"""
CREATE TEMP TABLE seed_plan_change ON COMMIT DROP AS
SELECT w.*,
       CASE WHEN NOT w.short_of_complete AND w.made_at + interval '1 day' < w.until
            THEN w.made_at + interval '1 day' + w.r_when * (w.until - w.made_at - interval '1 day')
       END AS completed_at,
       CASE WHEN w.short_of_complete AND w.r_changed < {PLANS_CHANGED_A_YEAR}
                 AND greatest(w.made_at, w.year_ago) + interval '1 day' < w.until
            THEN greatest(w.made_at, w.year_ago) + interval '1 day'
                 + w.r_when * (w.until - greatest(w.made_at, w.year_ago) - interval '1 day')
       END AS changed_at
FROM (
    SELECT p.id, rp.expected_release_date, rp.release_local_authority_code,
           rp.accommodation_status, rp.probation_name, s.short_of_complete = 1 AS short_of_complete,
           CASE WHEN rp.accommodation_status = 'unknown' THEN 'temporary' ELSE 'unknown' END
               AS old_accommodation,
           (p.supported_from + floor(random() * greatest(0, least($1::date, p.earliest_release_date - 60) - p.supported_from))::int)::timestamptz
               + (9 * 60 + floor(random() * 480)) * interval '1 minute' AS made_at,
           least(coalesce(p.closed_on, $1::date)::timestamptz + interval '17 hours', now()) AS until,
           ($1::date - 365)::timestamptz AS year_ago,
           random() AS r_when, random() AS r_changed
    FROM seed_plan p JOIN release_plan rp ON rp.id = p.id
    JOIN ({_plan_short_of_complete()}) AS s ON s.id = p.id
) AS w;
INSERT INTO release_plan_history (id, release_plan_id, changed_at, changed_by_client_id,
                                  changed_by_name, changed_by_role, request_id, changes)
SELECT gen_random_uuid(), h.*
FROM (
    SELECT c.id, least(c.made_at, now()) AS changed_at, NULL::uuid, 'Seeded',
           'prison_social_worker', NULL,
           (SELECT json_agg(json_build_object('field', f, 'old', NULL, 'new', v) ORDER BY k)
            FROM (VALUES (1, 'expected_release_date', to_json(c.expected_release_date)),
                         (2, 'release_local_authority_code', to_json(c.release_local_authority_code)),
                         (3, 'accommodation_status', to_json(CASE WHEN c.changed_at IS NOT NULL THEN c.old_accommodation ELSE c.accommodation_status END)),
                         (4, 'probation_contact.name', to_json(c.probation_name)),
                         (5, 'complete', to_json(c.completed_at IS NULL AND NOT c.short_of_complete))
                 ) AS x(k, f, v)
            WHERE v IS NOT NULL)
    FROM seed_plan_change c
    UNION ALL
    SELECT c.id, c.completed_at, NULL::uuid, 'Seeded', 'prison_social_worker', NULL,
           json_build_array(json_build_object('field', 'complete', 'old', false, 'new', true))
    FROM seed_plan_change c WHERE c.completed_at IS NOT NULL
    UNION ALL
    SELECT c.id, c.changed_at, NULL::uuid, 'Seeded', 'prison_social_worker', NULL,
           json_build_array(json_build_object('field', 'accommodation_status',
                                              'old', c.old_accommodation,
                                              'new', c.accommodation_status))
    FROM seed_plan_change c WHERE c.changed_at IS NOT NULL
) AS h
ORDER BY h.changed_at
""",
        ),
    ]


def _plan_short_of_complete() -> str:
    """SQL: each release plan's id and whether it falls short of complete (1) or not (0) now,
    by the application's own rule (`release.due.plan_gaps`)."""
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql

    from tac_api.release.due import plan_gaps
    from tac_api.release.models import ReleasePlan
    from tac_api.reports.periods import flag

    _, _, incomplete = plan_gaps()
    statement = select(ReleasePlan.id.label("id"), flag(incomplete).label("short_of_complete"))
    compiled = statement.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled).replace(";", "")


TABLES = [
    "mother",
    "prison_stay",
    "child",
    "court_hearing",
    "court_hearing_child",
    "meeting",
    "meeting_child",
    "contact_visit",
    "contact_visit_child",
    "contact_visit_status_change",
    "parenting_assessment",
    "parenting_assessment_child",
    "evidence",
    "release_plan",
    "release_plan_pathway",
    "release_plan_action",
    "child_history",
    "release_plan_history",
]
OPTIONAL_COLUMNS = [
    ("mother", "supported_from"),
    ("contact_visit", "status_reason_code"),
    ("contact_visit_status_change", "reason_code"),
]


async def _optional_columns(connection: asyncpg.Connection) -> set[str]:
    rows = await connection.fetch(
        "SELECT table_name || '.' || column_name AS name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    present = {row["name"] for row in rows}
    return {f"{t}.{c}" for t, c in OPTIONAL_COLUMNS if f"{t}.{c}" in present}


async def seed_report_data(
    connect: dict[str, Any],
    mothers: int,
    *,
    seed: int = 2026,
    today: date | None = None,
    foreign_key_checks: bool = False,
    verbose: bool = False,
) -> SeedResult:
    """Grow the database to `mothers` mothers in all, with their records; then ANALYZE.

    `connect`: asyncpg.connect's arguments. `foreign_key_checks`: keep the FK triggers on (slower;
    a check of the seeder itself)."""
    today = today or date.today()
    started = time.perf_counter()
    connection = await asyncpg.connect(**connect, timeout=10)
    try:
        existing = await connection.fetchval("SELECT count(*) FROM mother")
        added = max(0, mothers - existing)
        optional = await _optional_columns(connection)
        if added:
            async with connection.transaction():
                await connection.execute(
                    "SET LOCAL synchronous_commit = off; SET LOCAL TimeZone = 'UTC';"
                    "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL work_mem = '64MB'"
                )
                if not foreign_key_checks:
                    await connection.execute("SET LOCAL session_replication_role = replica")
                # Repeatable draws for a given seed and starting size.
                await connection.execute(
                    "SELECT setseed($1)", ((seed * 7919 + existing) % 2_000_000) / 1_000_000 - 1
                )
                await connection.execute(_MOTHERS, existing, today, added)
                await connection.execute("ANALYZE seed_mother")
                for table, statement in _statements(optional):
                    step = time.perf_counter()
                    if ";" in statement.strip().rstrip(";"):
                        await _execute_script(connection, statement, today)
                    else:
                        await connection.execute(
                            statement, *((today,) if "$1" in statement else ())
                        )
                    if verbose:
                        print(f"    {table}: {time.perf_counter() - step:.1f} s", flush=True)
            await connection.execute("ANALYZE")
        rows = {}
        for table in TABLES:
            rows[table] = await connection.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await connection.close()
    return SeedResult(existing + added, added, rows, time.perf_counter() - started)


async def _execute_script(connection: asyncpg.Connection, script: str, today: date) -> None:
    """Statements separated by `;` at a line's end, each with $1 = today where it uses it."""
    for statement in script.split(";\n"):
        if statement.strip():
            args = (today,) if "$1" in statement else ()
            await connection.execute(statement, *args)
