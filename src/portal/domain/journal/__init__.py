"""The journal: audit entries in French words, per structure and for administrators."""
