"""The feedback page parents open from the receipt page's 意见反馈 link: one form (kind, what
it is about, the text, named or anonymous), and the answer after it was sent.

Every word is passed in already translated; Jinja2 escapes every value (`autoescape=True` in
`bot.web.pages`). The form posts back to the page's own signed address.
"""

from bot.web.templates.common import HEAD

PAGE = (
    HEAD
    + """<body>
<main>
<section class="card">
{% if school %}<p class="school">{{ school }}</p>{% endif %}
<h1>{{ heading }}</h1>
<p class="hint">{{ intro }}</p>
</section>
{% if status %}<p class="status warn" role="status">{{ status }}</p>{% endif %}
<section class="card">
<form method="post" action="{{ token }}">
<fieldset>
<legend>{{ kind_prompt }}</legend>
{% for choice in kinds %}
<label class="child"><input type="radio" name="kind" value="{{ choice.value }}" required{% if choice.checked %} checked{% endif %}> {{ choice.label }}</label>
{% endfor %}
</fieldset>
<fieldset>
<legend>{{ about_prompt }}</legend>
{% for choice in abouts %}
<label class="child"><input type="radio" name="about" value="{{ choice.value }}" required{% if choice.checked %} checked{% endif %}> {{ choice.label }}</label>
{% endfor %}
</fieldset>
<textarea name="text" maxlength="{{ limit }}" required aria-label="{{ text_prompt }}" placeholder="{{ text_prompt }}">{{ text }}</textarea>
<fieldset>
<legend>{{ signed_prompt }}</legend>
{% for choice in signed %}
<label class="child"><input type="radio" name="anonymous" value="{{ choice.value }}" required{% if choice.checked %} checked{% endif %}> {{ choice.label }}</label>
{% endfor %}
<p class="hint">{{ anonymous_hint }}</p>
</fieldset>
<button type="submit" id="send">{{ send_label }}</button>
</form>
</section>
</main>
</body>
</html>
"""
)

DONE = (
    HEAD
    + """<body>
<main>
<section class="card">
{% if school %}<p class="school">{{ school }}</p>{% endif %}
<h1>{{ heading }}</h1>
{% if code %}<p class="done" id="code">{{ code }}</p>{% endif %}
{% for line in lines %}<p>{{ line }}</p>{% endfor %}
</section>
</main>
</body>
</html>
"""
)
