"""The incident page parents open from a WeCom message: the school's short factual message and
one big 已知悉 button. Every word is passed in already translated; Jinja2 escapes every value
(`autoescape=True` in `bot.web.incident_page`)."""

from bot.web.templates.common import HEAD

PAGE = (
    HEAD
    + """<body>
<main>
<section class="card">
{% if school %}<p class="school">{{ school }}</p>{% endif %}
<h1>{{ title }}</h1>
<div class="body">{{ message }}</div>
</section>
{% if status %}<p class="status" role="status">{{ status }}</p>{% endif %}
<section class="card">
{% if acknowledged %}
<p class="done" id="acknowledged">{{ acknowledged }}</p>
{% else %}
<form method="post" action="{{ token }}/ack">
<button type="submit" id="ack">{{ ack_label }}</button>
</form>
{% endif %}
</section>
</main>
</body>
</html>
"""
)
