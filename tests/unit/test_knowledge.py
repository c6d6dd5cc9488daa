"""Knowledge index + answerer + CLI, against an index built once into a temp DATA_DIR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import BUILD_DATA_DIR

ROOT = Path(__file__).resolve().parents[2]
PRIVACYBOT = ROOT / ".venv" / "bin" / "privacybot"
DEV_QUESTIONS = next(
    (p / "shared" / "eval" / "dev_questions.yaml" for p in ROOT.parents if (p / "shared").is_dir()),
    (ROOT / ".." / "shared" / "eval" / "dev_questions.yaml").resolve(),
)


ORGS = ("barnet-homes", "twenty11")


@pytest.fixture(scope="session")
def knowledge_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A throwaway DATA_DIR holding the org indexes: the ones `make index` built (shared
    read-only, as the integration stacks share them) when they are current, else built
    once into it."""
    from knowledge.index import build_org_index, org_index_current

    data_dir = tmp_path_factory.mktemp("knowledge-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_DIR", str(BUILD_DATA_DIR))
        built_current = all(org_index_current(org) for org in ORGS)
        mp.setenv("DATA_DIR", str(data_dir))
        if built_current:
            (data_dir / "index").symlink_to(BUILD_DATA_DIR / "index", target_is_directory=True)
        else:
            for org in ORGS:
                build_org_index(org, progress=False)
        yield data_dir


@pytest.fixture(scope="session")
def barnet(knowledge_data_dir: Path):
    from knowledge.answer import get_answerer

    return get_answerer("barnet-homes", knowledge_data_dir / "index" / "barnet-homes")


@pytest.fixture(scope="session")
def twenty11(knowledge_data_dir: Path):
    from knowledge.answer import get_answerer

    return get_answerer("twenty11", knowledge_data_dir / "index" / "twenty11")


def _cli(args: list[str], data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("ORG", None)
    exe = [str(PRIVACYBOT)] if PRIVACYBOT.exists() else [sys.executable, "-m", "privacybot.cli"]
    return subprocess.run(
        [*exe, *args], input=stdin, capture_output=True, text=True, env=env, timeout=300
    )


def test_import_is_light() -> None:
    code = "import knowledge, sys; assert 'torch' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_result_shape(barnet) -> None:
    result = barnet.ask("how do I ask for a copy of my records?")
    assert {"question", "org", "answered", "answer", "reason", "citation", "passages"} <= set(
        result
    )
    assert result["answered"] is True and result["reason"] is None
    assert 0 < len(result["answer"]) <= 480
    assert set(result["citation"]) == {"notice", "notice_title", "section", "organisation"}
    assert len(result["passages"]) >= 3
    for p in result["passages"]:
        assert {"text", "notice", "organisation", "notice_title", "section", "score"} <= set(p)
    scores = [p["score"] for p in result["passages"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    "question",
    [
        "what's the name of the DPO",
        "who is your data protection officer",
        "who is in charge of data protection",
        "which countries do you send my data outside the EEA",
    ],
)
def test_superseded_text_never_returned(barnet, question: str) -> None:
    result = barnet.ask(question)
    blob = json.dumps(result)
    assert "Denise Ailara" not in blob
    assert "let2barnet-old-privacy-policy" not in blob
    if "DPO" in question or "officer" in question:
        assert "Neil Topping" in result["passages"][0]["text"]
        assert "Neil Topping" in result["answer"]


def test_org_scoping(barnet, twenty11) -> None:
    for question in ["who do you share my data with", "how long do you keep my data", "DPO?"]:
        t = twenty11.ask(question)
        assert {p["notice"] for p in t["passages"]} == {"twenty11-privacy-notice"}
        b = barnet.ask(question)
        assert "twenty11-privacy-notice" not in {p["notice"] for p in b["passages"]}
        # The landlord's own notice comes before the council's for generic questions.
        assert b["passages"][0]["notice"] != "barnet-council-privacy-notice"


def test_notice_restriction(barnet) -> None:
    result = barnet.ask(
        "how long do you take to answer a subject access request",
        notice="barnet-council-privacy-notice",
    )
    top = [p["notice"] for p in result["passages"][:3]]
    assert top == ["barnet-council-privacy-notice"] * 3
    assert "30 days" in result["passages"][0]["text"]
    unknown = barnet.ask("who is the dpo", notice="no-such-notice")
    assert unknown["answered"] is False and len(unknown["passages"]) >= 3


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   \n ",
        "x" * 10_000,
        "who is the dpo\x00\x01\x02",
        "\udcff\udcfe binary",
        "😀😀😀",
        "🙂",
        "¿Cómo puedo ver los datos personales que tienen sobre mí?",
        "Wie kann ich meine persönlichen Daten einsehen lassen bitte",
        "как получить мои персональные данные",
        "私の個人データを見せてください",
        "?!?!",
        "12345",
    ],
)
def test_bad_input_abstains(barnet, question: str) -> None:
    result = barnet.ask(question)
    assert result["answered"] is False
    assert result["reason"]
    assert len(result["passages"]) >= 3
    json.dumps(result)  # serialisable


