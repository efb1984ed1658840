from django_otp import devices_for_user


def user_has_second_factor(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))
