"""Back-office rules on plain values: forms, schedules, the families CSV, credentials."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.accounts import credentials
from portal.domain.accounts.rules import check_password
from portal.domain.form_fields import FormError
from portal.domain.money import manual_form
from portal.domain.news import rules as news_rules
from portal.domain.staff import audit, families_csv, rules
from portal.domain.staff import schedule as day_schedule
from portal.domain.staff.presence import Presence
from portal.domain.staff.schedule import Closure, Schedule

PARIS = ZoneInfo("Europe/Paris")
ACTIVITY = {
    "nom": "ALSH", "porte_monnaie": "7", "couleur": "#112233", "debut": "08:30",
    "fin": "17:30", "capacite": "24", "liste_attente": "", "delai_reservation": "days:2@10:00",
    "delai_annulation": "prevweek:thu@10:00", "active": "1",
}  # fmt: skip


def test_activity_form_reads_every_setting() -> None:
    values = rules.parse_activity_form(
        {**ACTIVITY, "decision": "1", "ouverture": "2027-03-28T02:30"}, [7], PARIS
    )
    assert values.capacity == 24 and values.waitlist_capacity is None
    assert values.needs_decision and values.active and not values.time_entry
    assert values.cancellation_deadline == "prevweek:thu@10:00"
    # A local time that does not exist (spring DST) resolves to the jump: 03:00 CEST.
    assert values.booking_opens_at == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)


def test_activity_form_reports_every_problem_in_french() -> None:
    with pytest.raises(FormError) as caught:
        rules.parse_activity_form(
            {**ACTIVITY, "nom": "", "porte_monnaie": "8", "fin": "08:00",
             "delai_reservation": "tomorrow", "capacite": "-3", "saisie_horaires": "1",
             "arrivees": "7h00, 25:00"},
            [7],
            PARIS,
        )  # fmt: skip
    text = "\n".join(caught.value.errors)
    assert "nom de l'activité est obligatoire" in text
    assert "porte-monnaie" in text
    assert "postérieure à l'heure de début" in text
    assert "Délai de réservation : Délai invalide « tomorrow »" in text
    assert "nombre entier positif" in text
    assert "Heure invalide « 25:00 »" in text


def test_time_entry_needs_allowed_times_and_normalises_them() -> None:
    values = rules.parse_activity_form(
        {**ACTIVITY, "saisie_horaires": "1", "arrivees": "7h30; 07:00", "departs": "18:30",
         "unite": "15"},
        [7],
        PARIS,
    )  # fmt: skip
    assert (values.allowed_arrivals, values.allowed_departures) == ("07:00,07:30", "18:30")
    assert values.billing_unit_minutes == 15
    with pytest.raises(FormError, match="heures d'arrivée et de départ"):
        rules.parse_activity_form({**ACTIVITY, "saisie_horaires": "1"}, [7], PARIS)


def test_describe_deadline_uses_the_booking_wording() -> None:
    assert rules.describe_deadline("days:1@18:00") == "la veille à 18h00"
    assert rules.describe_deadline("bad").startswith("Délai invalide")


def test_capacity_cannot_fall_below_accepted_places() -> None:
    assert rules.capacity_error(5, 5) is None
    assert rules.capacity_error(None, 40) is None
    message = rules.capacity_error(3, 5)
    assert message is not None and "5 place(s) sont déjà acceptées" in message
    assert rules.waitlist_error(0, 2) is not None


def test_closures_are_read_line_by_line() -> None:
    closures = day_schedule.parse_closures(
        "24/12/2026\n\n21/12/2026 - 03/01/2027\ndu 2027-02-08 au 2027-02-19"
    )
    assert closures == [
        Closure(date(2026, 12, 24), date(2026, 12, 24)),
        Closure(date(2026, 12, 21), date(2027, 1, 3)),
        Closure(date(2027, 2, 8), date(2027, 2, 19)),
    ]
    with pytest.raises(FormError) as caught:
        day_schedule.parse_closures("24/12/2026\n32/12/2026\n05/01/2027 - 01/01/2027")
    assert [e.split(" :")[0] for e in caught.value.errors] == [
        "Fermetures, ligne 2", "Fermetures, ligne 3",
    ]  # fmt: skip


def test_plan_days_skips_public_holidays_on_any_weekday_and_closures() -> None:
    # Saturday 1 May 2027 (Fête du travail) and Saturday 8 May (Victoire 1945).
    saturdays = day_schedule.plan_days(
        Schedule(date(2027, 5, 1), date(2027, 5, 31), frozenset({5}))
    )
    assert saturdays.holidays == (date(2027, 5, 1), date(2027, 5, 8))
    assert saturdays.dates == (date(2027, 5, 15), date(2027, 5, 22), date(2027, 5, 29))
    mondays = day_schedule.plan_days(
        Schedule(date(2027, 5, 1), date(2027, 5, 31), frozenset({0}),
                 (Closure(date(2027, 5, 24), date(2027, 5, 30)),))
    )  # fmt: skip
    assert mondays.holidays == (date(2027, 5, 17),)  # Pentecost Monday
    assert mondays.closed == (date(2027, 5, 24),)
    assert mondays.dates == (date(2027, 5, 3), date(2027, 5, 10), date(2027, 5, 31))


@given(
    st.dates(date(2026, 1, 1), date(2030, 12, 31)),
    st.integers(0, 120),
    st.frozensets(st.integers(0, 6), min_size=1),
)
def test_plan_days_partitions_the_chosen_weekdays(
    first: date, span: int, days: frozenset[int]
) -> None:
    schedule = Schedule(first, first + timedelta(days=span), days)
    plan = day_schedule.plan_days(schedule)
    chosen = [
        first + timedelta(days=i)
        for i in range(span + 1)
        if (first + timedelta(days=i)).weekday() in days
    ]
    assert sorted(plan.dates + plan.holidays + plan.closed) == chosen
    assert not set(plan.dates) & set(plan.holidays)


def test_schedule_form_limits() -> None:
    with pytest.raises(FormError) as caught:
        day_schedule.parse_schedule_form({"du": "2027-05-31", "au": "2027-05-01"}, [])
    assert caught.value.errors == [
        "La date de fin est avant la date de début.",
        "Cochez au moins un jour de la semaine.",
    ]
    with pytest.raises(FormError, match="au plus 400 jours"):
        day_schedule.parse_schedule_form({"du": "2027-01-01", "au": "2029-01-01"}, ["2"])


ACTIVITIES = {"Restauration Scolaire": 1, "ALSH 6-12 - Mercredi Journée": 2}


def test_csv_groups_lines_into_families_and_reads_french_excel() -> None:
    text = (
        "\ufeffFamille;Prénom;Nom;Naissance;Tranche;E-mails;Activités;Identifiant\n"
        "DUPONT Jean;Paolo;DUPONT;04/05/2019;b;jean@example.fr;restauration scolaire;\n"
        "DUPONT  Jean;Amalia;DUPONT;;;;Restauration Scolaire|ALSH 6-12 - Mercredi Journée;\n"
        ";;;;;;;\n"
        "ROUX Marc;Léo;ROUX;01/02/2018;;;;roux.m\n"
    )
    parsed = families_csv.parse_families_csv(text, ACTIVITIES, {"A", "B"})
    assert parsed.ok, parsed.errors
    dupont, roux = parsed.families
    assert (dupont.name, dupont.band, dupont.emails) == ("DUPONT Jean", "B", ["jean@example.fr"])
    assert [(p.first_name, p.activity_ids) for p in dupont.people] == [
        ("Paolo", (1,)), ("Amalia", (1, 2)),
    ]  # fmt: skip
    assert dupont.people[0].birth_date == date(2019, 5, 4)
    assert (roux.login, roux.band, roux.line) == ("roux.m", "A", 5)


def test_csv_errors_name_their_lines() -> None:
    text = (
        "famille,prenom,nom,naissance,tranche,emails,activites\n"
        "DUPONT Jean,Paolo,DUPONT,04/05/2019,A,jean@example.fr,\n"
        "DUPONT Jean,Amalia,,2019-13-01,Z,pas-un-mail,Piscine\n"
        "DUPONT Jean,Lina,DUPONT,,C,,\n"
        "DUPONT Jean,Paolo,DUPONT,04/05/2019,A,,\n"
    )
    parsed = families_csv.parse_families_csv(text, ACTIVITIES, {"A", "B", "C"})
    assert not parsed.ok
    messages = [str(e) for e in parsed.errors]
    assert [e.line for e in parsed.errors] == [3, 4, 5]
    assert messages[0].startswith("Ligne 3 : le nom est vide")
    assert "2019-13-01" in messages[0] and "tranche « Z »" in messages[0]
    assert "pas-un-mail" in messages[0] and "activité « Piscine » inconnue" in messages[0]
    assert "tranche différent(s) de la ligne 2" in messages[1]
    assert "Paolo DUPONT apparaît deux fois" in messages[2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Le fichier est vide."),
        ("prenom;nom\nA;B\n", "Ligne 1 : colonne(s) manquante(s) : famille."),
        ("famille;prenom;nom;age\n", "Ligne 1 : colonne(s) inconnue(s) : age."),
        ("famille;prenom;nom\n", "Le fichier ne contient aucune ligne de données."),
        ("famille;prenom;nom\nX;Y;Z;extra\n", "Ligne 2 : 4 colonnes au lieu de 3."),
    ],
)
def test_csv_structure_errors(text: str, message: str) -> None:
    parsed = families_csv.parse_families_csv(text, ACTIVITIES)
    assert [str(e) for e in parsed.errors] == [message]


def test_logins_are_ascii_and_unique() -> None:
    assert credentials.login_base("DUPONT Jean-Paul") == "dupont.jp"
    assert credentials.login_base("Éloïse N'GUYEN") == "eloise.ng"
    assert credentials.login_base("Li") == "li-famille"
    assert credentials.unique_login("dupont.jp", {"Dupont.JP", "dupont.jp2"}) == "dupont.jp3"


def test_initial_passwords_pass_the_password_policy() -> None:
    passwords = {credentials.initial_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        check = check_password(password)
        assert check.acceptable and check.class_count == 4 and len(password) == 14
        assert not set(password) & set("0O1lI")


def test_news_form_and_state() -> None:
    values = news_rules.parse_news_form(
        {"titre": "Menu", "texte": "a\r\n\r\nb", "visible_du": "2026-12-01T08:00"}, PARIS
    )
    assert values.body == "a\n\nb"
    assert values.visible_from == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert news_rules.news_state(values.visible_from, None, values.visible_from - timedelta(1)) == (
        "Programmée"
    )
    assert news_rules.news_state(None, values.visible_from, values.visible_from) == "Retirée"
    with pytest.raises(FormError, match="fin d'affichage doit être après"):
        news_rules.parse_news_form(
            {"titre": "X", "texte": "Y", "visible_du": "2026-12-02T08:00",
             "visible_au": "2026-12-01T08:00"},
            PARIS,
        )  # fmt: skip


def test_payment_form() -> None:
    today = date(2026, 11, 20)
    values = manual_form.parse_payment_form(
        {"porte_monnaie": "3", "mode": "cheque", "montant": "50,5", "piece": "0012",
         "payeur": "DUPONT", "banque": "CIC"},
        [3],
        today,
    )  # fmt: skip
    assert (values.mode, values.amount_cents, values.entry_date) == ("CHEQUE", 5050, today)
    with pytest.raises(FormError) as caught:
        manual_form.parse_payment_form(
            {"porte_monnaie": "4", "mode": "CHEQUE", "montant": "-5"}, [3], today
        )
    text = " ".join(caught.value.errors)
    assert "porte-monnaie" in text and "négatif" in text
    assert "numéro du chèque" in text and "payeur" in text
    with pytest.raises(FormError, match="futur"):
        manual_form.parse_payment_form(
            {"porte_monnaie": "3", "mode": "ESPECES", "montant": "5", "payeur": "X",
             "date": "2026-11-21"},
            [3],
            today,
        )  # fmt: skip


def test_presence_flags_round_trip() -> None:
    for presence in Presence:
        assert Presence.of(*presence.flags) is presence


def test_jsonable_audit_values() -> None:
    assert audit.jsonable({"d": date(2026, 1, 2), "t": time(8, 30), "s": {1}}) == {
        "d": "2026-01-02", "t": "08:30:00", "s": [1],
    }  # fmt: skip
