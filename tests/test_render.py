"""Rendering the shipped templates, and the renderer's rules for any template."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import babel
import pytest

from connector.domain import Money
from connector.errors import ConfigError
from connector.render import TemplateRenderer
from tests.channels import samples

TEMPLATES = Path(__file__).resolve().parents[1] / "config" / "templates"
MESSAGES = ["reminder", "second_reminder", "demand"]


@pytest.fixture
def renderer() -> TemplateRenderer:
    return TemplateRenderer(TEMPLATES, "nl")


@pytest.fixture
def foreign_locale(monkeypatch):
    """The process runs under a German locale, as far as Babel can tell."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LC_CTYPE", "LANG"):
        monkeypatch.setenv(name, "de_DE.UTF-8")
    assert babel.default_locale() == "de_DE"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# Formats follow the recipient, never the process


def test_dutch_money_and_dates_under_a_foreign_process_locale(renderer, foreign_locale):
    message = renderer.render("reminder", "nl", samples.context())

    assert "3 december 2026: € 1.210,00" in message.text
    assert "Totaal te betalen: € 1.452,00" in message.text


def test_english_money_and_dates_under_a_foreign_process_locale(
    renderer, foreign_locale
):
    message = renderer.render("reminder", "en", samples.context())

    assert "due December 3, 2026: €1,210.00" in message.text
    assert "Total to pay: €1,452.00" in message.text


def test_money_filter_takes_a_money_value(tmp_path):
    write(tmp_path, "nl/m.txt", "Subject: x\n\n{{ amount|money }}\n")
    renderer = TemplateRenderer(tmp_path, "nl")
    context = {"amount": Money(Decimal("1210"), "EUR")}

    assert renderer.render("m", "nl", context).text == "€ 1.210,00\n"


def test_money_filter_refuses_a_float(tmp_path):
    write(tmp_path, "en/m.txt", "Subject: x\n\n{{ 12.5|money('EUR') }}\n")
    renderer = TemplateRenderer(tmp_path, "en")

    with pytest.raises(
        ConfigError, match=re.escape("m.txt:3: TypeError: money needs a Decimal")
    ):
        renderer.render("m", "en", {})


def test_date_filter_takes_other_babel_formats(tmp_path):
    write(tmp_path, "nl/d.txt", "Subject: x\n\n{{ today|date('short') }}\n")
    renderer = TemplateRenderer(tmp_path, "nl")

    message = renderer.render("d", "nl", samples.context())

    assert message.text == "20-12-2026\n"


# Every shipped message, in both languages


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("name", MESSAGES)
def test_each_message_lists_every_invoice_the_credit_note_and_the_total(
    renderer, name, language
):
    amounts = {
        "nl": ["€ 1.210,00", "€ 363,00", "€ -121,00", "€ 1.452,00"],
        "en": ["€1,210.00", "€363.00", "-€121.00", "€1,452.00"],
    }[language]
    due_dates = {
        "nl": ["3 december 2026", "10 december 2026"],
        "en": ["December 3, 2026", "December 10, 2026"],
    }[language]

    message = renderer.render(name, language, samples.context())

    assert message.language == language
    assert message.html is not None
    for body in (message.text, message.html):
        for expected in ["2026-0117", "2026-0121", "C-2026-004", *amounts, *due_dates]:
            assert expected in body
        assert "Debiteurenbeheer Voorbeeld" in body


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("name", MESSAGES)
def test_each_message_shows_the_pay_link_when_there_is_one(renderer, name, language):
    context = samples.context(pay_url="https://betalen.example/p/8f3a")

    message = renderer.render(name, language, context)

    assert "https://betalen.example/p/8f3a" in message.text
    assert 'href="https://betalen.example/p/8f3a"' in (message.html or "")


def test_without_a_pay_link_the_message_gives_the_iban(renderer):
    context = samples.context(iban="NL00 BANK 0123 4567 89")

    message = renderer.render("reminder", "nl", context)

    assert "NL00 BANK 0123 4567 89" in message.text
    assert "2026-0117, 2026-0121" in message.text


def test_a_reminder_greets_a_named_contact_person(renderer):
    context = samples.context(contact_person="Anna de Vries")

    message = renderer.render("reminder", "nl", context)

    assert message.text.startswith("Beste Anna de Vries,\n")


def test_a_demand_is_firm_about_the_deadline(renderer):
    message = renderer.render("demand", "nl", samples.context())

    assert message.subject == "Aanmaning openstaande facturen"
    assert "uiterlijk binnen zeven dagen" in message.text


def test_the_subject_names_a_single_invoice(renderer):
    context = samples.context()
    context["invoices"] = context["invoices"][:1]

    message = renderer.render("reminder", "en", context)

    assert message.subject == "Payment reminder: invoice 2026-0117"


# Safety


