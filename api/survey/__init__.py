"""The customer's follow-up survey page: the page, its form and its words."""
