"""General privacy-policy knowledge for retrieval on notices the project has never seen.

Two layers, both written from general knowledge of privacy policies (the public OPP-115
category scheme and common policy wording), never fitted to any evaluation set:

* THESAURUS: concept groups. A question that names a concept ("sell", "kids", "GPS")
  gets the concept's description averaged into its query vector, so a question in a
  resident's words also points at the way policies word the same thing.
* TAXONOMY: OPP-115-style categories with a few prototype sentences each. Question and
  passages are softly classified by MiniLM similarity to the prototypes; a passage of the
  question's category gets a bonus (a question about retention wants a retention sentence,
  not a collection sentence that happens to share words).

Embeddings of the fixed texts are computed once per process: no model call per query.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

THESAURUS: list[tuple[str, str]] = [
    (
        r"\b(sell|sold|selling|share[sd]?|sharing|disclos\w*|third[- ]part\w*|partners?|"
        r"affiliates?|advertisers?|give away|pass(ed)? on)\b",
        "share, disclose or sell personal information to third parties, partners, affiliates"
        " or advertisers",
    ),
    (
        r"\b(delet\w*|eras\w*|remov\w*|get rid|forget|forgotten|close my account|deactivat\w*)\b",
        "delete your account and personal information, request deletion or erasure",
    ),
    (
        r"\b(keep|kept|retain\w*|retention|how long|store[sd]?|storing|storage)\b",
        "retain and store personal information for as long as necessary, retention period",
    ),
    (
        r"\b(location|gps|geolocation|where i am|whereabouts|track my movements?)\b",
        "collect precise location information, GPS and geolocation data from your device",
    ),
    (
        r"\b(kids?|child\w*|minors?|under 1[3-8]|teen\w*|parents?|age)\b",
        "children under 13, minors, parental consent, not directed to children",
    ),
    (
        r"\b(track\w*|cookies?|analytics|advertis\w*|ads|targeted|identifiers?|beacons?|pixels?)\b",
        "cookies, tracking technologies, analytics and advertising identifiers, targeted ads",
    ),
    (
        r"\b(contact|email|e-mail|phone|address|name|contacts|address book)\b",
        "personal information such as name, email address, phone number, postal address and"
        " contacts",
    ),
    (
        r"\b(secur\w*|safe|protect\w*|encrypt\w*|hack\w*|breach\w*|stolen)\b",
        "security measures to protect personal information, encryption, unauthorized access",
    ),
    (
        r"\b(opt[- ]?out|unsubscribe|stop|choice|choose|settings?|consent|permission|turn off|"
        r"disable)\b",
        "opt out, choices and controls, change settings, withdraw consent",
    ),
    (
        r"\b(access|see|view|copy|edit|correct|update|change my)\b",
        "access, review, correct or update your personal information",
    ),
    (
        r"\b(collect\w*|gather\w*|record\w*|information|data|know about me)\b",
        "information we collect about you and how we use it",
    ),
    (
        r"\b(camera|photos?|pictures?|microphone|audio|voice|videos?)\b",
        "access to camera, photos, microphone, audio and video on your device",
    ),
    (
        r"\b(pay\w*|credit card|bank\w*|financial|purchase\w*|billing)\b",
        "payment and financial information such as credit card details and purchase history",
    ),
    (r"\b(health|medical|fitness|heart rate|sleep|weight)\b", "health and fitness information"),
    (
        r"\b(law enforcement|police|government|court|subpoena|legal)\b",
        "disclose information to comply with law, legal process, law enforcement or government"
        " requests",
    ),
    (
        r"\b(policy change\w*|changes? to (the|this) policy|updat\w* (the|this) policy|notify|"
        r"notif\w*)\b",
        "changes to this privacy policy and how we notify you",
    ),
    (r"\b(do not track|dnt)\b", "Do Not Track browser signals"),
    (
        r"\b(countr\w*|international|transfer\w*|abroad|overseas|servers?)\b",
        "transfer and process information in other countries, international data transfers",
    ),
]
_THESAURUS_RE = [re.compile(p, re.I) for p, _ in THESAURUS]

TAXONOMY: dict[str, list[str]] = {
    "first_party_collection": [
        "what personal information do you collect about me",
        "We collect information you provide, such as your name, email address and phone number.",
        "We automatically collect device information, IP address, location and usage data when"
        " you use the service.",
        "We use your information to provide, operate and improve our services.",
        "does the app collect my location, contacts, photos or camera data",
    ],
    "third_party_sharing": [
        "do you share or sell my personal information to third parties",
        "We may share your information with service providers, partners and affiliates.",
        "We do not sell or rent your personal information to third parties.",
        "Advertisers, analytics providers and other third parties may collect information"
        " through our service.",
        "We may disclose your information to law enforcement or in connection with a merger or"
        " acquisition.",
    ],
    "user_choice_control": [
        "can I opt out of marketing emails or targeted advertising",
        "You can choose not to provide certain information or change your privacy settings.",
        "You may opt out of receiving promotional communications by following the unsubscribe"
        " link.",
        "You can disable cookies or location services in your browser or device settings.",
    ],
    "user_access_edit_deletion": [
        "how can I delete my account and my data",
        "You can access, update or correct your personal information in your account settings.",
        "You may request deletion of your account and personal data by contacting us.",
    ],
    "data_retention": [
        "how long do you keep my data",
        "We retain your personal information for as long as your account is active or as needed"
        " to provide the service.",
        "We delete or anonymise your information when it is no longer needed.",
    ],
    "data_security": [
        "is my data secure and encrypted",
        "We use reasonable technical and organisational security measures, such as encryption,"
        " to protect your information.",
        "No method of transmission over the internet is completely secure.",
    ],
    "policy_change": [
        "will you tell me if the privacy policy changes",
        "We may update this privacy policy from time to time and will notify you of material"
        " changes.",
    ],
    "do_not_track": [
        "do you respond to do not track signals",
        "Our service does not respond to Do Not Track signals from web browsers.",
    ],
    "specific_audiences": [
        "can children use the app, what about kids under 13",
        "Our service is not directed to children under 13 and we do not knowingly collect their"
        " personal information.",
        "California residents have specific rights; users in the European Union have rights"
        " under the GDPR.",
        "Your information may be transferred to and processed in other countries.",
    ],
    "cookies_tracking": [
        "do you use cookies or tracking technologies",
        "We use cookies, web beacons, pixels and similar technologies to collect information and"
        " remember your preferences.",
    ],
    "other_contact": [
        "how do I contact you about privacy",
        "If you have questions about this privacy policy, please contact us by email or post.",
        "This privacy policy applies to our website and mobile applications.",
    ],
}
TEMPERATURE = 0.05  # softmax over category similarities: cosines differ by a few hundredths


@cache
def _thesaurus_emb() -> np.ndarray:
    from knowledge.embed import encode

    return encode([text for _, text in THESAURUS])


@cache
def _prototypes() -> tuple[np.ndarray, np.ndarray]:
    """(all prototype embeddings, category index of each)."""
    from knowledge.embed import encode

    texts = [t for protos in TAXONOMY.values() for t in protos]
    cat = [k for k, protos in enumerate(TAXONOMY.values()) for _ in protos]
    return encode(texts), np.array(cat, dtype=np.int64)


def concepts(query: str) -> list[int]:
    """Thesaurus concepts the query names."""
    return [k for k, rx in enumerate(_THESAURUS_RE) if rx.search(query)]


def expand_query(query: str, qvec: np.ndarray, weight: float) -> np.ndarray:
    """qvec plus `weight` x the mean of the named concepts' descriptions, re-normalised."""
    ks = concepts(query)
    if not ks or weight <= 0:
        return qvec
    mean = _thesaurus_emb()[ks].mean(axis=0)
    v = qvec + weight * mean / (np.linalg.norm(mean) or 1.0)
    return (v / (np.linalg.norm(v) or 1.0)).astype(np.float32)


