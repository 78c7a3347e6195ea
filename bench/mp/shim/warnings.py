# micropython-hmac imports warnings (micropython-lib's micropython-warnings,
# absent from the firmware); it only warns on paths the bench does not take.
def warn(msg, cat=None, stacklevel=1):
    print("warning:", msg)
