"""The follow-up survey's questions (seed 003): what a customer scores, 1 to 5 each."""

SURVEY_QUESTIONS = ("timeliness", "completeness", "courtesy")
