"""Reply templates in a real browser: the status form offers the templates of the status
chosen; the text is written in the citizen's language and follows the language switch."""

from playwright.sync_api import expect

from incidents.models import ResponseTemplate
from tests.console.test_browser import city, pothole, sign_in  # noqa: F401 (city is a fixture)


def test_a_template_follows_the_language_switch(city, page, live_server, screenshot):  # noqa: F811
    english = pothole(105.7205, 10.0205, "Pothole by the school")
    type(english).objects.filter(pk=english.pk).update(language="en")
    ResponseTemplate.objects.create(title="Cảm ơn", title_en="Thanks", body_vi="Cảm ơn bạn về {public_id}.",
                                    body_en="Thank you for {public_id}.")
    sign_in(page, live_server, "agent")
    page.goto(f"{live_server.url}/console/r/{english.public_id}/")
    expect(page.locator("input[name=reply_lang][value=en]")).to_be_checked()
    page.select_option("#reply-template", label="Cảm ơn")
    expect(page.locator("#reply-message")).to_have_value(f"Thank you for {english.public_id}.")
    page.check("input[name=reply_lang][value=vi]")
    expect(page.locator("#reply-message")).to_have_value(f"Cảm ơn bạn về {english.public_id}.")
    screenshot("console-reply-in-the-citizens-language")


def test_the_status_form_offers_the_templates_of_the_status_chosen(city, page, live_server):  # noqa: F811
    sign_in(page, live_server, "agent")
    page.goto(f"{live_server.url}/console/r/{city.fresh.public_id}/")
    page.select_option("#status", "resolved")
    options = page.locator("#status-template option:not([disabled])")
    expect(options).to_have_text(["—", "Đã khắc phục"])
    page.select_option("#status", "acknowledged")
    expect(options).to_have_text(["—", "Đã tiếp nhận"])
