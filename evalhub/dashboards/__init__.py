"""Researcher dashboards: study results and the global leaderboard, from evalhub.stats."""
