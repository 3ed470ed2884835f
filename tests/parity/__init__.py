"""Reference values printed by qicharts2 and R survival, and the code that prints them."""
