"""How often each thing happens on the demo line: who answers, what callers ask, when they
ring, how long they talk, and the fake people and notes. Weights are keyed by code; a code not
named here (another helpline's lists) gets ``DEFAULT_WEIGHT``."""

from __future__ import annotations

from datetime import timedelta

# Who answers the phone: (username, display name, share of the calls).
DEMO_WORKERS = (
    ("demo-1", "Priya Shah", 30), ("demo-2", "Tom Hughes", 25), ("demo-3", "Grace Okafor", 18),
    ("demo-4", "Dylan Evans", 12), ("demo-5", "Hannah Kowalski", 9), ("demo-6", "Sam Taylor", 6),
)

DEFAULT_WEIGHT = 1.0
NON_DATA_SHARE = 0.08
CONSENT_SHARE = 0.6
NOTES_SHARE = 0.7  # of the calls with consent
SAFEGUARDING_SHARE = 0.03
ESCALATED_SHARE = 0.4  # of the safeguarding calls
FOLLOW_UP_SHARE = 0.10
OUT_OF_HOURS_SHARE = 0.05
UNKNOWN_AUTHORITY_SHARE = 0.1
# The calls of the known authorities follow their residents (resources/authority_population.csv).
AUTHORITY_POPULATION_FILE = "authority_population.csv"
# Some callers ring again: this share of the calls whose caller agreed to their details being
# kept are by the caller of one of the last REPEAT_WINDOW such calls (a few days of calls on a
# 100,000-call year); they give the same name, phone, email, postcode and authority, say they
# have called before, and heard of the line by having called it.
REPEAT_CALLER_SHARE = 0.25
REPEAT_WINDOW = 2000
FIRST_TIME_AGAIN, HEARD_AGAIN = "no", "returning"
SUBTOPIC_SHARE = 0.8  # a topic pick names a subtopic rather than its top-level topic

CALLER_TYPE_WEIGHTS = {
    "grandparent": 46, "aunt-uncle": 13, "sibling": 6, "other-relative": 4, "family-friend": 4,
    "prospective-carer": 7, "parent": 3, "young-person": 1, "professional-social-care": 7,
    "professional-education": 4, "professional-health": 1, "professional-other": 2, "other": 2,
}
ARRANGEMENT_WEIGHTS = {
    "sgo": 32, "informal": 20, "kinship-foster": 16, "cao": 12, "in-proceedings": 8,
    "unknown": 7, "adoption": 3, "private-fostering": 2,
}
TOP_TOPIC_WEIGHTS = {
    "financial": 30, "education": 22, "legal": 22, "family": 16, "local-authority": 6,
    "practical": 3, "other": 1,
}
TOPIC_COUNT_WEIGHTS = {1: 60, 2: 30, 3: 10}
ESCALATED = "safeguarding-escalated"
OUTCOME_WEIGHTS = {
    "advice": 40, "information": 30, "signposted": 14, "referred": 9, "callback-arranged": 7,
    ESCALATED: 0,  # only on safeguarding calls, added separately
}
OUTCOME_COUNT_WEIGHTS = {1: 70, 2: 30}
REFERRAL_WEIGHTS = {
    "virtual-school": 20, "local-authority": 20, "solicitor": 18, "citizens-advice": 14,
    "family-rights-group": 12, "peer-support": 12, "other": 4,
}
NON_DATA_WEIGHTS = {"hang-up": 40, "silent": 30, "wrong-number": 20, "abusive": 5, "test": 5}
PHONE, INBOUND = "phone", "inbound"
CHANNEL_WEIGHTS = {PHONE: 90, "webchat": 5, "email": 5, "voicemail-callback": 0}
PHONE_DIRECTION_WEIGHTS = {INBOUND: 95, "outbound-callback": 5}
OUT_OF_HOURS_CHANNEL, OUT_OF_HOURS_DIRECTION = "voicemail-callback", "outbound-callback"
FIRST_TIME_WEIGHTS = {"yes": 55, "no": 30, "unknown": 15}
HOW_HEARD_WEIGHTS = {
    None: 30, "website": 20, "local-authority": 12, "word-of-mouth": 12, "school": 7,
    "social-media": 6, "returning": 6, "charity": 3, "solicitor": 2, "health": 1, "other": 1,
}
CHILDREN_COUNT_WEIGHTS = {None: 8, 1: 52, 2: 25, 3: 10, 4: 3, 5: 2}
BANDS_UNKNOWN_SHARE = 0.15  # the worker noted how many children, but not their ages
AGE_BAND_WEIGHTS = {"0-4": 20, "5-10": 34, "11-15": 30, "16-17": 11, "18+": 5}
FOLLOW_UP_DAYS = {1: 30, 2: 20, 3: 15, 5: 15, 7: 15, 14: 5}
WEEKDAY_FACTORS = (1.2, 1.05, 1.0, 0.95, 0.8, 0.5, 0.5)
MONTH_FACTORS = {1: 1.1, 8: 0.75, 9: 1.15, 12: 0.8}

