"""A citizen's "no more mail about this report" (the link and the List-Unsubscribe header of
every mail to a reporter or supporter). GET shows a confirmation page, so a link scanner
unsubscribes nobody; POST unsubscribes, also the one-click POST of RFC 8058 that mail programs
send without a CSRF token (the signed token is the proof). The rules are incidents.notices'."""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from incidents.models import Report
from incidents.notices import read_unsubscribe_token, unsubscribe

ONE_CLICK = "List-Unsubscribe=One-Click"  # the body a mail program posts (RFC 8058)


@csrf_exempt
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    try:
        if request.method == "POST":
            everywhere = request.POST.get("scope") == "all"
            report = unsubscribe(token, everywhere=everywhere,
                                 one_click=request.POST.get("List-Unsubscribe") == "One-Click")
            return render(request, "citizen/unsubscribe/done.html", {"report": report, "everywhere": everywhere})
        report, _key = read_unsubscribe_token(token)
    except (signing.BadSignature, Report.DoesNotExist):
        return render(request, "citizen/unsubscribe/gone.html", status=404)
    return render(request, "citizen/unsubscribe/confirm.html", {"report": report})