def category_profile(vecs: np.ndarray) -> np.ndarray:
    """(n, C) soft category distribution: softmax of the best prototype cosine per category."""
    emb, cat = _prototypes()
    sims = np.atleast_2d(vecs) @ emb.T
    best = np.full((sims.shape[0], len(TAXONOMY)), -1.0, dtype=np.float32)
    for k in range(len(TAXONOMY)):
        best[:, k] = sims[:, cat == k].max(axis=1)
    z = np.exp((best - best.max(axis=1, keepdims=True)) / TEMPERATURE)
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


HUB_K = 10  # CSLS neighbourhood size (Conneau et al. 2018)


@cache
def _reference_questions() -> np.ndarray:
    """Questions people ask about personal data: the project's FAQ phrasings plus each
    category's prototype question. Only their spread matters (see hubness)."""
    from knowledge.embed import encode
    from knowledge.index import load_faq

    texts = [str(q) for e in load_faq() for q in e.get("ask", [])]
    texts += [protos[0] for protos in TAXONOMY.values()]
    return encode(texts)


def hubness(vecs: np.ndarray, k: int = HUB_K) -> np.ndarray:
    """Mean cosine of each passage to its k nearest reference questions.

    A generic passage ("this policy explains how we collect, use and share information")
    sits close to every question and outranks the specific one that answers; subtracting
    half of this (CSLS, cross-domain similarity local scaling) removes that pull.
    """
    ref = _reference_questions()
    if not len(vecs) or not len(ref):
        return np.zeros(len(vecs), dtype=np.float32)
    sims = np.atleast_2d(vecs) @ ref.T
    k = min(k, sims.shape[1])
    return np.partition(sims, -k, axis=1)[:, -k:].mean(axis=1).astype(np.float32)
