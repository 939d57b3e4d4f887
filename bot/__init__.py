"""jiafang (家访): the entry point and wiring (settings, CLI, runner), the channel adapters,
delivery, the parents' web pages, bringing people in, and the exports."""
