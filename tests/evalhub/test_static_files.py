"""Every static file a template names exists: a renamed asset (plotly's strict bundle
replaced plotly.min.js) must not leave a page loading nothing."""

import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders

STATIC_TAG = re.compile(r"""{%\s*static\s+['"]([^'"]+)['"]\s*%}""")


def test_every_static_file_named_in_a_template_exists():
    named = {
        (template.relative_to(settings.BASE_DIR), name)
        for template in Path(settings.BASE_DIR, "templates").rglob("*.html")
        for name in STATIC_TAG.findall(template.read_text())
    }
    assert named
    missing = [(str(t), name) for t, name in sorted(named) if not finders.find(name)]
    assert missing == []
