import math
import time

from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

# Wrong current passwords on the change-password page, per person: this many within the
# window, then no more guesses until it ends. (The login lockout never sees these: the page
# checks the password itself, not through authenticate().)
PASSWORD_CHANGE_FAILURE_LIMIT = 5
PASSWORD_CHANGE_WINDOW_SECONDS = 15 * 60


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That email and password don’t match an account. Check both and try again."
        ),
        "inactive": "This account has been deactivated. Ask your company’s admin.",
    }


class LimitedPasswordChangeForm(PasswordChangeForm):
    """Django's form, with wrong current passwords counted per person: past
    ``PASSWORD_CHANGE_FAILURE_LIMIT`` in ``PASSWORD_CHANGE_WINDOW_SECONDS``, the current
    password is not even checked until the window ends, so a stolen session cannot guess
    it. A successful change forgets the count."""

    def _keys(self) -> tuple[str, str]:
        prefix = f"password-change-wrong:{self.user.pk}"
        return f"{prefix}:count", f"{prefix}:until"

    def clean_old_password(self):
        count_key, until_key = self._keys()
        if (cache.get(count_key) or 0) >= PASSWORD_CHANGE_FAILURE_LIMIT:
            left = (cache.get(until_key) or time.time()) - time.time()
            minutes = max(1, math.ceil(left / 60))
            raise ValidationError(
                f"Too many wrong passwords; try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}.",
                code="password_attempts",
            )
        try:
            return super().clean_old_password()
        except ValidationError:
            # The window starts at the first wrong password; both keys end with it.
            cache.add(
                until_key,
                time.time() + PASSWORD_CHANGE_WINDOW_SECONDS,
                PASSWORD_CHANGE_WINDOW_SECONDS,
            )
            cache.add(count_key, 0, PASSWORD_CHANGE_WINDOW_SECONDS)
            try:
                cache.incr(count_key)
            except ValueError:  # expired between add and incr: a new window
                cache.add(count_key, 1, PASSWORD_CHANGE_WINDOW_SECONDS)
            raise

    def save(self, commit=True):
        user = super().save(commit=commit)
        cache.delete_many(self._keys())
        return user
