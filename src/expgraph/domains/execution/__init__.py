"""Execution: evaluation configs claimed, heartbeated and toggled by workers;
experiment runs, their annotations, prompts and custom providers."""