@pytest.mark.parametrize("question", ["ico phone number", "cctv footage retention period"])
def test_terse_english_in_the_notices_words_is_not_taken_for_another_language(
    barnet, question: str
) -> None:
    assert barnet.ask(question).get("reason_code") != "not_english"


def test_shorthand_and_the_landlords_own_name_do_not_steer_the_answer(barnet) -> None:
    plain = barnet.ask("how do i make a subject access request")
    for variant in (
        "how do i make a sar",
        "how do i make a subject access request to barnet homes",
    ):
        assert barnet.ask(variant)["passages"][0]["text"] == plain["passages"][0]["text"]


@pytest.mark.parametrize(
    "question",
    [
        "how do I pay my rent online",
        "my kitchen tap is leaking",
        "what's the weather tomorrow",
        "book a table for two",
        "what is 17 times 23",
        "hello",
        "thanks, bye",
        "when are the bins collected",
        "can you reset my password",
        # near misses: privacy-sounding words, not a question about the notices
        "whats a good cookie recipe for kids",
        "how do i stop my ex seeing my instagram posts",
        # another organisation's handling of data (none of these is a scope example)
        "what does instagram do with my photos",
        "can my manager read my texts on the work phone",
    ],
)
def test_out_of_scope_abstains(barnet, question: str) -> None:
    assert barnet.ask(question)["answered"] is False


@pytest.mark.parametrize(
    "question",
    ["does barnet homes share my data with my bank", "do you pass my details to facebook"],
)
def test_the_landlord_sharing_with_another_organisation_is_in_scope(barnet, question: str) -> None:
    assert barnet.ask(question)["answered"] is True


def test_a_cookie_named_in_the_notices_is_in_scope(barnet) -> None:
    # The scope classifier has never seen the name; the cookie table has.
    result = barnet.ask("whats bigipserverzebedee on my phone, is it a virus")
    assert result["answered"] is True
    assert result["citation"]["notice"] == "let2barnet-cookie-policy"


@pytest.mark.parametrize(
    ("question", "detail"),
    [
        ("what is the phone number for the ico", "0303 123 1113"),
        ("whats the postal address to write to you about my data", "NW9 4EW"),
        ("what email do i use for data protection questions", "Talk2Us@barnethomes.org"),
    ],
)
def test_asking_for_a_contact_detail_shows_it(barnet, question: str, detail: str) -> None:
    assert detail in barnet.ask(question)["answer"]


def test_neighbour_margin_sides_with_the_nearest_example() -> None:
    from knowledge.scope import neighbour_margin

    inside = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    outside = np.array([[0.6, 0.8]], dtype=np.float32)
    assert neighbour_margin(np.array([1.0, 0.0]), inside, outside) == pytest.approx(0.4)
    assert neighbour_margin(np.array([0.6, 0.8]), inside, outside) == pytest.approx(-0.2)
    assert neighbour_margin(np.array([1.0, 0.0]), inside, inside[:0]) == 0.0


EVAL_DIR = Path(__file__).resolve().parents[2] / "knowledge/eval"


# (file, hit@1 floor, hit@3 floor, false-abstention ceiling, out-of-scope abstention floor):
# regression guards a little below what `privacybot eval --questions` reports (session 8:
# dev 0.95/0.97/0.00/1.0, resident 0.86/0.92/0.01/0.97, held-out 0.79/0.87/0.03/1.0;
# session 13: held-out 0.81/0.87/0.01/1.0).
QUALITY_FLOORS = [
    (DEV_QUESTIONS, 0.87, 0.95, 0.05, 1.0),
    (EVAL_DIR / "resident_questions.yaml", 0.82, 0.89, 0.03, 0.95),
    (EVAL_DIR / "heldout_questions.yaml", 0.75, 0.82, 0.06, 0.90),
    # Long stories with the question in the middle (question focus tuned on it: 0.78/0.88).
    (EVAL_DIR / "story_questions.yaml", 0.72, 0.84, 0.04, 1.0),
    # Resident styles (spelling and answer-sentence choice tuned on it, session 11: 0.77/0.86).
    (EVAL_DIR / "styles_questions.yaml", 0.72, 0.82, 0.04, 0.9),
]


