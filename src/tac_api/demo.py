"""Synthetic demo data: invented people only, with the names real records must cope with
(accents, apostrophes, hyphens), several children per mother, siblings split across authorities."""

import random
import string
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments import demo as assessments_demo
from tac_api.children.models import Child
from tac_api.communications import demo as communications_demo
from tac_api.consents import demo as consents_demo
from tac_api.db import utcnow
from tac_api.demo_world import DemoWorld
from tac_api.evidence import demo as evidence_demo
from tac_api.groups import demo as groups_demo
from tac_api.hearings import demo as hearings_demo
from tac_api.meetings import demo as meetings_demo
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.organisations import demo as organisations_demo
from tac_api.organisations.models import Organisation
from tac_api.practitioners.models import Practitioner, PractitionerLink
from tac_api.referrals import demo as referrals_demo
from tac_api.release import demo as release_demo
from tac_api.release import onward_demo
from tac_api.reviews import demo as reviews_demo
from tac_api.staff import demo as staff_demo
from tac_api.support_plans import demo as support_plans_demo
from tac_api.tasks import demo as tasks_demo
from tac_api.visits import demo as visits_demo

FIRST_NAMES = [
    "Siân",
    "Zoë",
    "Chloé",
    "Niamh",
    "Aoife",
    "Saoirse",
    "Renée",
    "Anaïs",
    "Bethan",
    "Ffion",
    "Mared",
    "Eluned",
    "Agnieszka",
    "Małgorzata",
    "Şebnem",
    "Dolores",
    "Precious",
    "Kerry-Ann",
    "Jade",
    "Leanne",
    "Shannon",
    "Amira",
    "Fatimah",
    "Aaliyah",
    "Roxanne",
    "Céline",
    "Gráinne",
]
LAST_NAMES = [
    "O'Connor",
    "O'Brien",
    "D'Souza",
    "McAllister",
    "Ní Bhriain",
    "Jones-Pryce",
    "Wiśniewska",
    "Ó Súilleabháin",
    "Müller",
    "Nuñez",
    "Lefèvre",
    "ap Gwilym",
    "Owusu-Ansah",
    "Kowalczyk",
    "Smith",
    "Evans",
    "Hughes",
    "Begum",
    "Rahman",
    "Okafor",
    "St. John",
    "Fitzgerald",
    "Da Costa",
]
CHILD_FIRST_NAMES = [
    "Rhys",
    "Dylan",
    "Élodie",
    "Noémie",
    "Seán",
    "Oisín",
    "Mia",
    "Leo",
    "Ava",
    "Tomás",
    "Iolo",
    "Cerys",
    "Nia",
    "Jayden",
    "Kai",
    "Ruby",
    "Amélie",
    "Zaïd",
    "Bronwen",
    "Darragh",
    "Lily-Mae",
]
# Authorities a mother in Eastwood Park or Send is likely to come from (and some further away).
AUTHORITIES = {
    "EWI": ["803", "801", "916", "865", "933", "802", "681", "674", "670", "919", "330"],
    "SDI": ["936", "850", "886", "210", "208", "209", "318", "319", "320", "869", "826"],
}
LIVES_WITH = ["foster_carer", "kinship_carer", "father", "adopters", "residential", "mother"]
LEGAL_FOR = {
    "foster_carer": ("C2", "U3"),
    "kinship_carer": ("C1", "U1"),
    "adopters": ("E1", "A4"),
    "residential": ("C2", "R1"),
    "father": (None, None),
    "mother": (None, None),
}
CARERS = ["Morwenna Trevithick", "Aoife Ní Bhriain", "Dafydd ap Gruffudd", "Zoë Achterberg"]
STREETS = ["Quay Street", "Rue Lane", "Ffordd yr Orsaf", "St Mary's Walk"]
WORKERS = ["Gwen Llewellyn", "Tomás Ó Briain", "Margaret D'Arcy", "Hélène Adeyemi", "Owain Pugh"]
PRACTITIONER_ROLES = ["solicitor", "probation_officer", "childrens_guardian", "health_visitor"]
ORGANISATIONS = {
    "solicitor": "Bryn & Ó Dálaigh Solicitors",
    "probation_officer": "Probation Service (South West)",
    "childrens_guardian": "Cafcass",
    "health_visitor": "Community Health Trust",
}


