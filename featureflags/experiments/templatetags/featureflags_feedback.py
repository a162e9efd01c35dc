"""``{% load featureflags_feedback %}{% feedback_form "new_checkout" %}``: a small feedback form."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("featureflags_experiments/feedback_form.html", takes_context=True)
def feedback_form(context, key: str, question: str = "How do you like it?") -> dict:
    """A rating (1-5) and a comment, posted to ``/api/experiments/<key>/feedback/`` with CSRF."""
    request = context.get("request")
    return {
        "key": key,
        "question": question,
        "next": request.get_full_path() if request is not None else "/",
        "csrf_token": context.get("csrf_token"),
        "ratings": range(1, 6),
    }
