"""General privacy-policy layers (thesaurus expansion, OPP-115-style categories)."""

from __future__ import annotations

import numpy as np

from knowledge.taxonomy import (
    TAXONOMY,
    THESAURUS,
    category_profile,
    concepts,
    expand_query,
    hubness,
)


def test_concepts_name_the_thesaurus_groups() -> None:
    named = [THESAURUS[k][1] for k in concepts("Do you sell my GPS data to anyone?")]
    assert any("sell" in n for n in named)
    assert any("location" in n for n in named)
    assert concepts("what time is it") == []


def test_expand_query_is_unit_and_identity_without_concepts() -> None:
    from knowledge.embed import encode_one

    q = encode_one("can my kids use this")
    x = expand_query("can my kids use this", q, 0.5)
    assert abs(float(np.linalg.norm(x)) - 1.0) < 1e-4 and not np.allclose(x, q)
    plain = encode_one("what time is it")
    assert expand_query("what time is it", plain, 0.5) is plain


def test_category_profile_classifies_plain_policy_sentences() -> None:
    from knowledge.embed import encode

    texts = [
        "We keep your records for six years after your account closes.",
        "We never sell your details to advertisers.",
        "This service is not intended for children under 13.",
    ]
    prof = category_profile(encode(texts))
    assert prof.shape == (3, len(TAXONOMY))
    assert np.allclose(prof.sum(axis=1), 1.0, atol=1e-4)
    cats = list(TAXONOMY)
    assert [cats[i] for i in prof.argmax(axis=1)] == [
        "data_retention",
        "third_party_sharing",
        "specific_audiences",
    ]


def test_generic_path_only_without_faq() -> None:
    from knowledge.embed import encode
    from knowledge.evaluate import _sentence_bundle
    from knowledge.retrieve import GENERIC_WEIGHTS, WEIGHTS, Retriever

    sents = [
        "We collect your name and email address when you register.",
        "We retain personal information for as long as your account is active.",
        "We share information with advertising partners.",
    ]
    retriever = Retriever(_sentence_bundle("p", sents, encode(sents)))
    for key, value in GENERIC_WEIGHTS.items():
        assert retriever.w[key] == value and WEIGHTS[key] != value
    q = "how long do you keep my data?"
    ranked = retriever.rank(q, encode([q])[0])
    assert int(ranked.rows[0]) == 1


def test_hubness_is_higher_for_generic_sentences() -> None:
    from knowledge.embed import encode

    vecs = encode(
        [
            "This privacy policy explains how we collect, use and share your personal information.",
            "Our office car park closes at 6pm on weekdays.",
        ]
    )
    hub = hubness(vecs)
    assert hub.shape == (2,) and hub[0] > hub[1]
