"""What resync_fsm serves itself: the health endpoints, the status document and page, the built-in app.

Loop-neutral ASGI code: it runs on whichever loop the backend serves the app on.
"""
