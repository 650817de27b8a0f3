"""Drives the browser's kernel side as its front end would: messages, trait changes, dialog answers."""


class User:
    """Answers the widget's dialogs as they appear: each answer is (button, value, apply_all).

    It watches the ``dialog`` trait, so an answer is given in the very moment the dialog is shown
    (the job thread that asked then finds it waiting): no polling, no threads of its own.
    """

    def __init__(self, browser, *answers):
        self.browser, self.answers, self.seen = browser, list(answers), []
        browser.observe(self._on_dialog, names="dialog")

    def _on_dialog(self, change):
        dialog = change["new"]
        if dialog.get("id") and self.answers:
            self.seen.append(dialog)
            button, value, apply_all = self.answers.pop(0)
            self.browser._answer({"id": dialog["id"], "button": button, "value": value, "apply_all": apply_all})

    def stop(self):
        self.browser.unobserve(self._on_dialog, names="dialog")


def press(browser, action, pane="left", **extra):
    browser._on_message(browser, {"action": action, "pane": pane, **extra}, [])
    browser.wait()


def focus(browser, side, name, selection=()):
    """What the front end sends on arrow keys and Space: one ``state`` message."""
    listing = browser.pane(side).listing
    browser._on_message(browser, {"action": "state", "pane": side,
                                  "state": {"focus": name, "selection": list(selection), "listing": listing}}, [])


def opened(browser, side, name):
    """Focus ``name`` and press Enter: its preview (a file) or its listing (a folder)."""
    focus(browser, side, name)
    press(browser, "open", side)
    return browser.preview


def names(pane):
    return sorted(r.name for r in pane.rows)
