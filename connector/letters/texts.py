"""The wording of the letters, in Dutch and English.

The texts live in code, not in the administrator's template folder, because the
14-day letter's wording is set by law (art. 6:96 lid 6 BW, reference §2.2): the
exact costs, a term of fourteen days from the day after receipt, the last day
written out and that paying in time costs nothing. The tests check every one of
those sentences in both languages; an edit that breaks one fails the build.

Placeholders are `str.format` fields, filled with already formatted values.
"""

from __future__ import annotations

from connector.law.costs import CostsBasis

_BIK = "Besluit vergoeding voor buitengerechtelijke incassokosten"

NL: dict[str, str] = {
    "subject.reminder": "Betalingsherinnering",
    "subject.demand": "Ingebrekestelling",
    "subject.fourteen_day": "Aanmaning: betaal binnen 14 dagen zonder incassokosten",
    "salutation.named": "Geachte {name},",
    "salutation.anonymous": "Geachte heer, mevrouw,",
    "attention": "t.a.v. {name}",
    "label.date": "Datum",
    "label.reference": "Ons kenmerk",
    "label.customer": "Klantnummer",
    "label.subject": "Betreft",
    "table.invoice": "Factuur",
    "table.issue_date": "Factuurdatum",
    "table.due_date": "Vervaldatum",
    "table.open": "Openstaand",
    "table.credit_note": "Creditnota {number}",
    "sum.subtotal": "Subtotaal",
    "sum.costs": "Buitengerechtelijke incassokosten",
    "sum.costs_vat": "waarvan btw",
    "sum.interest": "Wettelijke rente",
    "sum.total": "Totaal te betalen",
    "reminder.opening": (
        "Volgens onze administratie hebben wij de betaling van de onderstaande "
        "posten nog niet ontvangen, hoewel de betaaltermijn is verstreken. "
        "Mogelijk is dit aan uw aandacht ontsnapt."
    ),
    "reminder.request_by": (
        "Wij verzoeken u het openstaande bedrag van {total} uiterlijk op "
        "{pay_by} te betalen."
    ),
    "reminder.request": (
        "Wij verzoeken u het openstaande bedrag van {total} zo spoedig mogelijk "
        "te betalen."
    ),
    "reminder.already_paid": (
        "Heeft u het bedrag inmiddels betaald, dan kunt u deze herinnering als "
        "niet verzonden beschouwen."
    ),
    "demand.opening": (
        "Wij hebben u eerder gevraagd de onderstaande posten te betalen. Tot op "
        "heden hebben wij geen volledige betaling ontvangen."
    ),
    "demand.notice_by": (
        "Hierbij stellen wij u in gebreke. Wij geven u de gelegenheid het "
        "totaalbedrag van {total} alsnog te betalen, uiterlijk op {pay_by}."
    ),
    "demand.notice": (
        "Hierbij stellen wij u in gebreke. Wij geven u de gelegenheid het "
        "totaalbedrag van {total} alsnog te betalen binnen acht dagen na de "
        "datum van deze brief."
    ),
    "demand.costs": (
        "Omdat u niet op tijd heeft betaald, brengen wij buitengerechtelijke "
        "incassokosten in rekening van {costs}{vat_note}{basis}."
    ),
    "demand.interest": (
        "Daarnaast bent u {interest_terms} verschuldigd; die bedraagt {interest}."
    ),
    "demand.consequence": (
        "Betaalt u niet binnen deze termijn, dan nemen wij zonder verdere "
        "aankondiging maatregelen om de vordering te innen."
    ),
    "fourteen_day.opening": (
        "Ondanks onze eerdere herinnering hebben wij de betaling van de "
        "onderstaande posten nog niet ontvangen. Het bedrag dat u ons nog "
        "verschuldigd bent (de hoofdsom) is {principal}."
    ),
    "fourteen_day.interest": (
        "Daarnaast bent u {interest_terms} verschuldigd; die bedraagt {interest}."
    ),
    "fourteen_day.term": (
        "Wij geven u de gelegenheid het totaalbedrag van {total} te betalen "
        "binnen veertien dagen, te rekenen vanaf de dag nadat u deze brief heeft "
        "ontvangen."
    ),
    "fourteen_day.received": (
        "Wij gaan ervan uit dat deze brief u op {received_on} bereikt. De "
        "laatste dag om te betalen is dan {last_day}."
    ),
    "fourteen_day.last_day": "De laatste dag om te betalen is {last_day}.",
    "fourteen_day.in_time": (
        "Betaalt u het volledige bedrag uiterlijk op die dag, dan brengen wij "
        "geen incassokosten in rekening."
    ),
    "fourteen_day.costs": (
        "Betaalt u niet binnen deze termijn, dan bent u naast de hoofdsom "
        "buitengerechtelijke incassokosten verschuldigd van "
        "{costs}{vat_note}{basis}."
    ),
    "vat_note": " (inclusief {vat} btw, die wij niet kunnen verrekenen)",
    "pay.transfer": (
        "U kunt betalen door {total} over te maken op IBAN {iban}{bic} ten name "
        "van {creditor}, onder vermelding van {reference}."
    ),
    "pay.bic": " (BIC {bic})",
    "pay.contact": "Neem voor de betaling contact met ons op.",
    "pay.link": "U kunt ook direct online betalen:",
    "contact": (
        "Heeft u vragen of bent u het niet eens met een factuur, neem dan "
        "contact met ons op via {contact}."
    ),
    "or": " of ",
    "closing.reminder": "Met vriendelijke groet,",
    "closing.formal": "Hoogachtend,",
    "footer.coc": "KvK {number}",
    "footer.vat": "btw {number}",
    "footer.page": "Pagina {page} van {pages}",
    "interest.consumer": "de wettelijke rente (art. 6:119 BW)",
    "interest.commercial": "de wettelijke handelsrente (art. 6:119a BW)",
    "interest.period": "{kind} over de periode van {start} tot en met {end}",
    "interest.rate": " tegen {rate}% per jaar",
    "basis.scale": "berekend volgens de staffel van het " + _BIK,
    "basis.minimum": "het minimum volgens het " + _BIK,
    "basis.maximum": "het maximum volgens het " + _BIK,
    "basis.contract": "zoals overeengekomen in onze algemene voorwaarden",
    "basis.directive": (
        "het vaste minimum van de Europese richtlijn betalingsachterstand (2011/7/EU)"
    ),
    "basis.recurring_cap": (
        "begrensd volgens de wettelijke limiet voor kleine terugkerende vorderingen"
    ),
    "dossier.title": "Overdrachtsdossier {reference}",
    "dossier.prepared": "Opgemaakt op {day} door {creditor}",
    "dossier.creditor": "Schuldeiser",
    "dossier.debtor": "Debiteur",
    "dossier.kind.person": "particulier (consument)",
    "dossier.kind.business": "zakelijk",
    "dossier.claim": "Vordering",
    "dossier.invoices": "Facturen",
    "dossier.credit_notes": "Creditnota's",
    "dossier.total": "Totaal",
    "dossier.amount": "Bedrag",
    "dossier.fourteen_day": "Bewijs van de veertiendagenbrief",
    "dossier.sent_at": "Verzonden",
    "dossier.accepted_at": "Aangenomen door ontvangende server",
    "dossier.address": "Adres",
    "dossier.delivery": "Verzendwijze",
    "dossier.delivery.email": "e-mail",
    "dossier.delivery.post": "post",
    "dossier.received_on": "Geacht ontvangen op",
    "dossier.last_day": "Laatste dag van de termijn",
    "dossier.costs_from": "Incassokosten verschuldigd vanaf",
    "dossier.message_id": "Bericht-ID",
    "dossier.file": "Bestand",
    "dossier.letters": "Verzonden brieven",
    "dossier.actions": "Genomen acties",
    "dossier.when": "Moment",
    "dossier.step": "Stap",
    "dossier.channel": "Kanaal",
    "dossier.state": "Status",
    "dossier.recipient": "Ontvanger",
    "dossier.letter": "Brief",
    "dossier.none": "geen",
    "kind.reminder": "herinnering",
    "kind.demand": "ingebrekestelling",
    "kind.fourteen_day": "veertiendagenbrief",
}

