"""E-mails to families, built from the Jinja2 templates under templates/email/<name>/."""
