"""The judge: sandbox, languages, validators and verdicts. No web dependencies."""
