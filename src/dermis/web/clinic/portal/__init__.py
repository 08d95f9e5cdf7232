"""The patient portal: sign-in by one-time link, booking from the directory, intake and consent at
home, the plan, aftercare and check-ins, the forecast, and the patient's own data."""
