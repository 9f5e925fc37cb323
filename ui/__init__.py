"""Gradio web app: customer chat, reviewer queue, engineer dashboard."""
