"""What a person does in the browser, shared by the browser tests."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect


def sign_in(page: Page, prefix: str = "new") -> str:
    """Sign in with a fresh nickname through the form; return the nickname."""
    nickname = prefix + uuid.uuid4().hex[:8]
    page.goto("/")
    page.click("#signin-link")
    page.fill("#nickname", nickname)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#who")).to_be_visible()
    return nickname


def type_code(page: Page, code: str) -> None:
    """Replace the editor's content with `code`, as typed."""
    editor = page.locator("#editor .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)
    expect(editor).to_contain_text(code.splitlines()[0].strip())
