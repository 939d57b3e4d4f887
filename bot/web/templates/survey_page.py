"""The survey page a family on WeCom opens from the school's survey message: the whole form at
once, the saved answers filled in, and the answer after it was submitted.

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
{% for line in intro %}<p class="hint">{{ line }}</p>{% endfor %}
</section>
{% if status %}<p class="status warn" role="status">{{ status }}</p>{% endif %}
<section class="card">
<form method="post" action="{{ token }}">
{% for question in questions %}
<fieldset id="q{{ question.id }}">
<legend>{{ question.legend }}</legend>
{% if question.text %}
<textarea name="q{{ question.id }}" maxlength="{{ limit }}"{% if question.required %} required{% endif %} aria-label="{{ question.legend }}">{{ question.value }}</textarea>
{% else %}
{% for choice in question.choices %}
<label class="child"><input type="radio" name="q{{ question.id }}" value="{{ choice.value }}"{% if question.required %} required{% endif %}{% if choice.checked %} checked{% endif %}> {{ choice.label }}</label>
{% endfor %}
{% endif %}
</fieldset>
{% endfor %}
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
{% for line in lines %}<p>{{ line }}</p>{% endfor %}
</section>
</main>
</body>
</html>
"""
)
