"""The visitor side of web chat: /widget/v1 and its socket (issue 19)."""
