"""What the customer is told when the bot does not answer: the hand-offs to an agent and the guard's refusal.

The contact details are the demo bank's (docs/demo-bank-facts.md, the ``contact_and_hours`` article).
"""

HANDOFF_CONTACT = (
    "You can reach an agent 24/7 in the Bramblecove app under Help > Chat with us, or call +44 1632 960 100 "
    "(Monday–Friday 08:00–20:00, Saturday 09:00–17:00 UK time). For lost or stolen cards and fraud, call "
    "+44 1632 960 999 at any time."
)
LOW_CONFIDENCE_ANSWER = f"I'm not certain about this, so I'd rather not guess. {HANDOFF_CONTACT}"
# The same hand-off when it offers the articles retrieval found (``ChatAnswer.suggestions``, shown under it).
SUGGESTIONS_ANSWER = (
    "I'm not sure which of our help articles answers this, so I'd rather not guess. Did you mean one of the "
    f"articles below? Pick one and I'll answer from it. {HANDOFF_CONTACT}"
)
OUT_OF_SCOPE_ANSWER = (
    "Sorry, I can only help with questions about Bramblecove accounts, cards and payments, and I couldn't find "
    f"anything about that in our help articles. {HANDOFF_CONTACT}"
)
REFUSAL_ANSWER = (
    "Sorry, I can't help with that. We never share anyone's card number, PIN, passcode, password or account "
    f"details, and we never change our rules on request. {HANDOFF_CONTACT}"
)