# The working day in 15-minute slots from 08:30 to 16:30, and how busy each is. The peak is
# 10:00-11:00 with a lull at lunch; calls outside hours are callbacks of voicemails left.
SLOT = timedelta(minutes=15)
FIRST_SLOT = timedelta(hours=8, minutes=30)
SLOT_WEIGHTS = (2, 1, 2, 4,  # 08:30-09:30
                6, 9, 10, 10, 9, 8, 7, 6, 5, 5, 5, 4, 4, 4, 3, 3, 2, 2,  # 09:30-14:00
                6, 5, 4, 3, 2, 2, 1, 1)  # 14:00-16:30
SLOT_SECONDS = int(SLOT.total_seconds())

# Call length: a log-normal with a median of 12 minutes and a long tail, as 1000 quantiles.
MEDIAN_DURATION_S, DURATION_SPREAD = 12 * 60, 0.6
MIN_DURATION_S, MAX_DURATION_S = 60, 3 * 3600

WEIGHT_TABLE_SIZE = 10_000  # a weight is kept to 1/10,000 of the total
# Authorities range from 2,000 residents (the Isles of Scilly) to 1.6 million (Kent): their
# table is finer, so the smallest keeps its share to within a few per cent.
AUTHORITY_TABLE_SIZE = 1_000_000

FIRST_NAMES = (
    "Margaret", "Susan", "Linda", "Patricia", "Janet", "Carol", "Christine", "Elaine", "Maureen",
    "Pauline", "Gillian", "Ann", "Karen", "Julie", "Sharon", "Denise", "Michelle", "Sarah",
    "Emma", "Aisha", "Fatima", "Bronwen", "Siobhan", "John", "David", "Peter", "Michael",
    "Robert", "Alan", "Keith", "Brian", "Gareth", "Paul", "Mark", "Imran", "Tariq", "Winston",
    "Kwame", "Rhys", "Daniel",
)
SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Khan",
    "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Begum", "Ahmed", "Kaur",
    "Murphy", "Kelly", "Campbell",
)
POSTCODE_AREAS = (
    "LS6", "LS11", "M14", "M40", "B15", "B23", "NE4", "NE23", "BS3", "BS16", "CF10", "CF5",
    "SA1", "LL11", "SW9", "SE15", "E8", "N17", "NG7", "LE4", "S6", "L4", "HU5", "PL2", "EX4",
    "NR3", "CB1", "OX4", "ME7", "BN2", "TS3", "DN5", "ST4", "WV10", "PO4", "SO16",
)
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters a postcode's last part may use
NOTES = (
    "Asked about the SGO allowance review; explained the means test.",
    "Struggling with school admissions, sent the Virtual School leaflet.",
    "Wants to know what a support plan should cover.",
    "Child's behaviour at home is getting harder; talked through support options.",
    "Contact with the birth mother is causing upset; discussed how to manage it.",
    "Applying for Guardian's Allowance; went through eligibility.",
    "LA assessment delayed for months; explained the complaints route.",
    "Carer is exhausted, looked at respite and peer support groups.",
    "Court hearing next week; explained the difference between SGO and CAO.",
    "Asked whether they can get legal aid for the SGO application.",
    "Pupil Premium Plus not being claimed by the school.",
    "Worried about money since giving up work to care for the grandchildren.",
)
FOLLOW_UP_NOTES = (
    "Ring back after the LA replies.", "Send the allowances factsheet.",
    "Check on the outcome of the school meeting.", "Call back after the court hearing.",
)

