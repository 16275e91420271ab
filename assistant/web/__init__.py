"""The Gradio page over `ReplyQA`: `app.build_app` / `app.serve` put it together from one
module per tab (`chat_tab`, `browse_tab`, `upload_tab`); `state` is what a session remembers,
`render` the HTML, `export` the Word/Markdown downloads, `auth` the login, and `static/` the
page's CSS and JavaScript.

Nothing is imported here, so that `render`, `export` and `auth` stay usable without loading
gradio.
"""
