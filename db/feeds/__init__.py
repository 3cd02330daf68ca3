"""What carriers pushed (issue 19 §1): each carrier event, where it went and how it ended."""
