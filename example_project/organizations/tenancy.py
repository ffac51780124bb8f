def organizations_for_user(user):
    """SINCH_WHATSAPP["TENANT_RESOLVER"]: the organizations a user may act for."""
    return user.organizations.all()
