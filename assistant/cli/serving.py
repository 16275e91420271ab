"""`replyqa serve`: the page, on 127.0.0.1 unless told otherwise, with a login when users are
configured — and a warning when it is opened to other machines without one.
"""

from __future__ import annotations

import argparse

from assistant.cli.common import error, settings_of

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def cmd_serve(args: argparse.Namespace) -> int:
    from index.embedding.split import open_embedder
    from index.embedding.worker import EmbeddingWorker

    settings = settings_of(args)
    # Questions are embedded in this process without torch; documents (uploads, corrections)
    # by torch in a process of its own, started on the first of them. For a model the light
    # encoder does not compute, that process starts here and loads while this one imports
    # gradio and reads the index: the page's start is then the longer of the two. The model's
    # process is given back after `embed_worker_idle_s` without documents.
    embedder = open_embedder(settings, documents=EmbeddingWorker,
                             idle_release_s=settings.embed_worker_idle_s or None)
    try:
        from assistant.service import ReplyQA
        from assistant.web.gradio_stubs import skip_stub_writing

        skip_stub_writing()
        from assistant.web.app import serve
        from assistant.web.auth import AuthConfigError, users_from_settings

        host, port = args.host or settings.host, args.port or settings.port
        try:
            users = users_from_settings(settings)
        except AuthConfigError as exc:
            return error(str(exc))
        app = ReplyQA.open(settings, embedder=embedder)
    except BaseException:
        embedder.close()
        raise
    try:
        try:
            demo = serve(app, host, port, users=users, prevent_thread_lock=True, quiet=True)
        except OSError as exc:
            return error(f"无法在 {host}:{port} 上启动网页（{exc}）。可用 --port 换一个端口。")
        shown = f"[{host}]" if ":" in host else host
        print(f"答复问答助手已启动：http://{shown}:{port}/ （按 Ctrl+C 停止）", flush=True)
        if host not in LOCAL_HOSTS:
            print("注意：页面对其他机器开放，" + ("已启用登录。" if users else
                  "但未设置登录（REPLYQA_AUTH_USERS 或 REPLYQA_AUTH_FILE），任何能访问本机的人都可使用。"), flush=True)
        demo.block_thread()
    finally:
        app.close()
    return 0
