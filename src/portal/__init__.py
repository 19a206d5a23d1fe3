"""Portail Famille: the family portal of French collectivités."""
