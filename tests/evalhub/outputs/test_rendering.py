from evalhub.outputs.rendering import render_untrusted_markdown


def test_it_keeps_code_blocks_readable():
    html = render_untrusted_markdown("```python\nprint('<hi>')\n```")
    assert '<pre><code class="language-python">' in html
    assert "print('&lt;hi&gt;')" in html


def test_it_neutralises_scripts_event_handlers_and_javascript_links():
    html = render_untrusted_markdown(
        '<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n[click](javascript:alert(3))'
    )
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as text, not run


def test_it_does_not_load_remote_images():
    html = render_untrusted_markdown("![tracker](https://example.com/pixel.png)")
    assert "<img" not in html


def test_links_are_marked_noopener():
    html = render_untrusted_markdown("[docs](https://example.com)")
    assert 'rel="noopener noreferrer nofollow"' in html
