"""nfcourse: the small PyTorch library behind the course on normalizing flows."""
