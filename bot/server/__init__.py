"""What runs the Rasa server (not part of the trained model): its launcher and the event broker."""
