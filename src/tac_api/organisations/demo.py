"""Demo services in the community: the sister services named in the evaluations and a few of
the kinds a release plan refers on to. Every contact detail is invented (example.org addresses,
telephone numbers from Ofcom's range for drama, 01632 960). Fixed ids, so that a second seed's
demo names the same entries rather than making them again; no random numbers drawn."""

import uuid
from datetime import timedelta

from tac_api.demo_world import DemoRows, DemoWorld
from tac_api.organisations.models import Organisation

NAMESPACE = uuid.UUID("5b0c1f7e-3f8a-4d55-9a3e-0f6d2c1b7a10")
# (name, service type, area, local authority, web address's name)
SERVICES = [
    ("Pause Bristol", "birth_mothers", "Bristol", "801", "pause-bristol"),
    ("Step Together", "birth_mothers", "Sefton", "343", "step-together"),
    ("Believe (Motherwell Cheshire)", "birth_mothers", "Cheshire", None, "believe-cheshire"),
    ("Mum's Supportive", "birth_mothers", "Southwark", "210", "mums-supportive"),
    ("Nelson Trust Women's Centre", "womens_centre", "Gloucester", None, "nelson-womens-centre"),
    ("Síona Domestic Abuse Service", "domestic_abuse", "Surrey", "936", "siona-da"),
    ("Harbour Housing First", "housing", "South Gloucestershire", "803", "harbour-housing"),
    ("Clearwater Recovery", "substance_misuse", "Bristol", "801", "clearwater-recovery"),
    ("Open Door Wellbeing", "mental_health", "South West England", None, "open-door-wellbeing"),
    ("Second Chapter Employment", "employment", "Surrey", "936", "second-chapter"),
]
# Closed a year before the demo's day: kept, as past referrals name it.
CLOSED = "Harbour Housing First"


def organisation_id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


def demo_rows(world: DemoWorld) -> DemoRows:
    rows = [
        {
            "id": organisation_id(name),
            "name": name,
            "service_type": service_type,
            "area": area,
            "local_authority_code": authority,
            "email": f"referrals@{site}.example.org",
            "phone": f"01632 960 {n:03d}",
            "website": f"https://{site}.example.org",
            "closed_on": world.today - timedelta(days=365) if name == CLOSED else None,
            **world.stamp,
        }
        for n, (name, service_type, area, authority, site) in enumerate(SERVICES)
    ]
    return [(Organisation, rows)]