@pytest.fixture(scope="session")
def answered_sets(barnet, twenty11):
    """Each question set answered once per session (one embedding batch per org), shared
    by the tests that score it; results in file order."""
    answerers = {"barnet-homes": barnet, "twenty11": twenty11}
    results: dict[Path, list[tuple[dict, dict]]] = {}

    def answered(path: Path) -> list[tuple[dict, dict]]:
        if path not in results:
            items = yaml.safe_load(path.read_text())
            by_item: dict[int, dict] = {}
            for org, answerer in answerers.items():
                mine = [i for i, item in enumerate(items) if item.get("org", ORGS[0]) == org]
                batch = answerer.ask_batch([items[i]["q"] for i in mine])
                by_item.update(zip(mine, batch, strict=True))
            results[path] = [(item, by_item[i]) for i, item in enumerate(items)]
        return results[path]

    return answered


@pytest.mark.parametrize(
    ("path", "floor1", "floor3", "max_false_abstention", "min_oos_abstained"),
    QUALITY_FLOORS,
    ids=["dev", "resident", "heldout", "story", "styles"],
)
def test_question_set_quality_floors(
    answered_sets,
    path: Path,
    floor1: float,
    floor3: float,
    max_false_abstention: float,
    min_oos_abstained: float,
) -> None:
    from knowledge.evaluate import is_hit

    assert path.exists(), f"question set not found at {path} (../shared must sit beside)"
    h1 = h3 = n = oos = oos_ok = false_abst = 0
    misses = []
    for item, result in answered_sets(path):
        if item.get("oos"):
            oos += 1
            oos_ok += not result["answered"]
            continue
        n += 1
        hits = [
            is_hit(p["text"], item["expect_any"], item.get("reject_any", []))
            for p in result["passages"][:3]
        ]
        h1 += hits[0]
        h3 += any(hits)
        false_abst += not result["answered"]
        if not hits[0]:
            misses.append(item["q"])
    assert h1 / n >= floor1, misses
    assert h3 / n >= floor3, misses
    assert not oos or oos_ok / oos >= min_oos_abstained
    assert false_abst / n <= max_false_abstention


def test_index_skips_when_up_to_date(knowledge_data_dir: Path) -> None:
    out = _cli(["index", "--all"], knowledge_data_dir)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("up to date") == 2


def test_index_any_folder_and_ask_with_index(knowledge_data_dir: Path, tmp_path: Path) -> None:
    notices = tmp_path / "notices"
    notices.mkdir()
    (notices / "acme-homes.txt").write_text(
        "Your rights\n\nYou can ask Acme Homes for a copy of your personal data. "
        "We answer within 28 days.\n\nCookies\n\nOur website uses a session cookie only.\n"
    )
    (notices / "other.md").write_text(
        "---\nid: other\norganisation: Other\n---\n\n## Sharing\n\nWe never sell your data.\n"
    )
    out_dir = tmp_path / "idx"
    first = _cli(["index", "--notices", str(notices), "--out", str(out_dir)], knowledge_data_dir)
    assert first.returncode == 0, first.stderr
    assert "built" in first.stdout
    again = _cli(["index", "--notices", str(notices), "--out", str(out_dir)], knowledge_data_dir)
    assert "up to date" in again.stdout
    asked = _cli(
        ["ask", "--json", "--index", str(out_dir), "how fast do you answer a request for my data"],
        knowledge_data_dir,
    )
    assert asked.returncode == 0, asked.stderr
    result = json.loads(asked.stdout)
    assert result["passages"][0]["notice"] == "acme-homes"
    assert result["passages"][0]["organisation"] == "acme-homes"
    assert "28 days" in result["passages"][0]["text"]


def test_index_reports_malformed_notice(knowledge_data_dir: Path, tmp_path: Path) -> None:
    notices = tmp_path / "bad"
    notices.mkdir()
    (notices / "broken.md").write_text("---\nid: broken\nstatus: [oops\n---\ntext\n")
    out = _cli(
        ["index", "--notices", str(notices), "--out", str(tmp_path / "o")], knowledge_data_dir
    )
    assert out.returncode != 0
    assert "broken.md:3" in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_ask_json(knowledge_data_dir: Path) -> None:
    out = _cli(
        ["ask", "--json", "--org", "twenty11", "what is your data protection email"],
        knowledge_data_dir,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["org"] == "twenty11" and result["answered"] is True
    assert "dataprotection@twenty11.co.uk" in result["passages"][0]["text"]


def test_cli_ask_jsonl(knowledge_data_dir: Path) -> None:
    questions = ["is there a fee for a subject access request", "good morning", "", "😀"]
    out = _cli(["ask", "--jsonl"], knowledge_data_dir, stdin="\n".join(questions) + "\n")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["question"] for r in lines] == questions
    assert [r["answered"] for r in lines] == [True, False, False, False]
    assert all(len(r["passages"]) >= 3 for r in lines)


