"""The receipt page parents open from a WeCom school notice: one small mobile page.

Every word on it is passed in already translated (`handlers.i18n`); the templates hold markup
only. Jinja2 escapes every value (`autoescape=True` in `bot.web.receipt_page`).
"""

from bot.web.templates.common import HEAD

PAGE = (
    HEAD
    + """<body>
<main>
<section class="card">
{% if school %}<p class="school">{{ school }}</p>{% endif %}
<h1>{{ title }}</h1>
{% if number %}<p class="number">{{ number }}</p>{% endif %}
<p class="children">{{ children_line }}</p>
<div class="body">{{ body }}</div>
{% if files %}<p class="hint">{{ files_heading }}</p><ul>{% for file in files %}<li><a href="{{ file.url }}" download>{{ file.name }}</a></li>{% endfor %}</ul>{% endif %}
{% if attachments %}<p class="hint">{{ attachments }}</p>{% endif %}
{% if deadline %}<p class="deadline">{{ deadline }}</p>{% endif %}
</section>
{% if status %}<p class="status{% if status_warn %} warn{% endif %}" role="status">{{ status }}</p>{% endif %}
{% if receipt_required %}
<section class="card">
{% if confirmed %}
<p class="done" id="confirmed">{{ confirmed }}</p>
{% endif %}
{% if answers %}
{% for answer in answers %}<form method="post" action="{{ token }}/{{ answer.action }}">
<button type="submit" id="{{ answer.action }}"{% if answer.secondary %} class="secondary"{% endif %}>{{ answer.label }}</button>
</form>
{% endfor %}
{% elif not confirmed %}
<form method="post" action="{{ token }}/confirm">
<button type="submit" id="confirm">{{ confirm_label }}</button>
</form>
{% endif %}
</section>
{% endif %}
{% if question %}
<section class="card">
<h2>{{ question.heading }}</h2>
<p class="hint">{{ question.hint }}</p>
<form method="post" action="{{ token }}/question">
{% if question.children %}
<fieldset>
<legend>{{ question.child_prompt }}</legend>
{% for child in question.children %}
<label class="child"><input type="radio" name="child" value="{{ child.value }}" required> {{ child.label }}</label>
{% endfor %}
</fieldset>
{% endif %}
<textarea name="text" maxlength="{{ question.limit }}" required aria-label="{{ question.heading }}"></textarea>
<button type="submit" class="secondary" id="ask">{{ question.send_label }}</button>
</form>
</section>
{% endif %}
<section class="card">
<p class="hint">{{ feedback_hint }}</p>
<p><a href="{{ feedback_url }}" id="feedback">{{ feedback_label }}</a></p>
<p class="hint">{{ care_hint }}</p>
<p><a href="{{ care_url }}" id="care">{{ care_label }}</a></p>
</section>
</main>
</body>
</html>
"""
)

#: Shown instead of the notice while the family has not agreed to the consent wording
#: (`handlers.privacy.consent`): its paragraphs and a 同意 form.
CONSENT_PAGE = (
    HEAD
    + """<body>
<main>
<section class="card">
{% if school %}<p class="school">{{ school }}</p>{% endif %}
<h1>{{ heading }}</h1>
{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>
{% endfor %}
<form method="post" action="{{ token }}/consent">
<button type="submit" id="agree">{{ agree_label }}</button>
</form>
</section>
</main>
</body>
</html>
"""
)
