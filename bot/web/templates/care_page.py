"""The care page parents open from the receipt page's 关爱室求助 link: one form (which child,
what they want help with), and the answer after it was sent.

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
{% if children %}
<fieldset>
<legend>{{ child_prompt }}</legend>
{% for choice in children %}
<label class="child"><input type="radio" name="child" value="{{ choice.value }}" required{% if choice.checked %} checked{% endif %}> {{ choice.label }}</label>
{% endfor %}
</fieldset>
{% else %}
<p class="children" id="child">{{ only_child }}</p>
{% endif %}
<textarea name="text" maxlength="{{ limit }}" required aria-label="{{ text_prompt }}" placeholder="{{ text_prompt }}">{{ text }}</textarea>
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
