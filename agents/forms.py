from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That email and password don’t match an account. Check both and try again."
        ),
        "inactive": "This account has been deactivated. Ask your company’s admin.",
    }