def test_html_escapes_a_script_tag_in_the_debtor_name(renderer):
    context = samples.context(debtor_name="<script>alert(1)</script>", kind="person")

    message = renderer.render("reminder", "en", context)

    assert "<script>" not in (message.html or "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (message.html or "")
    assert "Dear <script>alert(1)</script>," in message.text


def test_a_javascript_pay_link_never_becomes_an_href(renderer):
    context = samples.context(pay_url="javascript:alert(1)")

    message = renderer.render("reminder", "en", context)

    assert "javascript:" not in (message.html or "")


def test_line_breaks_in_subject_data_become_spaces(renderer):
    context = samples.context()
    context["invoices"] = context["invoices"][:1]
    context["invoices"][0]["number"] = "2026-0117\r\nBcc: x@evil.example"

    message = renderer.render("reminder", "nl", context)

    assert message.subject == (
        "Betalingsherinnering factuur 2026-0117 Bcc: x@evil.example"
    )


# Languages and fallbacks


def test_a_language_without_templates_falls_back_to_the_default(renderer):
    message = renderer.render("reminder", "fr", samples.context())

    assert message.language == "nl"
    assert "Totaal te betalen: € 1.452,00" in message.text


def test_without_the_default_language_the_fallback_is_english():
    renderer = TemplateRenderer(TEMPLATES, "de")

    message = renderer.render("reminder", "fr", samples.context())

    assert message.language == "en"


def test_a_regional_language_uses_its_base_language_templates(renderer):
    message = renderer.render("reminder", "nl-BE", samples.context())

    assert message.language == "nl"


def test_a_missing_template_is_a_config_error(renderer):
    with pytest.raises(ConfigError, match="no template 'final_notice'"):
        renderer.render("final_notice", "nl", samples.context())


def test_names_lists_the_messages_but_not_the_partials(renderer):
    assert renderer.names("nl") == {"reminder", "second_reminder", "demand", "letter"}
    assert renderer.names("en") == {"reminder", "second_reminder", "demand", "letter"}


# Errors point at the template file and line


def test_an_undefined_variable_names_the_file_and_line(tmp_path):
    path = write(
        tmp_path,
        "en/r.txt",
        "Subject: Hello\n\nDear {{ debtor.name }},\n{{ debtr.name }}\n",
    )
    renderer = TemplateRenderer(tmp_path, "en")

    with pytest.raises(ConfigError) as caught:
        renderer.render("r", "en", {"debtor": {"name": "A"}})

    assert (caught.value.file, caught.value.line) == (str(path), 4)
    assert "'debtr' is undefined" in str(caught.value)


def test_an_undefined_variable_in_the_subject_names_line_one(tmp_path):
    path = write(tmp_path, "en/r.txt", "Subject: {{ nope }}\n\nBody\n")
    renderer = TemplateRenderer(tmp_path, "en")

    with pytest.raises(ConfigError) as caught:
        renderer.render("r", "en", {})

    assert (caught.value.file, caught.value.line) == (str(path), 1)


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "en/r.txt", "Subject: Hello\n\nline 3\n{% if x %}\n")
    renderer = TemplateRenderer(tmp_path, "en")

    with pytest.raises(ConfigError) as caught:
        renderer.render("r", "en", {"x": True})

    assert caught.value.file == str(path)
    assert caught.value.line == 4


def test_a_template_without_a_subject_line_is_a_config_error(tmp_path):
    write(tmp_path, "en/r.txt", "Hello\n\nBody\n")
    renderer = TemplateRenderer(tmp_path, "en")

    with pytest.raises(
        ConfigError, match=re.escape("r.txt:1: first line must be 'Subject: ...'")
    ):
        renderer.render("r", "en", {})


def test_the_sandbox_refuses_private_attributes(tmp_path):
    write(tmp_path, "en/r.txt", "Subject: x\n\n{{ debtor.__class__ }}\n")
    renderer = TemplateRenderer(tmp_path, "en")

    with pytest.raises(ConfigError, match=re.escape("r.txt:3")):
        renderer.render("r", "en", {"debtor": object()})


# check(), for dunning validate


@pytest.mark.parametrize("name", MESSAGES)
def test_the_shipped_templates_have_no_problems(renderer, name):
    assert renderer.check(name, samples.context()) == []


def test_check_reports_a_missing_template(renderer):
    expected = f"{TEMPLATES / 'nl' / 'final_notice.txt'}: missing"

    assert renderer.check("final_notice") == [expected]


def test_check_reports_a_syntax_error_with_file_and_line(tmp_path):
    write(tmp_path, "en/r.txt", "Subject: Hello\n\nBody\n")
    path = write(tmp_path, "en/r.html", "<p>\n{{ debtor.name }\n</p>\n")
    renderer = TemplateRenderer(tmp_path, "en")

    [problem] = renderer.check("r")

    assert problem.startswith(f"{path}:2: ")


def test_check_reports_a_broken_included_partial(tmp_path):
    write(tmp_path, "en/r.txt", 'Subject: Hello\n\n{% include "en/_part.txt" %}\n')
    path = write(tmp_path, "en/_part.txt", "one\n{% for x in y %}\n")
    renderer = TemplateRenderer(tmp_path, "en")

    [problem] = renderer.check("r")

    assert problem.startswith(f"{path}:")


def test_check_with_a_context_reports_a_misspelt_variable(tmp_path):
    write(tmp_path, "en/r.txt", "Subject: Hello\n\n{{ debtor.nmae }}\n")
    renderer = TemplateRenderer(tmp_path, "en")

    [problem] = renderer.check("r", samples.context())

    assert problem.startswith(f"{tmp_path / 'en' / 'r.txt'}:3: ")
