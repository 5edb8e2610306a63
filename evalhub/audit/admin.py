"""Edits are events of the team's audit log: see evalhub.teams.admin."""
