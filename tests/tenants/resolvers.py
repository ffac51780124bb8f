def organizations_for_user(user):
    return user.organizations.all()
