"""Banking support chatbot: settings, composition root, chat pipeline and SQL log."""