def test_cli_jsonl_binary_input(knowledge_data_dir: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(knowledge_data_dir)}
    exe = [str(PRIVACYBOT)] if PRIVACYBOT.exists() else [sys.executable, "-m", "privacybot.cli"]
    out = subprocess.run(
        [*exe, "ask", "--jsonl"],
        input=b"\xff\xfe\x00\x01garbage\nwho is the dpo\n",
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert [r["answered"] for r in lines] == [False, True]


def test_normalise_spells_out_shorthand_and_reads_the_landlord_as_you() -> None:
    from knowledge.normalise import normalise_question, self_name_pattern

    names = self_name_pattern(["Barnet Homes"])
    text = normalise_question("does Barnet Homes give my info to the DWP or my GP?", names)
    assert text == (
        "does you give my information to the Department for Work and Pensions (DWP) "
        "or my doctor (GP)?"
    )
    assert normalise_question("sar pls") == "subject access request please"


def test_no_answer_stops_on_a_lead_in_on_the_web_or_by_sms(answered_sets) -> None:
    """Over the dev and resident sets, no answer ends on "...for the following reasons:",
    neither as the web shows it nor after the SMS channel cuts it to three segments."""
    from actions.answer import format_answer
    from knowledge.evaluate import is_cut_off
    from webhook.sms_format import MAX_SEGMENTS, fit, segments

    cut, answered = [], 0
    for path in (DEV_QUESTIONS, EVAL_DIR / "resident_questions.yaml"):
        for _item, result in answered_sets(path):
            if not result["answered"]:
                continue
            answered += 1
            sms = fit(format_answer(result))
            assert segments(sms) <= MAX_SEGMENTS
            assert len(result["answer"]) <= 480
            if is_cut_off(result["answer"]) or is_cut_off(sms.split("\n")[0]):
                cut.append((result["question"], result["answer"]))
    assert answered > 700
    assert cut == []


def test_a_lead_in_is_shown_with_its_items(barnet) -> None:
    from knowledge.answer import is_lead_in

    answer = barnet.ask("who is in charge of my data")["answer"]
    assert answer.startswith("As the data controller, we must:"), answer
    assert "Keep your records safe and accurate." in answer
    answer = barnet.ask("what do you do with my data")["answer"]
    assert "Service delivery and communications" in answer, answer
    assert is_lead_in("As the data controller, we must:")
    assert is_lead_in("Things you can do, such as…")
    assert not is_lead_in("We keep your records safe.")


def test_a_long_list_is_shortened_to_whole_items() -> None:
    from knowledge.answer import _with_items

    items = [f"item number {k} which is a fairly long piece of text about data" for k in range(20)]
    text = _with_items("We use your data for the following reasons:", items)
    assert len(text) <= 480
    assert text.endswith("…") and "Item number 0 which" in text
    short = _with_items("We must:", ["keep it safe.", "tell you"])
    assert short == "We must: Keep it safe. Tell you."


def test_the_question_inside_a_story_is_its_focus() -> None:
    from knowledge.focus import question_focus

    story = (
        "My boiler has broken three times this winter and I reported it each time. "
        "Anyway, can I get a copy of everything you hold on me? The engineer was rude."
    )
    assert question_focus(story) == "Anyway, can I get a copy of everything you hold on me?"
    # A question that points back ("is that allowed?") keeps the sentence it points at.
    told = "I gave my son's number as emergency contact. He lives away now. Is that allowed?"
    assert question_focus(told) == "He lives away now. Is that allowed?"
    assert question_focus("can i see my file?") is None  # short: the message is the question
    assert question_focus("Why? What? Who?") is None  # nothing but questions


def test_a_story_around_the_question_does_not_steer_the_answer(barnet) -> None:
    # Without the focus, the tenancy story ranked the housing-application passage first.
    story = barnet.ask(
        "We've had a lot of antisocial behaviour on the estate and the police have been round "
        "several times. Two officers came to my door and seemed to know all about my tenancy. "
        "Did barnet homes give the police my information? I haven't done anything wrong."
    )
    assert story["answered"]
    assert "Police and other relevant authorities" in story["passages"][0]["text"]
