"""The words sample data is made of: one set, for `parlour demo` and for `parlour seed`.

The demo's cast heads the name lists, so a seeded inbox holds the demo's people among
thousands of others; bench/run.py types its search fragments ("martin", "olafsd",
"chloe", ...) against these names. Messages that answer each other are kept in pairs: the
demo replays a pair as it is, the seed draws either side of it at random.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from parlour.contacts.normalize import fold


class Person(NamedTuple):
    first: str
    last: str
    company: str = ""

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


# In the order `parlour demo` creates them: tests/web/ and docs/screenshots know them by
# name, and by place (their phone number, email address and kind of thread follow from it).
CAST = (
    Person("Zoë", "Ólafsdóttir", "Reykjavik Roasters"),
    Person("José", "Álvarez", "Álvarez & Hijos"),
    Person("Björn", "Lindqvist"),
    Person("Amélie", "Dubois", "Café Lumière"),
    Person("Kenji", "Watanabe"),
    Person("Priya", "Raman", "Raman Foods"),
    Person("Liam", "O'Connor"),
    Person("Chiara", "Bianchi", "Bianchi Bakery"),
    Person("Noah", "Williams"),
    Person("Fatima", "Haddad", "Haddad Imports"),
    Person("Mateo", "Rossi"),
    Person("Sofia", "Kowalska", "Kowalska Design"),
    Person("Ethan", "Brown"),
    Person("Aisha", "Bello"),
    Person("Lucas", "Martin", "Martin Bikes"),
    Person("Hannah", "Schmidt"),
    Person("Omar", "Farouk"),
    Person("Emma", "Johansson", "Nordic Tea Co."),
    Person("Diego", "Fernández"),
    Person("Mia", "Novak"),
    Person("Ravi", "Shankar", "Shankar Spices"),
    Person("Olivia", "Smith"),
    Person("Yuki", "Tanaka"),
    Person("Grace", "Kim", "Kim & Park"),
    Person("Jonas", "Weber"),
    Person("Léa", "Moreau"),
    Person("Samuel", "Okafor", "Okafor Logistics"),
    Person("Isabella", "Costa"),
    Person("Felix", "Bauer"),
    Person("Nora", "Andersen"),
    Person("Arjun", "Mehta", "Mehta Studio"),
    Person("Chloé", "Laurent"),
    Person("Tomás", "Silva"),
    Person("Elena", "Petrova", "Petrova Gallery"),
    Person("Adam", "Nowak"),
    Person("Ingrid", "Berg"),
)
FIRST_NAMES = (*(p.first for p in CAST),
    "Søren", "Małgorzata", "Renée", "Zoltán", "Ayşe", "Thanh", "François", "Inés", "Jürgen",
    "Ana", "Wei", "Olga", "Kwame", "Sven", "María", "Joël", "Anaïs", "Ciarán", "Dagný",
    "Nguyễn", "Raúl", "Andrés", "Mónica", "Pål", "Ümit", "Hélène", "James", "Mary", "Robert",
    "Patricia", "Michael", "Jennifer", "David", "Linda", "William", "Elizabeth", "Daniel",
    "Susan", "Matthew", "Jessica", "Anthony", "Sarah", "Mark", "Karen", "Steven", "Nancy",
    "Paul", "Lisa", "Andrew", "Betty",
)  # fmt: skip
LAST_NAMES = (*(p.last for p in CAST),
    "Müller", "Gonçalves", "Øvrebø", "Núñez", "Żukowski", "Dvořák", "Šimić", "Öztürk",
    "Lefèvre", "Brontë", "García", "Hernández", "López", "González", "Pérez", "Sánchez",
    "Ramírez", "Jiménez", "Johnson", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris", "Thompson", "Clark", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Nguyen", "Hill",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Campbell",
)  # fmt: skip
COMPANIES = (*(p.company for p in CAST if p.company),
    "Bäckerei Müller", "Crème de la Crème", "Acme Plumbing", "Blue Fern Florist",
    "Golden Gate Dental", "Mission Yoga", "Harbor Freight Lines", "Sunset Realty",
    "Pacific Vet Clinic", "Oakland Auto Body", "Bay Area Movers", "Ñandú Tours",
    "Fjörð Outdoor", "Zürich Watches",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "fastmail.com")

_NOT_HANDLE = re.compile(r"[^a-z0-9]+")


def handle(word: str) -> str:
    """``word`` as it goes into an email address: 'Zoë' -> 'zoe', "O'Connor" -> 'oconnor'."""
    return _NOT_HANDLE.sub("", fold(word))


class Exchange(NamedTuple):
    """What a contact writes (mostly a question), and our answer."""

    ask: str
    answer: str


SMS_EXCHANGES = (
    Exchange(
        "Do you have the Ethiopian beans in stock this week?",
        "Yes, we have them! Want me to set a bag aside for you?",
    ),
    Exchange(
        "Can I move my delivery to Friday?",
        "Done, your delivery is now on Friday between 9 and 11.",
    ),
    Exchange("What time do you open on Sundays?", "We open at 8am on Sundays. See you then!"),
    Exchange(
        "Is the espresso machine repair done yet?", "It's ready for pick-up any time after 2pm."
    ),
    Exchange("Running 10 min late, sorry!", "No problem at all, thanks for letting us know."),
    Exchange(
        "Could you text me the invoice total?", "Your total is $42.50. You can pay on pick-up."
    ),
    Exchange(
        "Can you call me back when you have a minute?", "Sure, I'll call you in about 15 minutes."
    ),
    Exchange("Is parking available near the shop?", "There's free parking behind the building."),
)
SMS_IN = (
    *(e.ask for e in SMS_EXCHANGES),
    "Thanks, got it 👍",
    "Yes please",
    "Perfect, see you tomorrow.",
    "No more promos please, but keep the order updates coming 🙂",
)
SMS_OUT = tuple(e.answer for e in SMS_EXCHANGES)
# Sent as the bot by the welcome workflow and its like; the first opens a new thread.
BOT_SMS = (
    "Welcome! Reply to this number any time: a real person reads every message.",
    "Reminder: your appointment is tomorrow at 10:00. Reply C to confirm.",
    "Thanks for your message! We're closed right now and will reply first thing tomorrow.",
)
WELCOME_WORKFLOW = "Welcome SMS"
# Carrier error codes (Twilio's) and what an agent is told.
SMS_ERRORS = (
    ("30003", "The phone could not be reached (switched off or no signal)."),
    ("30005", "Unknown destination handset."),
    ("30007", "Message filtered by the carrier."),
)

CHAT_EXCHANGES = (
    Exchange(
        "Hello, I'm looking at the subscription page: can I pause it for a month?",
        "Absolutely, you can pause from your account page or I can do it for you now.",
    ),
    Exchange("Do you ship to Canada?", "We do! Shipping to Canada takes 3 to 5 business days."),
    Exchange(
        "Is there a discount for offices?",
        "Yes: 10% off for 5+ bags a month. Shall I send you the details by email?",
    ),
    Exchange(
        "My order number is 10442, where is it?",
        "It left our warehouse this morning, you'll get a tracking link shortly.",
    ),
    Exchange(
        "Can I change the grind to espresso?", "Done! The next bag will be ground for espresso."
    ),
)
CHAT_IN = (*(e.ask for e in CHAT_EXCHANGES), "ok thanks!")
CHAT_OUT = tuple(e.answer for e in CHAT_EXCHANGES)


class EmailExchange(NamedTuple):
    """A contact's first email on a subject, and our answer."""

    subject: str
    ask: str
    answer: str


