"""What every parents' page shares: the style sheet, the page head and the one-message page."""

from markupsafe import Markup

#: Inserted as it is (not escaped: its quotes must stay quotes), and allowed by its hash in the
#: pages' Content-Security-Policy (`bot.web.security`): any change here changes the hash with it.
STYLE = Markup("""
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#f4f5f7;color:#1f2329;font:17px/1.6 -apple-system,BlinkMacSystemFont,
"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",sans-serif}
main{max-width:640px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:12px;padding:16px;margin-bottom:12px}
.school{margin:0 0 4px;color:#646a73;font-size:15px}
h1{margin:0;font-size:21px;line-height:1.4}
.number{margin:4px 0 0;color:#646a73;font-size:15px}
p,li,.body,h1,h2{overflow-wrap:anywhere;word-break:break-word}
.body{white-space:pre-wrap;margin:12px 0}
.children{margin:12px 0 0;font-weight:600}
.deadline{color:#b54708}
.status{background:#e8f3ff;border-left:4px solid #3370ff;padding:10px 12px;border-radius:6px}
.status.warn{background:#fff4e5;border-color:#f79009}
.done{color:#067647;font-weight:600;font-size:19px;margin:0}
button{display:block;width:100%;min-height:52px;border:0;border-radius:10px;font-size:19px;
font-weight:600;color:#fff;background:#3370ff;cursor:pointer}
button.secondary{background:#fff;color:#3370ff;border:1px solid #3370ff;font-size:17px}
textarea{display:block;width:100%;min-height:120px;padding:10px;font:inherit;border:1px solid #c9cdd4;
border-radius:8px;margin:8px 0 12px;resize:vertical}
fieldset{border:0;padding:0;margin:8px 0}
label.child{display:block;padding:8px 0}
h2{font-size:18px;margin:0 0 4px}
.hint{color:#646a73;font-size:15px;margin:0}
""")

HEAD = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>{{ page_title }}</title>
<style>{{ style }}</style>
</head>
"""

MESSAGE = (
    HEAD
    + """<body>
<main>
<section class="card">
<h1>{{ heading }}</h1>
<p>{{ text }}</p>
</section>
</main>
</body>
</html>
"""
)