EN: dict[str, str] = {
    "subject.reminder": "Payment reminder",
    "subject.demand": "Formal notice of default",
    "subject.fourteen_day": "Final notice: pay within 14 days without collection costs",
    "salutation.named": "Dear {name},",
    "salutation.anonymous": "Dear Sir or Madam,",
    "attention": "Attn. {name}",
    "label.date": "Date",
    "label.reference": "Our reference",
    "label.customer": "Customer number",
    "label.subject": "Subject",
    "table.invoice": "Invoice",
    "table.issue_date": "Invoice date",
    "table.due_date": "Due date",
    "table.open": "Open amount",
    "table.credit_note": "Credit note {number}",
    "sum.subtotal": "Subtotal",
    "sum.costs": "Extrajudicial collection costs",
    "sum.costs_vat": "of which VAT",
    "sum.interest": "Statutory interest",
    "sum.total": "Total to pay",
    "reminder.opening": (
        "According to our records we have not yet received payment for the "
        "items listed below, although the payment term has passed. Perhaps "
        "this escaped your attention."
    ),
    "reminder.request_by": (
        "Please pay the outstanding amount of {total} no later than {pay_by}."
    ),
    "reminder.request": (
        "Please pay the outstanding amount of {total} as soon as possible."
    ),
    "reminder.already_paid": (
        "If you have paid in the meantime, please disregard this reminder."
    ),
    "demand.opening": (
        "We have asked you before to pay the items listed below. To date we "
        "have not received payment in full."
    ),
    "demand.notice_by": (
        "We hereby give you formal notice of default. You have the opportunity "
        "to pay the total of {total} no later than {pay_by}."
    ),
    "demand.notice": (
        "We hereby give you formal notice of default. You have the opportunity "
        "to pay the total of {total} within eight days of the date of this "
        "letter."
    ),
    "demand.costs": (
        "Because you did not pay on time, we charge extrajudicial collection "
        "costs of {costs}{vat_note}{basis}."
    ),
    "demand.interest": (
        "In addition, you owe {interest_terms}, amounting to {interest}."
    ),
    "demand.consequence": (
        "If you do not pay within this term, we will take further steps to "
        "collect the claim without further notice."
    ),
    "fourteen_day.opening": (
        "Despite our earlier reminder we have not yet received payment for the "
        "items listed below. The amount you still owe us (the principal) is "
        "{principal}."
    ),
    "fourteen_day.interest": (
        "In addition, you owe {interest_terms}, amounting to {interest}."
    ),
    "fourteen_day.term": (
        "We give you the opportunity to pay the total of {total} within "
        "fourteen days, counting from the day after you received this letter."
    ),
    "fourteen_day.received": (
        "We assume that this letter reaches you on {received_on}. The last day "
        "to pay is then {last_day}."
    ),
    "fourteen_day.last_day": "The last day to pay is {last_day}.",
    "fourteen_day.in_time": (
        "If you pay the full amount on or before that day, we will not charge "
        "any collection costs."
    ),
    "fourteen_day.costs": (
        "If you do not pay within this term, you will owe extrajudicial "
        "collection costs of {costs}{vat_note} in addition to the principal"
        "{basis}."
    ),
    "vat_note": " (including {vat} VAT, which we cannot deduct)",
    "pay.transfer": (
        "Please transfer {total} to IBAN {iban}{bic} in the name of {creditor}, "
        "quoting {reference}."
    ),
    "pay.bic": " (BIC {bic})",
    "pay.contact": "Please contact us to arrange payment.",
    "pay.link": "You can also pay online right away:",
    "contact": (
        "If you have any questions, or do not agree with an invoice, please "
        "contact us at {contact}."
    ),
    "or": " or ",
    "closing.reminder": "Kind regards,",
    "closing.formal": "Yours sincerely,",
    "footer.coc": "CoC {number}",
    "footer.vat": "VAT {number}",
    "footer.page": "Page {page} of {pages}",
    "interest.consumer": "statutory interest (art. 6:119 Dutch Civil Code)",
    "interest.commercial": (
        "statutory commercial interest (art. 6:119a Dutch Civil Code)"
    ),
    "interest.period": "{kind} over the period from {start} up to and including {end}",
    "interest.rate": " at {rate}% a year",
    "basis.scale": (
        "calculated on the statutory scale of the Dutch Decree on "
        "extrajudicial collection costs (" + _BIK + ")"
    ),
    "basis.minimum": (
        "the minimum under the Dutch Decree on extrajudicial collection "
        "costs (" + _BIK + ")"
    ),
    "basis.maximum": (
        "the maximum under the Dutch Decree on extrajudicial collection "
        "costs (" + _BIK + ")"
    ),
    "basis.contract": "as agreed in our terms and conditions",
    "basis.directive": (
        "the fixed minimum of the EU Late Payment Directive (2011/7/EU)"
    ),
    "basis.recurring_cap": "capped by the statutory limit for small recurring claims",
    "dossier.title": "Handover dossier {reference}",
    "dossier.prepared": "Prepared on {day} by {creditor}",
    "dossier.creditor": "Creditor",
    "dossier.debtor": "Debtor",
    "dossier.kind.person": "private person (consumer)",
    "dossier.kind.business": "business",
    "dossier.claim": "Claim",
    "dossier.invoices": "Invoices",
    "dossier.credit_notes": "Credit notes",
    "dossier.total": "Total",
    "dossier.amount": "Amount",
    "dossier.fourteen_day": "Proof of the 14-day letter",
    "dossier.sent_at": "Sent",
    "dossier.accepted_at": "Accepted by the receiving server",
    "dossier.address": "Address",
    "dossier.delivery": "Delivery",
    "dossier.delivery.email": "email",
    "dossier.delivery.post": "post",
    "dossier.received_on": "Deemed received on",
    "dossier.last_day": "Last day of the term",
    "dossier.costs_from": "Collection costs due from",
    "dossier.message_id": "Message-ID",
    "dossier.file": "File",
    "dossier.letters": "Letters sent",
    "dossier.actions": "Actions taken",
    "dossier.when": "When",
    "dossier.step": "Step",
    "dossier.channel": "Channel",
    "dossier.state": "State",
    "dossier.recipient": "Recipient",
    "dossier.letter": "Letter",
    "dossier.none": "none",
    "kind.reminder": "reminder",
    "kind.demand": "formal notice of default",
    "kind.fourteen_day": "14-day letter",
}

TEXTS: dict[str, dict[str, str]] = {"nl": NL, "en": EN}

_BASIS_KEYS = {
    CostsBasis.SCALE: "basis.scale",
    CostsBasis.MINIMUM: "basis.minimum",
    CostsBasis.MAXIMUM: "basis.maximum",
    CostsBasis.CONTRACT_FIXED: "basis.contract",
    CostsBasis.CONTRACT_PERCENT: "basis.contract",
    CostsBasis.CONTRACT_RAISED_TO_MINIMUM: "basis.directive",
    CostsBasis.RECURRING_CAP: "basis.recurring_cap",
}


def text(language: str, key: str, **values: str) -> str:
    """The text `key` in `language`, with its placeholders filled."""
    return TEXTS[language][key].format(**values)


def costs_basis_text(basis: CostsBasis, language: str) -> str:
    """How the costs were computed, as a clause that follows the amount."""
    key = _BASIS_KEYS.get(basis)
    return "" if key is None else TEXTS[language][key]