EMAIL_EXCHANGES = (
    EmailExchange(
        "Wholesale order for next month",
        "Hello,\n\nWe'd like to order 20 kg of the house blend for March. Can you confirm the "
        "price and the delivery date?\n\nBest regards",
        "Thanks for your order! 20 kg of the house blend is confirmed for March 3rd. "
        "The invoice will follow.",
    ),
    EmailExchange(
        "Question about my invoice #1042",
        "Hi, the invoice shows two deliveries but I only received one. Could you check?",
        "You're right, sorry about that: a corrected invoice is attached to your account.",
    ),
)
EMAIL_SUBJECTS = (
    *(e.subject for e in EMAIL_EXCHANGES),
    "Catering for our office party",
    "Partnership enquiry",
    "Damaged package",
    "Gift cards for the team",
    "Réservation pour samedi",
)
EMAIL_IN = (
    *(e.ask for e in EMAIL_EXCHANGES),
    "Thanks for the quick answer. One more question: do you also deliver on Saturdays?",
    "Please find attached the photos of the damaged box.",
    "Great, that works for us. Talk soon!",
)
EMAIL_OUT = (
    *(e.answer for e in EMAIL_EXCHANGES),
    "Yes, Saturday deliveries are possible between 9am and noon.",
    "I'm so sorry about that. A replacement is on its way today, no charge.",
)