def _prison_number(rng: random.Random) -> str:
    return (
        rng.choice(string.ascii_uppercase)
        + f"{rng.randrange(10_000):04d}"
        + "".join(rng.choices(string.ascii_uppercase, k=2))
    )


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isascii() and ch.isalpha()) or "worker"


async def load_demo_data(
    session: AsyncSession, *, mothers: int, seed: int, children_per_mother: int | None = None
) -> str:
    rng = random.Random(seed)
    today = date.today()
    now = utcnow()
    stamp: dict[str, Any] = {"created_at": now, "updated_at": now, "version": 1}
    taken = set(await session.scalars(select(Mother.prison_number)))

    practitioners = []
    for n in range(max(6, mothers // 20)):
        role = PRACTITIONER_ROLES[n % len(PRACTITIONER_ROLES)]
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        practitioners.append(
            {
                "id": uuid.uuid4(),
                "role": role,
                "name": name,
                "organisation": ORGANISATIONS[role],
                "email": f"{_slug(name)}.{n}@example.org",
                "phone": f"0117 496 {rng.randrange(10_000):04d}",
                "local_authority_code": None,
                **stamp,
            }
        )

    # The seed's first draws make its first practitioner, whatever the number of mothers: found,
    # this seed's people are already here, and loading them again would make a second of each.
    first = practitioners[0]
    already = select(Practitioner.id).where(
        Practitioner.email == first["email"], Practitioner.phone == first["phone"]
    )
    if await session.scalar(already.limit(1)) is not None:
        return f"demo data of seed {seed} is already loaded: nothing added (another seed adds more)"

    mother_rows, stay_rows, child_rows, link_rows = [], [], [], []
    for _ in range(mothers):
        number = _prison_number(rng)
        while number in taken:
            number = _prison_number(rng)
        taken.add(number)
        prison = "EWI" if rng.random() < 0.55 else "SDI"
        born = today - timedelta(days=rng.randrange(19 * 365, 45 * 365))
        received = today - timedelta(days=rng.randrange(20, 4 * 365))
        mother_id = uuid.uuid4()
        # A few cases already closed: what `tac-api retention run` counts from.
        closed_on = today - timedelta(days=rng.randrange(1, 700)) if rng.random() < 0.08 else None
        mother_rows.append(
            {
                "id": mother_id,
                "prison_number": number,
                "first_name": rng.choice(FIRST_NAMES),
                "last_name": rng.choice(LAST_NAMES),
                "date_of_birth": born,
                "prison_code": prison,
                "reception_date": received,
                "earliest_release_date": received + timedelta(days=rng.randrange(90, 6 * 365)),
                "status": "closed" if closed_on else "active",
                "closed_on": closed_on,
                # Support began some weeks after she arrived, and before any closing (not drawn
                # from rng: the demo's people stay who they were, which examples/ relies on).
                "supported_from": min(
                    received + timedelta(days=born.toordinal() % 120), closed_on or today, today
                ),
                "domestic_abuse_history": rng.choice([True, True, True, False, None]),
                "ethnicity": rng.choice(
                    [
                        "white_british",
                        "white_irish",
                        "black_african",
                        "mixed_white_and_black_caribbean",
                        "asian_bangladeshi",
                        "white_gypsy_or_irish_traveller",
                        "not_stated",
                    ]
                ),
                **stamp,
            }
        )
        stay_rows.append(
            {
                "id": uuid.uuid4(),
                "mother_id": mother_id,
                "prison_code": prison,
                "arrived_on": received,
                "left_on": None,
                **stamp,
            }
        )
        family_name = mother_rows[-1]["last_name"]
        home_authority = rng.choice(AUTHORITIES[prison])
        count = children_per_mother or rng.choice([1, 2, 2, 3, 3, 3, 4, 5])
        for c in range(count):
            # Older siblings are more often placed elsewhere than the youngest.
            separated = c > 0 and rng.random() < 0.6
            authority = rng.choice(AUTHORITIES[prison]) if separated else home_authority
            age_days = rng.randrange(60, min(17 * 365, (today - born).days - 16 * 365))
            # Only a baby can be with her, in a mother and baby unit.
            with_mother = age_days < 540 and rng.random() < 0.5
            lives_with = "mother" if with_mother else rng.choice(LIVES_WITH[:5])
            legal_status, placement = LEGAL_FOR[lives_with]
            worker = rng.choice(WORKERS)
            contact = rng.choice(["direct", "direct", "supervised", "indirect_only", "none"])
            has_carer = lives_with in ("foster_carer", "kinship_carer")
            carer = rng.choice(CARERS) if has_carer else None
            child_rows.append(
                {
                    "id": uuid.uuid4(),
                    "mother_id": mother_id,
                    "first_name": rng.choice(CHILD_FIRST_NAMES),
                    "last_name": family_name,
                    "date_of_birth": today - timedelta(days=age_days),
                    "expected_date": None,
                    "sex": rng.choice(["female", "male"]),
                    "local_authority_code": authority,
                    "legal_status": legal_status,
                    "placement_type": placement,
                    "lives_with": lives_with,
                    "placement_confidential": lives_with == "adopters" or rng.random() < 0.1,
                    "carer_name": carer,
                    "carer_phone": f"07700 900{rng.randrange(1000):03d}" if carer else None,
                    "carer_address": f"{rng.randrange(1, 90)} {rng.choice(STREETS)}"
                    if carer
                    else None,
                    "social_worker_name": worker,
                    "social_worker_email": f"{_slug(worker)}@la{authority}.example.gov.uk",
                    "social_worker_phone": f"0300 123 {rng.randrange(10_000):04d}",
                    "contact_arrangement": contact,
                    "contact_arrangement_reason": None
                    if contact == "direct"
                    else "Agreed at the last looked-after child review.",
                    **stamp,
                }
            )
        practitioner = rng.choice(practitioners)
        link_rows.append(
            {
                "id": uuid.uuid4(),
                "practitioner_id": practitioner["id"],
                "mother_id": mother_id,
                "child_id": None,
                **stamp,
            }
        )

    # Each liaison package's own records, made from the mothers and children above.
    case_rows: list[tuple[Any, list[dict[str, Any]]]] = []
    world = DemoWorld(rng, mother_rows, child_rows, today, now)
    for package in (
        assessments_demo,
        evidence_demo,
        release_demo,
        communications_demo,
        meetings_demo,
        visits_demo,
        hearings_demo,
        support_plans_demo,
        consents_demo,
        staff_demo,
        reviews_demo,  # last: the others' draws stay as they were
        referrals_demo,  # draws nothing: the others' records stay as they were
        organisations_demo,  # draws nothing
        onward_demo,  # its own random numbers: the others' records stay as they were
        groups_demo,  # its own generator: the others' draws stay as they were
        tasks_demo,  # its own generator; after groups and staff, whose rows it reads
    ):
        made = package.demo_rows(world)
        for model, rows in made:
            world.made.setdefault(model, []).extend(rows)
        case_rows += made
    # The directory of services is one (its demo entries have fixed ids): a second seed's demo
    # does not enter them again, and its onward referrals name those already there.
    known = set(await session.scalars(select(Organisation.id)))
    case_rows = [
        (model, [row for row in rows if row["id"] not in known])
        if model is Organisation
        else (model, rows)
        for model, rows in case_rows
    ]
    for model, rows in (
        (Practitioner, practitioners),
        (Mother, mother_rows),
        (PrisonStay, stay_rows),
        (Child, child_rows),
        (PractitionerLink, link_rows),
        *case_rows,
    ):
        for start in range(0, len(rows), 2_000):
            await session.execute(insert(model.__table__), rows[start : start + 2_000])
    return (
        f"loaded {len(mother_rows)} mothers, {len(child_rows)} children and "
        f"{len(practitioners)} practitioners (seed {seed})"
    )
