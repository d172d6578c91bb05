"""Edge maps for the sketch channel (HED, Canny)."""
