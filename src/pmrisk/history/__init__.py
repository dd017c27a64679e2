"""Learning from past projects: shared datasets and a user's own history (:mod:`pmrisk.history.datasets`),
estimation models and their evaluation."""
